"""Masking personal data in visitor text: e-mail addresses and phone numbers.

A visitor types "call me on +47 912 34 567" into a chat; the workspace keeps "[phone]".
Numbers with fewer than 8 digits (order numbers, prices, years) are left alone.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
MASK_SETTING = "conversations_mask_personal"  # workspace setting, True by default

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A leading + or 00, then digits with the separators people type; checked for 8+ digits.
_PHONE = re.compile(r"(?<![\w+(])(?:\+|00|\()?\d[\d\s().\-/]{6,}\d(?!\w)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4}")
MIN_PHONE_DIGITS = 8


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    if _DATE.fullmatch(text.strip()):
        return text
    digits = sum(c.isdigit() for c in text)
    return PHONE_MASK if digits >= MIN_PHONE_DIGITS else text


def mask_personal(text: str) -> str:
    """`text` with e-mail addresses and phone numbers replaced by [email] and [phone]."""
    return _PHONE.sub(_phone, _EMAIL.sub(EMAIL_MASK, text))
