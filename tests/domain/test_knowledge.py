"""The knowledge base's pure rules (domain §8): what an article may contain (limits at their
exact boundaries, every bad field named at once, tags and links kept once in order), who
writes which articles for every combination of roles, and which customer's timeline an
article belongs on. No database."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.common.errors import FieldError, FieldErrors, InvalidInput
from app.domain.knowledge.access import WRITERS, read_scope, write_scope
from app.domain.knowledge.model import Article, ArticleKind
from app.domain.knowledge.validation import (
    BODY_MAX,
    LINKS_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    ArticleText,
    clean_text,
    unique_links,
)

ME, SOMEONE = uuid.uuid4(), uuid.uuid4()
MY_DEPT, OTHER_DEPT = uuid.uuid4(), uuid.uuid4()
ALL_ROLE_SETS = [frozenset(c) for n in range(len(Role) + 1)
                 for c in itertools.combinations(Role, n)]
relaxed = settings(deadline=None)


def cleaned(title: str, body: str = "", tags: list[str] | None = None) -> ArticleText:
    errors = FieldErrors()
    text = clean_text(title, body, tags or [], errors)
    errors.raise_if_any()
    return text


def refusals(title: str, body: str = "", tags: list[str] | None = None) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        cleaned(title, body, tags)
    return caught.value.field_errors


# 1. content -------------------------------------------------------------------------

def test_the_limits_are_those_of_the_spec() -> None:
    assert (TITLE_MAX, BODY_MAX, TAGS_MAX, TAG_MAX) == (200, 20_000, 20, 50)


def test_content_at_every_limit_is_accepted() -> None:
    tags = [f"{i:02d}" + "签" * (TAG_MAX - 2) for i in range(TAGS_MAX)]
    text = cleaned("题" * TITLE_MAX, "文" * BODY_MAX, tags)
    assert (len(text.title), len(text.body), text.tags) == (TITLE_MAX, BODY_MAX, tags)
    assert cleaned("x", "").body == ""


@pytest.mark.parametrize(("title", "body", "tags", "expected"), [
    ("", "", [], [FieldError("/title", "string_too_short", {"min_length": 1})]),
    (" \n\t", "", [], [FieldError("/title", "string_too_short", {"min_length": 1})]),
    ("题" * 201, "", [], [FieldError("/title", "string_too_long", {"max_length": 200})]),
    ("t", "文" * 20_001, [], [FieldError("/body", "string_too_long", {"max_length": 20_000})]),
    ("t", "", ["好", "  "], [FieldError("/tags/1", "string_too_short", {"min_length": 1})]),
    ("t", "", ["签" * 51], [FieldError("/tags/0", "string_too_long", {"max_length": 50})]),
    ("t", "", [f"t{i}" for i in range(21)], [FieldError("/tags", "too_long",
                                                        {"max_length": 20})]),
    ("", "文" * 20_001, ["", "签" * 51], [
        FieldError("/title", "string_too_short", {"min_length": 1}),
        FieldError("/body", "string_too_long", {"max_length": 20_000}),
        FieldError("/tags/0", "string_too_short", {"min_length": 1}),
        FieldError("/tags/1", "string_too_long", {"max_length": 50})]),
])
def test_every_bad_field_is_named_with_its_pointer(title: str, body: str, tags: list[str],
                                                   expected: list[FieldError]) -> None:
    assert refusals(title, body, tags) == expected


def test_surrounding_white_space_does_not_count() -> None:
    text = cleaned("  " + "题" * TITLE_MAX + "\n", "\n\n正文\n", [" 甲 "])
    assert (len(text.title), text.body, text.tags) == (TITLE_MAX, "正文", ["甲"])


def test_repeated_tags_count_once_towards_the_limit() -> None:
    tags = [f"t{i % TAGS_MAX}" for i in range(TAGS_MAX * 3)]
    assert cleaned("t", "", tags).tags == [f"t{i}" for i in range(TAGS_MAX)]


@relaxed
@given(st.lists(st.text(st.sampled_from("甲乙丙ab "), min_size=1, max_size=3), max_size=30))
def test_tags_are_kept_once_each_in_first_seen_order(tags: list[str]) -> None:
    errors = FieldErrors()
    kept = clean_text("t", "", tags, errors).tags
    stripped = [t.strip() for t in tags if t.strip()]
    assert kept == list(dict.fromkeys(stripped))
    assert all(kept) and len(set(kept)) == len(kept)
    assert any(e.pointer == "/tags" for e in errors.errors) == (len(kept) > TAGS_MAX)


@relaxed
@given(st.lists(st.sampled_from([uuid.UUID(int=i) for i in range(60)]), max_size=120))
def test_links_are_kept_once_each_in_order_up_to_fifty(ids: list[uuid.UUID]) -> None:
    errors = FieldErrors()
    kept = unique_links("customer_ids", ids, errors)
    assert kept == list(dict.fromkeys(ids))
    too_many = [FieldError("/customer_ids", "too_long", {"max_length": LINKS_MAX})]
    assert errors.errors == (too_many if len(kept) > LINKS_MAX else [])


# 2. who writes ------------------------------------------------------------------------

def person(roles: frozenset[Role]) -> Principal:
    return Principal(ME, PrincipalKind.USER, "me", MY_DEPT, roles)


def test_the_writing_roles_are_those_of_the_spec() -> None:
    spec = {Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER, Role.PROJECT_MANAGER,
            Role.TECH_EXPERT}
    assert spec == WRITERS


@pytest.mark.parametrize("roles", ALL_ROLE_SETS, ids=lambda r: "+".join(sorted(r)) or "none")
def test_who_writes_which_article_for_every_combination_of_roles(roles: frozenset[Role]
                                                                 ) -> None:
    scope = write_scope(person(roles))
    articles = {(author, dept): scope.covers(owner_id=author, department_id=dept)
                for author in (ME, SOMEONE) for dept in (MY_DEPT, OTHER_DEPT)}
    if Role.ADMIN in roles:
        expected = {key: True for key in articles}
    elif Role.DEPARTMENT_HEAD in roles:
        expected = {(a, d): d == MY_DEPT for a, d in articles}
    elif roles & WRITERS:
        expected = {(a, d): a == ME for a, d in articles}
    else:
        expected = {key: False for key in articles}
        assert scope == RecordScope(Reach.NONE)
    assert articles == expected
    assert read_scope(person(roles)) == RecordScope(Reach.ALL)


# 3. the article ---------------------------------------------------------------------

def article(customers: list[uuid.UUID]) -> Article:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    return Article(id=uuid.uuid4(), kind=ArticleKind.LESSON, title="项目延期风险",
                   body="正文", tags=["延期"], change_request_ids=[uuid.uuid4()],
                   handover_ids=[], customer_ids=customers, author_id=ME,
                   department_id=MY_DEPT, version=1, created_at=now, updated_at=now)


def test_only_an_article_about_exactly_one_customer_belongs_on_a_timeline() -> None:
    one = uuid.uuid4()
    assert article([one]).timeline_customer == one
    assert article([]).timeline_customer is None
    assert article([one, uuid.uuid4()]).timeline_customer is None


def test_the_snapshot_is_json_and_holds_every_field_a_person_sets() -> None:
    item = article([uuid.uuid4()])
    snapshot = json.loads(json.dumps(item.snapshot()))
    assert snapshot == {"kind": "lesson", "title": "项目延期风险", "body": "正文",
                        "tags": ["延期"],
                        "change_request_ids": [str(item.change_request_ids[0])],
                        "handover_ids": [], "customer_ids": [str(item.customer_ids[0])],
                        "archived": False}
    assert {k.value for k in ArticleKind} == {"change_case", "solution", "faq", "lesson"}
