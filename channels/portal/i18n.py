"""The portal's words, Chinese first; `?lang=en` (or the language cookie) switches."""

from __future__ import annotations

ZH = {
    "title": "网上诉求", "submit_tab": "我要反映", "status_tab": "进度查询", "lang_switch": "English",
    "intro": "请如实填写诉求，提交后立即生成工单号。紧急情况请拨打 110/119/120。",
    "category": "诉求类型", "subject": "诉求分类", "area": "所在区域", "address": "详细地址",
    "text": "诉求内容", "text_hint": "请写明时间、地点、事情经过和您的诉求",
    "photos": "照片（可选）", "photos_hint": "最多 {n} 张，每张不超过 {mb} MB，支持 JPG/PNG/WebP/GIF",
    "name": "姓名（可选）", "phone": "手机号（可选，用于接收短信和查询进度）",
    "confidential": "我是举报人，请对承办部门保密我的身份", "choose": "请选择", "send": "提交诉求",
    "done_title": "提交成功", "done_number": "您的工单号", "done_keep": "请记下工单号，凭工单号和手机号后四位查询办理进度。",
    "done_nophone": "您未留手机号，如需查询进度请致电 12345。",
    "lookup_title": "查询办理进度", "number": "工单号", "last4": "手机号后四位", "lookup": "查询",
    "not_found": "未找到该工单，或手机号后四位不符。", "status": "当前状态", "department": "承办单位",
    "history": "办理记录", "rate_title": "对办理结果评价", "rate": "提交评价", "comment": "意见（可选）",
    "rated": "感谢您的评价！", "your_rating": "您的评价",
    "redispatched": "很抱歉未能让您满意。您的工单已重新交承办单位办理（重办），办结后我们会再次回访。",
    "to_supervisor": "很抱歉未能让您满意。您的工单已提交热线督办人员研判处理，我们会尽快答复您。",
    "err_csrf": "页面已过期，请刷新后重新提交。", "err_rate": "提交过于频繁，请稍后再试。",
    "err_text": "请填写诉求内容（最多 {n} 字）。", "err_phone": "手机号格式不正确。",
    "err_photo_type": "照片 {name} 不是支持的图片格式。", "err_photo_size": "照片 {name} 超过 {mb} MB。",
    "err_photo_count": "照片最多 {n} 张。", "err_choice": "{field}的选项无效。", "err_too_large": "上传内容过大。",
    "back": "返回", "footer": "本平台受理非紧急类政务服务诉求",
}
EN = {
    "title": "Online request", "submit_tab": "Report", "status_tab": "Track", "lang_switch": "中文",
    "intro": "Describe your request; you get a work-order number at once. Emergencies: call 110/119/120.",
    "category": "Type", "subject": "Topic", "area": "Area", "address": "Address",
    "text": "Your request", "text_hint": "When, where, what happened and what you ask for",
    "photos": "Photos (optional)", "photos_hint": "Up to {n}, {mb} MB each; JPG/PNG/WebP/GIF",
    "name": "Name (optional)", "phone": "Mobile number (optional: SMS updates and tracking)",
    "confidential": "I am reporting a violation: keep my identity from the department", "choose": "Choose",
    "send": "Submit", "done_title": "Received", "done_number": "Your work-order number",
    "done_keep": "Keep this number; track it with the last 4 digits of your phone number.",
    "done_nophone": "You left no phone number; call 12345 to ask about progress.",
    "lookup_title": "Track a request", "number": "Work-order number", "last4": "Last 4 digits of your phone",
    "lookup": "Track", "not_found": "No such order, or the phone digits do not match.", "status": "Status",
    "department": "Handled by", "history": "History", "rate_title": "Rate the result", "rate": "Send rating",
    "comment": "Comment (optional)", "rated": "Thank you for your rating!", "your_rating": "Your rating",
    "redispatched": "We are sorry the result did not satisfy you. The order goes back to the department to be "
                    "handled again; we will follow up with you afterwards.",
    "to_supervisor": "We are sorry the result did not satisfy you. A hotline supervisor will decide how it is "
                     "handled and tell you.",
    "err_csrf": "The page has expired; reload it and submit again.", "err_rate": "Too many requests; try later.",
    "err_text": "Please describe your request (at most {n} characters).", "err_phone": "Invalid phone number.",
    "err_photo_type": "{name} is not a supported image.", "err_photo_size": "{name} is larger than {mb} MB.",
    "err_photo_count": "At most {n} photos.", "err_choice": "Invalid choice for {field}.",
    "err_too_large": "The upload is too large.", "back": "Back",
    "footer": "For non-emergency government service requests",
}
WORDS = {"zh": ZH, "en": EN}
