"""Accept-Language picks the language of error details (api-conventions: zh-CN and en,
default en): q-values decide, q=0 refuses, a wildcard means English, and no header a
client can send makes the choice fail. Pure function: no database, no app."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.i18n import EN, ZH, pick_language

relaxed = settings(deadline=None)
QUALITY = st.integers(1, 1000).map(lambda n: f"{n / 1000:.3f}")
CHINESE = st.sampled_from(["zh-CN", "zh", "ZH-cn", "zh-Hans-CN", "zh-cn"])
ENGLISH = st.sampled_from(["en", "en-US", "EN-gb", "en-cn"])
OTHER = st.sampled_from(["fr", "de-DE", "ja", "ko-KR", "es-419", "x-klingon", "", "q"])
TAG = CHINESE | ENGLISH | OTHER | st.just("*")
PARAMS = st.sampled_from(["", ";q=", ";q=abc", ";level=1", ";q=1e999", ";q=nan", ";q=-1"])


@st.composite
def headers(draw: st.DrawFn) -> str:
    """Header-shaped strings: tags, optional (possibly broken) q-values, odd spacing."""
    parts = draw(st.lists(st.tuples(TAG, QUALITY.map(lambda q: f";q={q}") | PARAMS,
                                    st.sampled_from(["", " ", "  "])), max_size=6))
    return ",".join(f"{pad}{tag}{pad}{param}" for tag, param, pad in parts)


@relaxed
@given(st.none() | st.text() | headers())
def test_any_header_gives_english_or_chinese_and_never_fails(header: str | None) -> None:
    assert pick_language(header) in {EN, ZH}


@relaxed
@given(CHINESE, QUALITY, ENGLISH, QUALITY, st.booleans())
def test_the_higher_q_value_wins_whatever_the_order(zh: str, zh_q: str, en: str, en_q: str,
                                                    chinese_first: bool) -> None:
    if zh_q == en_q:
        return
    parts = [f"{zh};q={zh_q}", f"{en};q={en_q}"]
    header = ", ".join(parts if chinese_first else reversed(parts))
    assert pick_language(header) == (ZH if float(zh_q) > float(en_q) else EN)


@relaxed
@given(CHINESE, st.lists(OTHER, max_size=3), st.sampled_from(["0", "0.0", "0.000"]))
def test_q_zero_means_not_acceptable(zh: str, others: list[str], zero: str) -> None:
    assert pick_language(", ".join([f"{zh};q={zero}", *others])) == EN
    assert pick_language(f"en;q={zero}, {zh};q=0.1") == ZH


@relaxed
@given(CHINESE, QUALITY, QUALITY)
def test_a_wildcard_stands_for_english(zh: str, star_q: str, zh_q: str) -> None:
    assert pick_language("*") == EN
    if star_q != zh_q:
        expected = ZH if float(zh_q) > float(star_q) else EN
        assert pick_language(f"*;q={star_q}, {zh};q={zh_q}") == expected


@relaxed
@given(st.lists(OTHER, max_size=4))
def test_only_unsupported_languages_fall_back_to_english(others: list[str]) -> None:
    assert pick_language(", ".join(others)) == EN


@pytest.mark.parametrize(("header", "expected"), [
    (None, EN), ("", EN), ("zh-CN", ZH), ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
    ("en-US,en;q=0.9,zh-CN;q=0.8", EN), (" zh-CN ; q=0.8 , en ; q=0.5", ZH),
    ("fr-FR, zh;q=0.5", ZH), ("de, *;q=0.1", EN), ("zh;q=0, en;q=0", EN),
])
def test_what_browsers_send(header: str | None, expected: str) -> None:
    assert pick_language(header) == expected
