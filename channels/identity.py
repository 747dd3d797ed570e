"""Citizen identities as the channels see them, in one canonical form.

One person writes by SMS as ``+8613800138000``, calls as ``13800138000`` and types
``138 0013 8000`` into the portal; all three must name the same `Identity`, or the
citizen's timeline splits. Mainland numbers are kept in national form, others in E.164.

>>> normalise_phone("+86 138-0013-8000"), normalise_phone("008613800138000")
('13800138000', '13800138000')
>>> normalise_phone("+1 (415) 555-0100"), normalise_phone("0790-8254607")
('+14155550100', '07908254607')
>>> to_e164("13800138000"), to_e164("+14155550100")
('+8613800138000', '+14155550100')
>>> normalise_phone("call me") is None
True
"""

from __future__ import annotations

import re

from hotline.contact import Identity

PHONE = "phone"
WECHAT = "wechat_openid"
APP_USER = "app_user"

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str | None) -> str | None:
    if not raw:
        return None
    text = raw.strip()
    plus = text.startswith("+")
    digits = re.sub(r"[\s\-().]", "", text.lstrip("+"))
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        return None
    if digits.startswith("00"):  # the international prefix, as dialled from China
        digits, plus = digits[2:], True
    if plus:
        if digits.startswith("86"):
            return digits[2:]
        return "+" + digits
    if digits.startswith("86") and _MOBILE.match(digits[2:]):
        return digits[2:]
    return digits


def to_e164(phone: str) -> str:
    """The form Twilio dials: +86 before a national mainland number."""
    if phone.startswith("+"):
        return phone
    if phone.startswith("0"):  # a landline with its area code
        return "+86" + phone[1:]
    return "+86" + phone


def phone_identity(raw: str | None) -> Identity | None:
    phone = normalise_phone(raw)
    return Identity(PHONE, phone) if phone else None


def last4_matches(phone: str | None, last4: str) -> bool:
    import hmac

    return bool(phone) and len(last4) == 4 and hmac.compare_digest(phone[-4:], last4)  # type: ignore[index]
