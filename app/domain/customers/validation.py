"""Field validation with the standard libraries: GB 32100-2015 credit codes (python-stdnum),
phone numbers to E.164 with mainland China as default region (phonenumbers), e-mail
syntax (email-validator, no DNS look-up).

An import checks a million codes, phones and e-mails, and the libraries take 40–100 µs
each, so the common shapes are answered from what decides them: a credit code already
written as its 18 characters is checked by the standard's weights (python-stdnum would
clean nothing away); a mainland mobile written as 11 digits is valid exactly when the
libraries accept a number with its first five digits (the metadata's patterns look no
further; tests hold every prefix to it); an ASCII address's domain is checked once.
Anything else goes to the libraries."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from app.domain.common.errors import FieldError, InvalidInput

DEFAULT_REGION = "CN"


def credit_code(raw: str, pointer: str = "/credit_code") -> str:
    """统一社会信用代码: 18 characters with the GB 32100-2015 check character."""
    if _PLAIN_CODE.fullmatch(raw):  # as python-stdnum would: nothing to clean away
        total = sum(_CODE_VALUES[c] * w for c, w in zip(raw, _CODE_WEIGHTS, strict=False))
        if raw[17] != _CODE_ALPHABET[(31 - total) % 31]:
            raise InvalidInput([FieldError(pointer, "credit_code_checksum")])
        return raw
    return checked_credit_code(raw, pointer)


def checked_credit_code(raw: str, pointer: str = "/credit_code") -> str:
    """``credit_code`` by python-stdnum alone, whatever the writing."""
    try:
        return str(uscc.validate(raw))
    except InvalidChecksum as exc:
        raise InvalidInput([FieldError(pointer, "credit_code_checksum")]) from exc
    except ValidationError as exc:
        raise InvalidInput([FieldError(pointer, "credit_code_format")]) from exc


_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_VALUES = {c: i for i, c in enumerate(_CODE_ALPHABET)}
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PLAIN_CODE = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10}")
_MOBILE = re.compile(r"1[0-9]{10}")
_MOBILE_PREFIXES: dict[str, bool] = {}  # first five digits → "+86" + the digits is right
# an ASCII dot-atom local part (RFC 5322 3.2.3) at a domain of ASCII labels
_PLAIN_EMAIL = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
                          r"@([A-Za-z0-9.-]+)")
_DOMAINS: dict[str, str | None] = {}  # domain as written → as normalised (None: refused)
_DOMAINS_KEPT = 10_000


def phone(raw: str, pointer: str) -> str:
    """Any common writing of a mainland mobile or fixed-line number (or +CC for others)
    becomes E.164, e.g. ``010-12345678`` → ``+861012345678``."""
    if _MOBILE.fullmatch(raw):
        known = _MOBILE_PREFIXES.get(raw[:5])
        if known:
            return "+86" + raw
        if known is None:
            e164 = parsed_phone(raw, pointer)
            _MOBILE_PREFIXES[raw[:5]] = e164 == "+86" + raw
            return e164
    return parsed_phone(raw, pointer)


def parsed_phone(raw: str, pointer: str) -> str:
    """``phone`` by phonenumbers alone, whatever the shape."""
    try:
        parsed = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput([FieldError(pointer, "phone_invalid")]) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput([FieldError(pointer, "phone_invalid")])
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(raw: str, pointer: str) -> str:
    plain = _PLAIN_EMAIL.fullmatch(raw)
    if plain and plain[1].lower() not in CASE_INSENSITIVE_MAILBOX_NAMES:
        if plain[2] not in _DOMAINS:
            if len(_DOMAINS) >= _DOMAINS_KEPT:
                _DOMAINS.clear()
            try:
                _DOMAINS[plain[2]] = validated_email(f"x@{plain[2]}", pointer).partition("@")[2]
            except InvalidInput:
                _DOMAINS[plain[2]] = None
        domain = _DOMAINS[plain[2]]
        if domain is not None and len(plain[1]) + 1 + len(domain) <= 254:
            return f"{plain[1]}@{domain}"
    return validated_email(raw, pointer)


def validated_email(raw: str, pointer: str) -> str:
    """``email`` by email-validator alone, whatever the shape."""
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput([FieldError(pointer, "email_invalid")]) from exc
    return str(result.normalized)
