"""What the hotline says to citizens on the written channels, Chinese first.

Kept short: an SMS segment in Chinese holds 70 characters, and a WeChat passive reply
is read on a phone.
"""

from __future__ import annotations

from hotline.domain.vocabulary import SATISFACTION, STATUS_NAMES, Status


def _name(h_name: str) -> str:
    return h_name or "12345热线"


def accepted(hotline_name: str, number: str) -> str:
    return (f"【{_name(hotline_name)}】您的诉求已受理，工单号 {number}。"
            f"回复“查询”可查看办理进度，回复“补充：内容”可补充说明。")


def appended(hotline_name: str, number: str) -> str:
    return f"【{_name(hotline_name)}】已将您的补充内容加入工单 {number}。"


def dispatched(hotline_name: str, number: str, department: str) -> str:
    return f"【{_name(hotline_name)}】您的工单 {number} 已转交{department}办理，请耐心等待。"


def replied(hotline_name: str, number: str, result: str) -> str:
    short = result if len(result) <= 120 else result[:120] + "…"
    return f"【{_name(hotline_name)}】您的工单 {number} 已办结：{short}"


def rate_request(hotline_name: str, number: str, link: str | None = None) -> str:
    text = (f"【{_name(hotline_name)}】请对工单 {number} 的办理结果评价：回复 5 非常满意、4 满意、"
            f"3 基本满意、2 不满意、1 非常不满意。")
    return text + (f"或点击 {link} 评价。" if link else "")


def reopened(hotline_name: str, number: str) -> str:
    return (f"【{_name(hotline_name)}】很抱歉未能让您满意，工单 {number} 将重新办理（重办），"
            f"办结后我们会再次回访您。")


def rated(number: str, level: int) -> str:
    return f"感谢您的评价（{SATISFACTION[level][0]}），工单 {number} 已记录。"


def nothing_to_rate() -> str:
    return "您目前没有待评价的工单。如有新的诉求，请直接发送内容。"


def status_line(number: str, status: str, department: str | None) -> str:
    try:
        name = STATUS_NAMES[Status(status)][0]
    except ValueError:
        name = status
    return f"工单 {number}：{name}" + (f"（{department}）" if department else "")


def no_orders() -> str:
    return "未查到您的工单。如有诉求，请直接发送内容，我们将立即受理。"


def opted_out(hotline_name: str) -> str:
    return f"【{_name(hotline_name)}】您已退订工单短信通知，回复“订阅”可恢复。"


def opted_in(hotline_name: str) -> str:
    return f"【{_name(hotline_name)}】您已恢复接收工单短信通知。"


def welcome(hotline_name: str) -> str:
    return (f"欢迎关注{_name(hotline_name)}！直接发送文字、图片、语音或位置即可反映诉求，"
            f"我们将立即受理并回复工单号。回复“查询”查看办理进度。")


def unsupported() -> str:
    return "暂不支持此类消息，请发送文字、图片、语音或位置。"


def fax_receipt(hotline_name: str, number: str) -> str:
    return f"【{_name(hotline_name)}】您的传真已收到并受理，工单号 {number}。"
