"""Field validation with the standard libraries: GB 32100-2015 credit codes (python-stdnum),
phone numbers to E.164 with mainland China as default region (phonenumbers), e-mail
syntax (email-validator, no DNS look-up)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from app.domain.common.errors import FieldError, InvalidInput

DEFAULT_REGION = "CN"


def credit_code(raw: str, pointer: str = "/credit_code") -> str:
    """统一社会信用代码: 18 characters with the GB 32100-2015 check character."""
    try:
        return str(uscc.validate(raw))
    except InvalidChecksum as exc:
        raise InvalidInput([FieldError(pointer, "credit_code_checksum")]) from exc
    except ValidationError as exc:
        raise InvalidInput([FieldError(pointer, "credit_code_format")]) from exc


def phone(raw: str, pointer: str) -> str:
    """Any common writing of a mainland mobile or fixed-line number (or +CC for others)
    becomes E.164, e.g. ``010-12345678`` → ``+861012345678``."""
    try:
        parsed = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput([FieldError(pointer, "phone_invalid")]) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput([FieldError(pointer, "phone_invalid")])
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(raw: str, pointer: str) -> str:
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput([FieldError(pointer, "email_invalid")]) from exc
    return str(result.normalized)
