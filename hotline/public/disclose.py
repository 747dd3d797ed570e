"""What may be published of a closed order (政务公开), and how: pure, no I/O.

`draft(case)` turns an order's facts into the text the public reads — the question, the
department, the answer, the dates, the rating — every free text masked by
`hotline.masking.mask` with the citizen's names on record, the address cut to road level by
`coarse_address`; or it says why the order may not be published. A confidential report
(举报) is never publishable, whoever asks and whatever a rule says. The supervisor's preview
and the publication are the same `Draft`, so what was previewed is what is published
(`digest` ties the two).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from hotline.domain.vocabulary import Status
from hotline.masking import coarse_address, mask, names_in

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["CaseFacts", "Draft", "Refusal", "draft"]


@dataclass(frozen=True)
class CaseFacts:
    """An order as disclosure needs it (read from the stored rows by the service)."""

    number: str
    status: str
    confidential: bool
    title: str
    description: str
    category: str | None
    subject: str | None
    address: str | None
    lead_department: str | None
    created_at: datetime
    closed_at: datetime | None
    rating: int | None
    # The answer: the lead department's reply (办理结果) or the agent's direct answer (直接办结).
    answers: tuple[str, ...] = ()
    # The citizen's names on record (the order's contact, the citizen row): masked wherever they appear.
    names: tuple[str | None, ...] = field(default=())


@dataclass(frozen=True)
class Draft:
    number: str
    title: str
    question: str
    answer: str
    department: str | None
    category: str | None
    subject: str | None
    location: str | None
    asked_at: datetime
    closed_at: datetime
    rating: int | None

    def digest(self) -> str:
        """A short fingerprint of the text, shown with the preview and sent back to publish."""
        body = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Refusal:
    code: str  # confidential | not_closed | no_answer
    zh: str
    en: str


CONFIDENTIAL = Refusal("confidential", "举报类保密工单不得公开", "A confidential report is never published")
NOT_CLOSED = Refusal("not_closed", "只有已办结归档的工单可以公开", "Only closed orders can be published")
NO_ANSWER = Refusal("no_answer", "工单没有办理结果，无法公开", "The order has no answer to publish")


def draft(case: CaseFacts) -> Draft | Refusal:
    """The public text of `case`, or why there is none."""
    if case.confidential:
        return CONFIDENTIAL
    if case.status != Status.CLOSED.value or case.closed_at is None:
        return NOT_CLOSED
    answer = "\n".join(a.strip() for a in case.answers if a and a.strip())
    if not answer:
        return NO_ANSWER
    # A name the citizen wrote in one text ("我是李四") is masked in every text ("已联系李四").
    names = [n for n in case.names if n] + [n for t in (case.title, case.description, answer) for n in names_in(t)]
    question = mask(case.description or case.title, names)
    return Draft(number=case.number, title=_title(case.title, case.description, question, names), question=question,
                 answer=mask(answer, names), department=case.lead_department, category=case.category,
                 subject=case.subject, location=mask(coarse_address(case.address) or "", names) or None,
                 asked_at=case.created_at, closed_at=case.closed_at, rating=case.rating)


def _title(title: str, description: str, question: str, names: list[str]) -> str:
    """A title cut from the description (intake's default) is cut again from the masked
    question: cut first, a phone number is left as a stub the masking no longer sees."""
    stem = title.rstrip("…. ")
    if stem and description.startswith(stem):
        return question[:len(stem)] + ("…" if len(question) > len(stem) else "")
    return mask(title, names)
