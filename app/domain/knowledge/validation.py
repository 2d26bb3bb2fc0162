"""What an article may contain. The HTTP schema states the same limits for the API; these
rules also guard articles written by other use cases (a closed change's lessons)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.domain.common.errors import FieldErrors

TITLE_MAX = 200
BODY_MAX = 20_000
TAGS_MAX = 20
TAG_MAX = 50
LINKS_MAX = 50  # per kind of link


@dataclass(frozen=True)
class ArticleText:
    title: str
    body: str
    tags: list[str]


def clean_text(title: str, body: str, tags: list[str], errors: FieldErrors) -> ArticleText:
    """Title 1–200 characters and body at most 20,000 (surrounding white space does not
    count); at most 20 tags of 1–50 characters, kept once each in the order given."""
    title, body = title.strip(), body.strip()
    if not title:
        errors.add("/title", "string_too_short", min_length=1)
    elif len(title) > TITLE_MAX:
        errors.add("/title", "string_too_long", max_length=TITLE_MAX)
    if len(body) > BODY_MAX:
        errors.add("/body", "string_too_long", max_length=BODY_MAX)
    kept: list[str] = []
    for i, raw in enumerate(tags):
        tag = raw.strip()
        if not tag:
            errors.add(f"/tags/{i}", "string_too_short", min_length=1)
        elif len(tag) > TAG_MAX:
            errors.add(f"/tags/{i}", "string_too_long", max_length=TAG_MAX)
        elif tag not in kept:
            kept.append(tag)
    if len(kept) > TAGS_MAX:
        errors.add("/tags", "too_long", max_length=TAGS_MAX)
    return ArticleText(title, body, kept)


def unique_links(name: str, ids: list[UUID], errors: FieldErrors) -> list[UUID]:
    """Each linked record once, in the order given; at most 50 of each kind."""
    kept = list(dict.fromkeys(ids))
    if len(kept) > LINKS_MAX:
        errors.add(f"/{name}", "too_long", max_length=LINKS_MAX)
    return kept
