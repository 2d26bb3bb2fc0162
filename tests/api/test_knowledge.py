"""知识库 (domain §8) through the API on both engines: articles round-trip with their tags
and links, bad input is refused field by field and leaves nothing behind, changes need a
current If-Match, server-owned fields cannot be set, every signed-in role reads while only
the writing roles write (authors their own, heads their department's, admins all; anyone
else 404), `q` finds any substring of two or more characters of title, body or tags —
Chinese included, wildcards literal, edits followed — and every write is audited, emitted
and shown on the timeline of the one customer an article is about."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.search import Fts5Search, TrigramSearch
from app.repositories.tables import outbox
from app.repositories.tables_knowledge import knowledge_articles
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services.ports import RequestContext
from tests.customer_support import if_match, make_customer
from tests.db import row_count, rows
from tests.support import (
    Actor,
    Actors,
    TestClock,
    assert_problem,
    audit_entries,
    field_errors,
    list_all,
    list_pages,
    unique,
)

ARTICLES = "/api/v1/knowledge-articles"
WRITERS = ["admin", "department_head", "account_manager", "project_manager", "tech_expert"]
READ_ONLY = ["analyst", "executive", "auditor", "finance"]
SERVER_OWNED = ["id", "author_id", "department_id", "version", "created_at", "updated_at",
                "archived_at", "search_text", "excerpt"]


async def make_article(client: httpx.AsyncClient, who: Actor, **fields: Any) -> dict[str, Any]:
    body = {"kind": "solution", "title": unique("知识"), **fields}
    response = await client.post(ARTICLES, headers=who.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def read_article(client: httpx.AsyncClient, who: Actor,
                       article_id: str) -> dict[str, Any]:
    response = await client.get(f"{ARTICLES}/{article_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()  # type: ignore[no-any-return]


async def found(client: httpx.AsyncClient, who: Actor, **params: str) -> set[str]:
    return {a["id"] for a in await list_all(client, ARTICLES, who.headers, **params)}


async def patch(client: httpx.AsyncClient, who: Actor, article: dict[str, Any],
                **fields: Any) -> httpx.Response:
    return await client.patch(f"{ARTICLES}/{article['id']}", json=fields,
                              headers={**who.headers, **if_match(article)})


async def post_action(client: httpx.AsyncClient, who: Actor, article: dict[str, Any],
                      action: str, **headers: str) -> httpx.Response:
    return await client.post(f"{ARTICLES}/{article['id']}/{action}",
                             headers={**who.headers, **if_match(article), **headers})


async def change_request(client: httpx.AsyncClient, who: Actor,
                         customer: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/change-requests", headers=who.headers,
                                 json={"customer_id": customer["id"], "title": unique("变更")})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def summary_of(article: dict[str, Any]) -> dict[str, Any]:
    """How a list shows an article: the body's first 200 characters instead of the body."""
    shown = {k: v for k, v in article.items() if k != "body"}
    return {**shown, "excerpt": article["body"][:200]}


# 1. create and read ---------------------------------------------------------------------

