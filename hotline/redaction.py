"""What leaves the hotline about a person: the one redaction step (举报人保密).

Every event payload shown outside the hotline's own staff — a department's API and page,
its webhook, the public — goes through `redact_data` / `redact_actor`. Staff see the
history as stored; the audit trail itself is never rewritten.

The rule: a confidential order (举报) never carries who reported it, in any event, however
the field got there (an agent's 修改工单 of `contact_name`, a caller block, a sender). The
public never sees a person's identity on any order.

    >>> redact_data({"changes": {"contact_name": "李四", "title": "偷排"}}, confidential=True,
    ...             audience=Audience.DEPARTMENT)
    {'changes': {'title': '偷排'}}
    >>> redact_data({"changes": {"contact_name": "李四"}}, confidential=False, audience=Audience.DEPARTMENT)
    {'changes': {'contact_name': '李四'}}
"""

from __future__ import annotations

import mimetypes
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hotline.masking import mask

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

HIDDEN = "（保密）"

# Keys that name, reach or locate the person who contacted the hotline, wherever they
# appear in an event's data (at any depth: `changes`, a `caller` block ...).
PERSON_FIELDS = frozenset({
    "contact_name", "contact_phone", "citizen", "citizen_id", "caller", "sender", "sender_name", "sender_kind",
    "phone", "mobile", "name", "openid", "wechat_openid", "app_user", "id_card", "id_number",
    "citizen_address", "home_address", "reporter", "reporter_address", "email",
})


class Audience(StrEnum):
    STAFF = "staff"            # agents, supervisors, admins of the hotline: the record as kept
    DEPARTMENT = "department"  # a department's API, page and webhook
    PUBLIC = "public"          # Open311, the portal, disclosure pages


def hides_person(*, confidential: bool, audience: Audience) -> bool:
    """Whether this audience may not learn who the citizen is."""
    return audience is Audience.PUBLIC or (audience is Audience.DEPARTMENT and confidential)


def redact_data(data: Mapping[str, Any] | None, *, confidential: bool, audience: Audience) -> dict[str, Any]:
    """An event's data as `audience` may see it: person fields dropped where they must be."""
    if not data:
        return {}
    if not hides_person(confidential=confidential, audience=audience):
        return dict(data)
    return _drop(data)


def _drop(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop(v) for k, v in value.items() if k not in PERSON_FIELDS}
    if isinstance(value, list):
        return [_drop(v) for v in value]
    return value


def redact_actor(actor_kind: str, actor_id: str | None, actor_name: str | None, *, confidential: bool,
                 audience: Audience) -> tuple[str | None, str | None]:
    """(actor_id, actor_name) of an event: a citizen actor is a phone number or an openid."""
    if actor_kind == "citizen" and hides_person(confidential=confidential, audience=audience):
        return None, HIDDEN
    return actor_id, actor_name


def redact_text(text: str, *, confidential: bool, audience: Audience, names: Iterable[str | None] = ()) -> str:
    """Free text (a description, a contact's words, a reply) with the writer's own name,
    numbers and door masked where this audience may not learn who wrote it; `names` are the
    citizen's names on record. What the report is about stays readable."""
    return mask(text, names) if hides_person(confidential=confidential, audience=audience) else text


def citizen_block(name: str | None, phone: str | None, *, confidential: bool,
                  audience: Audience) -> dict[str, str | None] | None:
    """The order's citizen as `audience` may see it, or None."""
    if hides_person(confidential=confidential, audience=audience):
        return None
    return {"name": name, "phone": phone}


def attachment_name(attachment_id: int, filename: str, content_type: str, *, from_citizen: bool,
                    audience: Audience) -> str:
    """The name a file is shown under. A citizen's own file name (`IMG_李举报.jpg`) may name
    them, so outside the hotline a citizen's file is `附件-<id>.<ext>`; a department's own
    upload keeps its name."""
    if audience is Audience.STAFF or not from_citizen:
        return filename
    ext = mimetypes.guess_extension(content_type.split(";", maxsplit=1)[0].strip()) or ""
    return f"附件-{attachment_id}{ext}"
