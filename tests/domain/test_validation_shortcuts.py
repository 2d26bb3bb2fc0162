"""The shortcuts of credit-code, phone and e-mail validation give exactly what the
libraries give: the same code, E.164 number or normalised address, or the same refusal,
for the common shapes they answer and for everything around them (validation.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.common.errors import InvalidInput
from app.domain.customers import validation


def outcome(check, raw: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(check(raw, "/p"))
    except InvalidInput as exc:
        return f"refused {exc.field_errors[0].reason}"


def test_every_mobile_prefix_decides_as_phonenumbers_does() -> None:
    """Each five-digit prefix 10000–19999, with suffixes drawn at random, twice (the second
    time from what the first remembered)."""
    rng = random.Random(17)
    validation._MOBILE_PREFIXES.clear()
    for prefix in range(10000, 20000):
        for _ in range(3):
            raw = f"{prefix}{rng.randrange(10**6):06d}"
            assert outcome(validation.phone, raw) == outcome(validation.parsed_phone, raw), raw


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.from_regex(r"\A1[0-9]{10}\Z"),
    st.from_regex(r"\A[+0-9１-９ ()-]{0,14}\Z"),
    st.text(max_size=16)))
def test_any_phone_text_decides_as_phonenumbers_does(raw: str) -> None:
    assert outcome(validation.phone, raw) == outcome(validation.parsed_phone, raw)


LOCAL = st.from_regex(r"\A[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\"()ü ]{0,70}\Z")
DOMAIN = st.one_of(st.sampled_from(["example.cn", "EXAMPLE.CN", "qq.com", "mail.163.com",
                                    "a-.cn", "-a.cn", "a..cn", "localhost", "x.test",
                                    "nodot", "例子.中国", "xn--fsqu00a.xn--fiqs8s",
                                    "[127.0.0.1]", "a.b", "x" * 70 + ".cn"]),
                   st.from_regex(r"\A[a-zA-Z0-9.-]{1,20}\Z"))


@settings(max_examples=600, deadline=None)
@given(LOCAL, DOMAIN)
def test_any_address_decides_as_email_validator_does(local: str, domain: str) -> None:
    raw = f"{local}@{domain}"
    assert outcome(validation.email, raw) == outcome(validation.validated_email, raw)


@pytest.mark.parametrize("raw", ["Postmaster@example.cn", "a" * 250 + "@qq.com",
                                 "周敏@example.cn", "a.b@EXAMPLE.CN", "a..b@example.cn",
                                 ".a@example.cn", "Zhou Min <zm@example.cn>"])
def test_addresses_near_the_shortcut_decide_as_email_validator_does(raw: str) -> None:
    assert outcome(validation.email, raw) == outcome(validation.validated_email, raw)


CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXYZIOSVabc -–"


@settings(max_examples=600, deadline=None)
@given(st.one_of(
    st.from_regex(r"\A[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10}\Z"),
    st.text(alphabet=CODE_CHARS, min_size=16, max_size=20),
    st.text(max_size=20)))
def test_any_credit_code_decides_as_python_stdnum_does(raw: str) -> None:
    assert outcome(validation.credit_code, raw) == \
        outcome(validation.checked_credit_code, raw)


def test_a_credit_code_with_its_right_check_character_passes_the_shortcut() -> None:
    from stdnum.cn import uscc
    rng = random.Random(31)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        assert validation.credit_code(code) == code
        wrong = body + ("0" if code[-1] != "0" else "1")
        assert outcome(validation.credit_code, wrong) == "refused credit_code_checksum"