async def test_an_article_round_trips_with_its_tags_and_links(client: httpx.AsyncClient,
                                                              actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    cr = await change_request(client, am, customer)
    handover = str(uuid.uuid4())
    body = {"kind": "lesson", "title": "项目延期风险的应对",
            "body": "## 背景\n二期上线**滑期**两周。\n\n" + "经验" * 200,
            "tags": ["延期", "里程碑"], "change_request_ids": [cr["id"]],
            "handover_ids": [handover], "customer_ids": [customer["id"]]}

    response = await client.post(ARTICLES, headers=am.headers, json=body)

    assert response.status_code == 201, response.text
    article = response.json()
    assert response.headers["location"] == f"{ARTICLES}/{article['id']}"
    assert response.headers["etag"] == '"1"'
    assert article == {**body, "id": article["id"], "author_id": am.id,
                       "department_id": actors.east, "version": 1,
                       "created_at": article["created_at"], "updated_at": article["created_at"],
                       "archived_at": None}
    assert article["created_at"].endswith("Z")
    for reader in (am, actors.am_west, actors.analyst, actors.finance):
        assert await read_article(client, reader, article["id"]) == article
    listed = await list_all(client, ARTICLES, actors.auditor.headers, tag="里程碑",
                            customer_id=customer["id"])
    assert listed == [summary_of(article)]
    assert len(listed[0]["excerpt"]) == 200


async def test_text_is_trimmed_and_tags_and_links_are_kept_once_in_order(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    article = await make_article(
        client, actors.am_east, title="  常见问题：发票  ", body="\n正文\n\n",
        tags=[" 发票 ", "财务", "发票", "财务 "],
        customer_ids=[customer["id"], customer["id"]], kind="faq")

    assert (article["title"], article["body"], article["tags"]) == ("常见问题：发票", "正文",
                                                                   ["发票", "财务"])
    assert article["customer_ids"] == [customer["id"]]
    assert await read_article(client, actors.am_east, article["id"]) == article


async def test_the_largest_article_allowed_is_accepted(client: httpx.AsyncClient,
                                                       actors: Actors) -> None:
    tags = [f"{i:02d}" + "标" * 48 for i in range(20)]
    article = await make_article(client, actors.pm, title="题" * 200, body="文" * 20_000,
                                 tags=tags)
    stored = await read_article(client, actors.pm, article["id"])
    assert (len(stored["title"]), len(stored["body"]), stored["tags"]) == (200, 20_000, tags)


@pytest.mark.parametrize(("fields", "errors"), [
    ({"title": ""}, {"/title": "string_too_short"}),
    ({"title": "   "}, {"/title": "string_too_short"}),
    ({"title": "题" * 201}, {"/title": "string_too_long"}),
    ({"body": "文" * 20_001}, {"/body": "string_too_long"}),
    ({"tags": [f"t{i}" for i in range(21)]}, {"/tags": "too_long"}),
    ({"tags": ["好", " "]}, {"/tags/1": "string_too_short"}),
    ({"tags": ["标" * 51]}, {"/tags/0": "string_too_long"}),
    ({"kind": "blog"}, {"/kind": "enum"}),
    ({"kind": None}, {"/kind": "enum"}),
    ({"change_request_ids": ["CR-1"]}, {"/change_request_ids/0": "uuid_parsing"}),
    ({"customer_ids": [str(uuid.uuid4()) for _ in range(51)]}, {"/customer_ids": "too_long"}),
    ({"title": "", "body": "文" * 20_001, "tags": [""]},
     {"/title": "string_too_short", "/body": "string_too_long", "/tags/0": "string_too_short"}),
])
async def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, fields: dict[str, Any],
        errors: dict[str, str]) -> None:
    marker = unique("拒绝")
    response = await client.post(ARTICLES, headers=actors.am_east.headers,
                                 json={"kind": "faq", "title": marker, "tags": [marker],
                                       **fields})
    assert field_errors(response) == errors
    assert await row_count(app, knowledge_articles, title=marker) == 0
    assert await found(client, actors.admin, tag=marker, include_archived="true") == set()


async def test_a_missing_kind_or_title_is_required(client: httpx.AsyncClient,
                                                   actors: Actors) -> None:
    response = await client.post(ARTICLES, headers=actors.am_east.headers, json={})
    assert field_errors(response) == {"/kind": "missing", "/title": "missing"}


async def test_linked_customers_and_changes_must_be_visible_to_the_author(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    am = actors.am_east
    own = await make_customer(client, am)
    west = await make_customer(client, actors.am_west)
    colleague = await make_customer(client, actors.am_east2)
    own_cr = await change_request(client, am, own)
    west_cr = await change_request(client, actors.am_west, west)
    cases = [
        (am, {"customer_ids": [own["id"], west["id"]]}, {"/customer_ids/1": "customer_unknown"}),
        (am, {"customer_ids": [colleague["id"]]}, {"/customer_ids/0": "customer_unknown"}),
        (am, {"customer_ids": [str(uuid.uuid4())]}, {"/customer_ids/0": "customer_unknown"}),
        (actors.pm, {"customer_ids": [own["id"]]}, {"/customer_ids/0": "customer_unknown"}),
        (am, {"change_request_ids": [west_cr["id"], own_cr["id"]]},
         {"/change_request_ids/0": "change_request_unknown"}),
        (am, {"change_request_ids": [str(uuid.uuid4())], "customer_ids": [west["id"]]},
         {"/change_request_ids/0": "change_request_unknown",
          "/customer_ids/0": "customer_unknown"}),
    ]
    for who, links, errors in cases:
        title = unique("链接")
        response = await client.post(ARTICLES, headers=who.headers,
                                     json={"kind": "change_case", "title": title, **links})
        assert field_errors(response) == errors, links
        assert await row_count(app, knowledge_articles, title=title) == 0

    zh = await client.post(ARTICLES, json={"kind": "faq", "title": "x",
                                           "customer_ids": [west["id"]]},
                           headers={**am.headers, "Accept-Language": "zh-CN"})
    assert assert_problem(zh, 422, "validation_failed")["errors"][0]["detail"] == "不是您可见的客户"
    # The project manager reads every change, so may link any; the head sees the colleague's.
    assert (await make_article(client, actors.pm, change_request_ids=[west_cr["id"]])
            )["change_request_ids"] == [west_cr["id"]]
    assert (await make_article(client, actors.head_east, customer_ids=[colleague["id"]])
            )["customer_ids"] == [colleague["id"]]


async def test_an_idempotent_create_happens_once(client: httpx.AsyncClient, app: FastAPI,
                                                 actors: Actors) -> None:
    title = unique("幂等")
    headers = {**actors.tech.headers, "Idempotency-Key": unique("key")}
    first = await client.post(ARTICLES, headers=headers, json={"kind": "faq", "title": title})
    again = await client.post(ARTICLES, headers=headers, json={"kind": "faq", "title": title})
    assert first.status_code == again.status_code == 201, again.text
    assert first.json() == again.json()
    assert await row_count(app, knowledge_articles, title=title) == 1


# 2. change --------------------------------------------------------------------------

async def test_a_patch_changes_only_what_it_sends(client: httpx.AsyncClient,
                                                  actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    article = await make_article(client, am, body="原文", tags=["甲", "乙"],
                                 customer_ids=[customer["id"]])

    response = await patch(client, am, article, body="新的正文", tags=["丙"], kind="lesson")

    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["etag"] == '"2"'
    assert changed == {**article, "body": "新的正文", "tags": ["丙"], "kind": "lesson",
                       "version": 2, "updated_at": changed["updated_at"]}
    assert changed["updated_at"] >= article["updated_at"]
    assert await read_article(client, am, article["id"]) == changed
    assert await found(client, am, tag="甲", customer_id=customer["id"]) == set()
    assert await found(client, am, tag="丙", customer_id=customer["id"]) == {article["id"]}

    unlinked = (await patch(client, am, changed, customer_ids=[])).json()
    assert (unlinked["customer_ids"], unlinked["version"]) == ([], 3)
    assert await found(client, am, customer_id=customer["id"]) == set()


async def test_a_patch_that_changes_nothing_writes_nothing(client: httpx.AsyncClient,
                                                           actors: Actors) -> None:
    article = await make_article(client, actors.am_east, tags=["同"])
    response = await patch(client, actors.am_east, article, title=f"  {article['title']} ",
                           tags=["同", "同"])
    assert response.status_code == 200, response.text
    assert response.json() == article
    assert response.headers["etag"] == '"1"'
    entries = await audit_entries(client, actors.auditor, "knowledge_article", article["id"])
    assert [e["action"] for e in entries] == ["knowledge_article.created"]


async def test_a_patch_may_add_only_links_the_editor_can_see(client: httpx.AsyncClient,
                                                             actors: Actors) -> None:
    am = actors.am_east
    own, west = await make_customer(client, am), await make_customer(client, actors.am_west)
    article = await make_article(client, am, customer_ids=[own["id"]])

    response = await patch(client, am, article, customer_ids=[own["id"], west["id"]])

    assert field_errors(response) == {"/customer_ids/1": "customer_unknown"}
    assert await read_article(client, am, article["id"]) == article


@pytest.mark.parametrize(("fields", "errors"), [
    ({"title": None}, {"/title": "string_type"}),
    ({"title": ""}, {"/title": "string_too_short"}),
    ({"tags": ["标" * 51]}, {"/tags/0": "string_too_long"}),
    ({"kind": "news"}, {"/kind": "enum"}),
    ({"body": "文" * 20_001}, {"/body": "string_too_long"}),
])
async def test_a_bad_patch_changes_nothing(client: httpx.AsyncClient, actors: Actors,
                                           fields: dict[str, Any], errors: dict[str, str]
                                           ) -> None:
    article = await make_article(client, actors.am_east)
    assert field_errors(await patch(client, actors.am_east, article, **fields)) == errors
    assert await read_article(client, actors.am_east, article["id"]) == article


@pytest.mark.parametrize("name", SERVER_OWNED)
async def test_server_owned_fields_cannot_be_set(client: httpx.AsyncClient, app: FastAPI,
                                                 actors: Actors, name: str) -> None:
    am = actors.am_east
    value = {"version": 9}.get(name, str(uuid.uuid4()) if name.endswith("id")
                               else "2026-01-01T00:00:00Z")
    article = await make_article(client, am)

    response = await patch(client, am, article, title="改", **{name: value})
    assert field_errors(response) == {f"/{name}": "extra_forbidden"}
    assert await read_article(client, am, article["id"]) == article

    title = unique("越权字段")
    response = await client.post(ARTICLES, headers=am.headers,
                                 json={"kind": "faq", "title": title, name: value})
    assert field_errors(response) == {f"/{name}": "extra_forbidden"}
    assert await row_count(app, knowledge_articles, title=title) == 0


async def test_changes_need_a_current_if_match(client: httpx.AsyncClient,
                                               actors: Actors) -> None:
    am = actors.am_east
    article = await make_article(client, am)
    url = f"{ARTICLES}/{article['id']}"
    for method, path, body in (("PATCH", url, {"title": "新"}), ("POST", f"{url}/archive", None),
                               ("POST", f"{url}/restore", None)):
        assert_problem(await client.request(method, path, json=body, headers=am.headers),
                       428, "precondition_required")
        stale = await client.request(method, path, json=body,
                                     headers={**am.headers, **if_match(2)})
        problem = assert_problem(stale, 412, "precondition_failed")
        assert "version 1" in problem["detail"]
    assert await read_article(client, am, article["id"]) == article


# 3. archive and restore -------------------------------------------------------------

async def test_archive_hides_an_article_from_lists_until_it_is_restored(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am, tag = actors.am_east, unique("归档")
    article = await make_article(client, am, title="过期的操作手册", tags=[tag])

    response = await post_action(client, am, article, "archive")

    assert response.status_code == 200, response.text
    archived = response.json()
    assert archived == {**article, "archived_at": archived["archived_at"], "version": 2,
                        "updated_at": archived["updated_at"]}
    assert archived["archived_at"] is not None and response.headers["etag"] == '"2"'
    assert await read_article(client, actors.analyst, article["id"]) == archived
    assert await found(client, am, tag=tag) == set()
    assert await found(client, am, q="操作手册", tag=tag) == set()
    assert await found(client, am, tag=tag, include_archived="true") == {article["id"]}
    assert await found(client, am, q="操作手册", include_archived="true") >= {article["id"]}

    refused = await patch(client, am, archived, title="改")
    assert assert_problem(refused, 409, "invalid_state")["detail"] == (
        "Not allowed: the article is archived; restore it first.")
    again = await post_action(client, am, archived, "archive",
                              **{"Accept-Language": "zh-CN"})
    assert assert_problem(again, 409, "invalid_state")["detail"] == (
        "不允许此操作：文章已归档，请先恢复。")
    assert await read_article(client, am, article["id"]) == archived

    restored = (await post_action(client, am, archived, "restore")).json()
    assert restored == {**archived, "archived_at": None, "version": 3,
                        "updated_at": restored["updated_at"]}
    assert await found(client, am, q="操作手册", tag=tag) == {article["id"]}
    assert_problem(await post_action(client, am, restored, "restore"), 409, "invalid_state")
    assert await read_article(client, am, article["id"]) == restored


# 4. roles and scope -----------------------------------------------------------------

@pytest.mark.parametrize("role", WRITERS)
async def test_every_writing_role_writes_articles(client: httpx.AsyncClient, actors: Actors,
                                                  role: str) -> None:
    who = actors.by_role()[role]
    article = await make_article(client, who)
    assert (article["author_id"], article["department_id"]) == (who.id, who.department_id)
    changed = await patch(client, who, article, title="作者自己修改")
    assert changed.status_code == 200, changed.text
    assert (await post_action(client, who, changed.json(), "archive")).status_code == 200


@pytest.mark.parametrize("role", READ_ONLY)
async def test_read_only_roles_read_and_search_but_never_write(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, role: str) -> None:
    who = actors.by_role()[role]
    tag = unique("只读")
    article = await make_article(client, actors.am_east, title="报销常见问题", tags=[tag])
    title = unique("只读")

    refused = await client.post(ARTICLES, headers=who.headers,
                                json={"kind": "faq", "title": title})
    assert "roles: account_manager, admin, department_head, project_manager, tech_expert" in \
        assert_problem(refused, 403, "forbidden")["detail"]
    assert_problem(await patch(client, who, article, title="改"), 403, "forbidden")
    for action in ("archive", "restore"):
        assert_problem(await post_action(client, who, article, action), 403, "forbidden")

    assert await row_count(app, knowledge_articles, title=title) == 0
    assert await read_article(client, who, article["id"]) == article
    assert await found(client, who, q="报销", tag=tag) == {article["id"]}


async def test_authors_heads_of_their_department_and_admins_change_an_article(
        client: httpx.AsyncClient, actors: Actors) -> None:
    article = await make_article(client, actors.pm, title="原标题")
    for who in (actors.tech, actors.am_east, actors.am_west, actors.head_west):
        response = await patch(client, who, article, title="越权")
        body = assert_problem(response, 404, "not_found")
        assert body["detail"] == "No knowledge article with this id is visible to you."
        assert_problem(await post_action(client, who, article, "archive"), 404, "not_found")
    zh = await client.patch(f"{ARTICLES}/{article['id']}", json={"title": "越权"}, headers={
        **actors.tech.headers, **if_match(article), "Accept-Language": "zh-CN"})
    assert assert_problem(zh, 404, "not_found")["detail"] == "找不到该知识库文章，或您无权查看。"
    assert await read_article(client, actors.pm, article["id"]) == article

    for who in (actors.pm, actors.head_east, actors.admin):
        response = await patch(client, who, article, title=who.username)
        assert response.status_code == 200, response.text
        article = response.json()
        assert (article["title"], article["author_id"]) == (who.username, actors.pm.id)
    assert (await read_article(client, actors.am_west, article["id"]))["version"] == 4


async def test_an_unknown_article_is_404_for_everyone(client: httpx.AsyncClient,
                                                      actors: Actors) -> None:
    missing = {"id": str(uuid.uuid4()), "version": 1}
    assert_problem(await client.get(f"{ARTICLES}/{missing['id']}",
                                    headers=actors.admin.headers), 404, "not_found")
    assert_problem(await patch(client, actors.admin, missing, title="x"), 404, "not_found")
    assert_problem(await post_action(client, actors.admin, missing, "archive"), 404,
                   "not_found")


# 5. search --------------------------------------------------------------------------

async def test_chinese_substrings_of_title_body_and_tags_find_the_article(
        client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("kb")
    delay = await make_article(client, actors.am_east, title="项目延期风险的应对",
                               body="## 背景\n二期上线**滑期**两周", tags=[tag, "交付保障",
                                                                        "Milestone"])
    survey = await make_article(client, actors.pm, title="客户满意度调查",
                                body="问卷回收率低", tags=[tag, "满意度"])
    expected = {
        "延期": {delay["id"]}, "延期风险": {delay["id"]}, "期风": {delay["id"]},
        "项目延期风险的应对": {delay["id"]}, "滑期": {delay["id"]}, "上线**滑期": {delay["id"]},
        "两周": {delay["id"]}, "交付": {delay["id"]}, "保障": {delay["id"]},
        "milestone": {delay["id"]}, "MILE": {delay["id"]}, "st": {delay["id"]},
        "满意": {survey["id"]}, "满意度调查": {survey["id"]}, "回收": {survey["id"]},
        "客户": {survey["id"]}, "的应对背景": set(), "对#": set(), "延期滑期": set(),
        "风险调查": set(), "问卷满意": set(),
    }
    for q, ids in expected.items():
        assert await found(client, actors.auditor, q=q, tag=tag) == ids, q
    assert await found(client, actors.am_west, q="延期", tag=tag) == {delay["id"]}
    assert await found(client, actors.am_west, q="  延期 ", tag=tag) == {delay["id"]}


@pytest.mark.parametrize(("q", "expected"), [
    ("0%", "percent"), ("% 满", "percent"), ("%%", None), ("_方", "underscore"),
    ("__", None), ("O'Brien", "quote"), ('"引号"', "quote"), ('"引', "quote"), ("''", None),
    ("' OR '1'='1", None), ("'; DROP TABLE knowledge_articles; --", None), ("\\%", None),
    ("NEAR(满意", None), ('" OR "', None), ("**", None)])
async def test_wildcards_quotes_and_sql_are_matched_literally(
        client: httpx.AsyncClient, actors: Actors, q: str, expected: str | None) -> None:
    tag = unique("literal")
    made = {
        "percent": await make_article(client, actors.pm, title="百分之100% 满意方案",
                                      tags=[tag]),
        "underscore": await make_article(client, actors.pm, title="说明", body="下划线_方案",
                                         tags=[tag]),
        "quote": await make_article(client, actors.pm, title="经验", tags=[tag,
                                                                         "O'Brien \"引号\""]),
        "decoy": await make_article(client, actors.pm, title="百分之一百满意下划线方案",
                                    tags=[tag]),
    }

    hits = await found(client, actors.pm, q=q, tag=tag)
    everywhere = await client.get(ARTICLES, headers=actors.admin.headers, params={"q": q})

    assert hits == ({made[expected]["id"]} if expected else set())
    assert everywhere.status_code == 200, everywhere.text
    assert await found(client, actors.pm, tag=tag) == {a["id"] for a in made.values()}


async def test_a_query_under_two_characters_is_422(client: httpx.AsyncClient,
                                                   actors: Actors) -> None:
    for q in ("延", "a", " ", " 延 "):
        response = await client.get(ARTICLES, headers=actors.am_east.headers, params={"q": q})
        body = assert_problem(response, 422, "validation_failed")
        assert [(e["parameter"], e["reason"]) for e in body["errors"]] == [
            ("q", "string_too_short")], q


async def test_search_follows_edits_of_title_body_and_tags(client: httpx.AsyncClient,
                                                           actors: Actors) -> None:
    am, tag = actors.tech, unique("edit")
    article = await make_article(client, am, title="旧标题方案", body="旧正文内容",
                                 tags=[tag, "旧标签"])
    for q in ("旧标题", "旧正文", "旧标签"):
        assert await found(client, am, q=q, tag=tag) == {article["id"]}, q

    response = await patch(client, am, article, title="新标题方案", body="新正文内容",
                           tags=[tag, "新标签"])

    assert response.status_code == 200, response.text
    for q in ("旧标题", "旧正文", "旧标签", "旧标", "旧正"):
        assert await found(client, am, q=q, tag=tag) == set(), q
    for q in ("新标题", "新正文", "新标签", "新标", "标题方案", "正文内容"):
        assert await found(client, am, q=q, tag=tag) == {article["id"]}, q


# 6. lists ---------------------------------------------------------------------------

async def test_filters_combine_with_each_other_and_with_q(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    am, tag = actors.am_east, unique("filter")
    customer = await make_customer(client, am)
    other = await make_customer(client, am)
    cr = await change_request(client, am, customer)
    lesson = await make_article(client, am, kind="lesson", title="上线延期的教训", tags=[tag],
                                customer_ids=[customer["id"]], change_request_ids=[cr["id"]])
    case = await make_article(client, am, kind="change_case", title="上线延期的变更",
                              tags=[tag, "案例"], customer_ids=[customer["id"], other["id"]])
    faq = await make_article(client, am, kind="faq", title="发票问题", tags=[tag, "案例"],
                             customer_ids=[other["id"]])

    assert await found(client, am, tag=tag) == {lesson["id"], case["id"], faq["id"]}
    assert await found(client, am, tag=tag, kind="lesson") == {lesson["id"]}
    assert await found(client, am, tag="案例", kind="faq") >= {faq["id"]}
    assert await found(client, am, customer_id=customer["id"]) == {lesson["id"], case["id"]}
    assert await found(client, am, customer_id=other["id"]) == {case["id"], faq["id"]}
    assert await found(client, am, change_request_id=cr["id"]) == {lesson["id"]}
    assert await found(client, am, q="延期", customer_id=other["id"]) == {case["id"]}
    assert await found(client, am, q="延期", tag=tag, kind="change_case") == {case["id"]}
    assert await found(client, am, customer_id=str(uuid.uuid4())) == set()
    assert field_errors(await client.get(ARTICLES, headers=am.headers,
                                         params={"kind": "news"})) == {"kind": "enum"}


async def test_pages_walk_every_article_once_in_each_sort(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    tag = unique("page")
    made = [await make_article(client, actors.pm, title=f"泰山案例{i}", tags=[tag])
            for i in (3, 1, 5, 2, 4)]
    await make_article(client, actors.pm, title="华山案例6", tags=[tag])

    pages = await list_pages(client, ARTICLES, actors.analyst.headers, q="泰山", tag=tag,
                             sort="title", limit=2)
    walked = [a["title"] for page in pages for a in page["data"]]
    assert walked == [f"泰山案例{i}" for i in range(1, 6)]
    assert [len(p["data"]) for p in pages] == [2, 2, 1]

    newest_first = await list_all(client, ARTICLES, actors.analyst.headers, tag=tag, q="泰山",
                                  limit=1)
    assert [a["id"] for a in newest_first] == [a["id"] for a in reversed(made)]
    oldest_first = await list_pages(client, ARTICLES, actors.analyst.headers, tag=tag,
                                    sort="created_at", limit=4)
    assert [a["title"] for p in oldest_first for a in p["data"]] == [
        "泰山案例3", "泰山案例1", "泰山案例5", "泰山案例2", "泰山案例4", "华山案例6"]
    assert_problem(await client.get(ARTICLES, headers=actors.pm.headers,
                                    params={"sort": "body"}), 422, "validation_failed")
    cursor = pages[0]["next_cursor"]
    assert_problem(await client.get(ARTICLES, headers=actors.pm.headers,
                                    params={"q": "泰山", "tag": tag, "sort": "-title",
                                            "cursor": cursor}), 400, "invalid_cursor")


# 7. audit, events, timeline --------------------------------------------------------

async def test_every_write_is_audited_and_emitted_once(client: httpx.AsyncClient, app: FastAPI,
                                                       actors: Actors) -> None:
    am, head = actors.am_east, actors.head_east
    article = await make_article(client, am, kind="faq", title="审计前", body="正文",
                                 tags=["甲"])
    article = (await patch(client, am, article, title="审计后", tags=["甲", "乙"])).json()
    article = (await post_action(client, head, article, "archive")).json()
    await post_action(client, head, article, "restore")

    entries = await audit_entries(client, actors.auditor, "knowledge_article", article["id"])
    assert [(e["action"], e["actor_id"]) for e in entries] == [
        ("knowledge_article.created", am.id), ("knowledge_article.updated", am.id),
        ("knowledge_article.archived", head.id), ("knowledge_article.restored", head.id)]
    created, updated, archived, restored = entries
    assert (created["before"], created["after"]) == (None, {
        "kind": "faq", "title": "审计前", "body": "正文", "tags": ["甲"],
        "change_request_ids": [], "handover_ids": [], "customer_ids": [], "archived": False})
    assert (updated["before"], updated["after"]) == ({"title": "审计前", "tags": ["甲"]},
                                                     {"title": "审计后", "tags": ["甲", "乙"]})
    assert (archived["before"], archived["after"]) == ({"archived": False}, {"archived": True})
    assert (restored["before"], restored["after"]) == ({"archived": True}, {"archived": False})

    events = sorted(await rows(app, outbox, entity_id=article["id"]),
                    key=lambda e: e.occurred_at)
    assert [(e.type, e.entity_type) for e in events] == [
        ("knowledge_article.created", "knowledge_article"),
        ("knowledge_article.updated", "knowledge_article"),
        ("knowledge_article.archived", "knowledge_article"),
        ("knowledge_article.restored", "knowledge_article")]
    assert events[1].data == {"title": "审计后", "kind": "faq", "changed": ["tags", "title"]}


async def timeline_of(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
                      article: dict[str, Any]) -> list[str]:
    events = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                            who.headers)
    return [e["type"] for e in events
            if e["entity_type"] == "knowledge_article" and e["entity_id"] == article["id"]]


async def test_an_article_about_one_customer_is_on_its_timeline(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    am = actors.am_east
    customer, other = await make_customer(client, am), await make_customer(client, am)
    about = await make_article(client, am, title="客户专属方案",
                               customer_ids=[customer["id"]])
    about = (await patch(client, am, about, body="补充说明")).json()
    about = (await post_action(client, am, about, "archive")).json()
    shared = await make_article(client, am, customer_ids=[customer["id"], other["id"]])
    unlinked = await make_article(client, am, customer_ids=[other["id"]])
    unlinked = (await patch(client, am, unlinked, customer_ids=[])).json()

    assert await timeline_of(client, am, customer, about) == [
        "knowledge_article.archived", "knowledge_article.updated", "knowledge_article.created"]
    events = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                            am.headers)
    created = next(e for e in events if e["entity_id"] == about["id"]
                   and e["type"] == "knowledge_article.created")
    assert (created["actor_id"], created["data"]) == (am.id, {"title": "客户专属方案",
                                                              "kind": "solution"})
    assert await timeline_of(client, am, customer, shared) == []
    assert await timeline_of(client, am, other, shared) == []
    assert await timeline_of(client, am, other, unlinked) == [
        "knowledge_article.updated", "knowledge_article.created"]


# 8. written by another use case (closing a change with lessons learned) -------------

async def test_an_article_from_a_change_request_commits_with_the_callers_transaction(
        client: httpx.AsyncClient, app: FastAPI, clock: TestClock, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    cr = await change_request(client, am, customer)
    engines = app.state.engines
    search = TrigramSearch() if engines.dialect == "postgresql" else Fts5Search()
    unit_of_work = SqlUnitOfWorkFactory(engines, clock, search)
    knowledge = app.state.services.knowledge
    ctx = RequestContext(await app.state.services.auth.principal_for_access_token(am.token),
                         "test-close")
    args = ("二期延期的经验教训", "提前两周冻结需求", ["延期", "复盘"], uuid.UUID(cr["id"]),
            uuid.UUID(customer["id"]), clock.now())

    async with unit_of_work(ctx) as uow:  # the caller fails: nothing is kept
        dropped = await knowledge.create_from_change_request(uow, ctx, *args)
    async with unit_of_work(ctx) as uow:
        kept = await knowledge.create_from_change_request(uow, ctx, *args)
        await uow.commit()

    assert_problem(await client.get(f"{ARTICLES}/{dropped.id}", headers=am.headers), 404,
                   "not_found")
    article = await read_article(client, am, str(kept.id))
    assert article | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None, "kind": "lesson", "title": "二期延期的经验教训", "body": "提前两周冻结需求",
        "tags": ["延期", "复盘"], "change_request_ids": [cr["id"]], "handover_ids": [],
        "customer_ids": [customer["id"]], "author_id": am.id, "department_id": actors.east,
        "version": 1, "created_at": None, "updated_at": None, "archived_at": None}
    assert await found(client, actors.pm, q="延期", change_request_id=cr["id"]) == {
        article["id"]}
    assert await timeline_of(client, am, customer, article) == ["knowledge_article.created"]
    entries = await audit_entries(client, actors.auditor, "knowledge_article", article["id"])
    assert [(e["action"], e["request_id"]) for e in entries] == [
        ("knowledge_article.created", "test-close")]
    assert await row_count(app, knowledge_articles, title="二期延期的经验教训") == 1
