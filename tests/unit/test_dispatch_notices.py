"""Who is told what when an order changes; what a webhook body looks like."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from dispatch.notices import department_notices, order_payload
from dispatch.webhooks import body_of, sign, verify
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind, Status

if TYPE_CHECKING:
    from dispatch import notices

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
AGENT = wo.Actor(ActorKind.AGENT, "1", "话务员")
DEPT = wo.Actor(ActorKind.DEPARTMENT, "qingxi", "青溪镇")


def apply(state: wo.OrderState, command: wo.Command) -> tuple[wo.OrderState, list[notices.Notice]]:
    after, event = wo.transition(state, command, NOW)
    return after, department_notices(state, after, event)


def test_dispatch_redispatch_sub_dispatch_and_merge() -> None:
    s = wo.OrderState(Status.REGISTERED)
    s, out = apply(s, wo.Dispatch(AGENT, wo.Plan("qingxi"), (wo.Plan("scjgj"),), reason="规则"))
    assert [(n.department, n.event, n.assignment) for n in out] == [
        ("qingxi", "workorder.dispatched", 0), ("scjgj", "workorder.dispatched", 1)]
    assert out[0].data == {"reason": "规则"}
    s, out = apply(s, wo.SignFor(DEPT, "qingxi"))
    assert out == []  # a department is not told what it did itself
    s, out = apply(s, wo.SubDispatch(DEPT, "qingxi", wo.Plan("taoyuan"), "qingxi"))
    assert [(n.department, n.event) for n in out] == [("taoyuan", "workorder.dispatched")]
    s, out = apply(s, wo.AppendContact(wo.SYSTEM, 7, "sms"))
    assert {n.department for n in out} == {"qingxi", "scjgj", "taoyuan"}
    assert all(n.event == "workorder.updated" and n.data["what"] == "contact_appended" for n in out)
    s, out = apply(s, wo.Merge(AGENT, "20261126000001"))
    assert sorted((n.department, n.event) for n in out) == [
        ("qingxi", "workorder.recalled"), ("scjgj", "workorder.recalled"), ("taoyuan", "workorder.recalled")]
    assert out[0].data == {"because": "merged", "into": "20261126000001"}


def test_return_refused_and_redispatch_to_the_same_department_says_dispatched_once() -> None:
    s = wo.OrderState(Status.REGISTERED)
    s, _ = apply(s, wo.Dispatch(AGENT, wo.Plan("jtj")))
    s, out = apply(s, wo.ReturnOrder(wo.Actor(ActorKind.DEPARTMENT, "jtj"), "jtj", "不属于本局"))
    assert out == []
    s, out = apply(s, wo.ReviewReturn(AGENT, False, "属于交通运输局职责"))
    assert [(n.department, n.event, n.data) for n in out] == [
        ("jtj", "workorder.return_refused", {"note": "属于交通运输局职责"})]
    s = wo.OrderState(Status.REOPENED, s.assignments)
    s, out = apply(s, wo.Dispatch(AGENT, wo.Plan("jtj")))
    assert [(n.department, n.event) for n in out] == [("jtj", "workorder.dispatched")]


def _order(confidential: bool) -> SimpleNamespace:
    return SimpleNamespace(number="20261126000001", status="dispatched", version=2, channel="phone", title="偷排",
                           description="夜间偷排", category="report", subject=None, area="qingxi", address="x",
                           latitude=None, longitude=None, urgency="normal", confidential=confidential,
                           legacy_line=None, created_at=NOW, contact_name="王先生", contact_phone="13800138000")


def test_payload_never_carries_a_confidential_reporter() -> None:
    assert order_payload(_order(True), None, public_url=None)["citizen"] is None  # type: ignore[arg-type]
    open_ = order_payload(_order(False), None, public_url="https://12345.example.gov.cn/")  # type: ignore[arg-type]
    assert open_["citizen"] == {"name": "王先生", "phone": "13800138000"}
    assert open_["url"] == "https://12345.example.gov.cn/api/v1/department/orders/20261126000001"


def test_body_is_the_same_bytes_on_every_attempt_and_the_signature_covers_the_timestamp() -> None:
    msg = SimpleNamespace(delivery_id="d-1", event="workorder.dispatched", payload={"b": 1, "a": "青溪"})
    body = body_of(msg)  # type: ignore[arg-type]
    assert body == body_of(msg) == '{"a":"青溪","b":1,"event":"workorder.dispatched","id":"d-1"}'.encode()
    assert json.loads(body)["id"] == "d-1"
    sig = sign("secret", "1795665600", body)
    assert verify("secret", "1795665600", body, sig, now=1795665600)
    assert not verify("secret", "1795665601", body, sig, now=1795665600)  # another timestamp
    assert not verify("other", "1795665600", body, sig, now=1795665600)  # another secret
    assert not verify("secret", "1795665600", body, sig, now=1795665600 + 301)  # too old: a replay
    assert not verify("secret", "not-a-number", body, sig, now=1795665600)
