"""The private names of SQLAlchemy and Starlette the fast path relies on
(app/repositories/direct.py, app/api/route_matching.py) are still where and what they were.

pyproject.toml pins those libraries to the tested minor version; when a pin is raised,
this test says which internal moved, by name, before a behaviour test fails obscurely.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, column, literal, select, table
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    PGDialect_asyncpg,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

# SQLAlchemy's asyncpg adapter: what direct._on_asyncpg and _raise_as_sqlalchemy touch.
ADAPTER_ATTRIBUTES = ("_execute_mutex", "_transaction", "_connection")
ADAPTER_METHODS = {"_start_transaction": ["self"], "_handle_exception": ["self", "error"]}


def _parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def _compiled() -> Any:
    things = table("things", column("id", Integer))
    stmt = select(things.c.id, literal(1).label("one")).where(
        things.c.id == bindparam("thing_id", type_=Integer))
    return stmt.compile(dialect=PGDialect_asyncpg())


@pytest.mark.parametrize("name", ADAPTER_ATTRIBUTES)
def test_the_asyncpg_adapter_keeps_its_attribute(name: str) -> None:
    assert hasattr(AsyncAdapt_asyncpg_connection, name), (
        f"sqlalchemy: AsyncAdapt_asyncpg_connection.{name} is gone; "
        "app/repositories/direct.py (_on_asyncpg) uses it")


@pytest.mark.parametrize(("name", "parameters"), ADAPTER_METHODS.items())
def test_the_asyncpg_adapter_keeps_its_method(name: str, parameters: list[str]) -> None:
    method = getattr(AsyncAdapt_asyncpg_connection, name, None)
    assert callable(method), (f"sqlalchemy: AsyncAdapt_asyncpg_connection.{name}() is gone; "
                              "app/repositories/direct.py uses it")
    assert _parameters(method) == parameters, (
        f"sqlalchemy: AsyncAdapt_asyncpg_connection.{name} now takes {_parameters(method)}, "
        f"app/repositories/direct.py calls it as {parameters}")


def test_the_connection_still_handles_dbapi_errors_as_called() -> None:
    method = getattr(Connection, "_handle_dbapi_exception", None)
    assert method is not None, ("sqlalchemy: Connection._handle_dbapi_exception is gone; "
                                "direct._raise_as_sqlalchemy uses it")
    assert _parameters(method)[:6] == ["self", "e", "statement", "parameters", "cursor",
                                       "context"], (
        f"sqlalchemy: Connection._handle_dbapi_exception now takes {_parameters(method)}; "
        "direct._raise_as_sqlalchemy passes (error, sql, None, None, None)")


def test_types_still_cache_result_processors_per_dialect_and_type_code() -> None:
    method = getattr(TypeEngine, "_cached_result_processor", None)
    assert method is not None, ("sqlalchemy: TypeEngine._cached_result_processor is gone; "
                                "direct._send uses it")
    assert _parameters(method) == ["self", "dialect", "coltype"], (
        f"sqlalchemy: TypeEngine._cached_result_processor now takes {_parameters(method)}")


def test_a_compiled_statement_still_exposes_its_binds_and_result_columns() -> None:
    compiled = _compiled()
    for name in ("binds", "positiontup", "insert_prefetch", "update_prefetch",
                 "_bind_processors", "_result_columns"):
        assert hasattr(compiled, name), (f"sqlalchemy: SQLCompiler.{name} is gone; "
                                         "direct._plan uses it")
    assert compiled.positiontup == ["param_1", "thing_id"], (
        f"sqlalchemy: SQLCompiler.positiontup is now {compiled.positiontup!r}")
    assert compiled.binds["param_1"].value == 1, (
        "sqlalchemy: SQLCompiler.binds no longer maps names to parameters with .value")
    assert "thing_id" not in compiled._bind_processors or \
        callable(compiled._bind_processors["thing_id"]), \
        "sqlalchemy: SQLCompiler._bind_processors no longer maps names to processors"
    entries = [(entry.keyname, entry.type) for entry in compiled._result_columns]
    assert [name for name, _ in entries] == ["id", "one"], (
        "sqlalchemy: SQLCompiler._result_columns entries no longer carry .keyname")
    assert all(isinstance(type_, TypeEngine) for _, type_ in entries), (
        "sqlalchemy: SQLCompiler._result_columns entries no longer carry .type")


def test_expanding_parameters_still_compile_to_the_postcompile_marker() -> None:
    things = table("things", column("id", Integer))
    compiled = select(things.c.id).where(
        things.c.id.in_(bindparam("ids", expanding=True))).compile(dialect=PGDialect_asyncpg())
    assert "POSTCOMPILE" in compiled.string, (
        "sqlalchemy: expanding parameters no longer compile to __[POSTCOMPILE_…]; "
        "direct._plan refuses them by that marker")


def test_greenlet_spawn_is_still_exported_by_sqlalchemy_util() -> None:
    from sqlalchemy import util

    assert callable(getattr(util, "greenlet_spawn", None)), (
        "sqlalchemy: sqlalchemy.util.greenlet_spawn is gone; direct._raise_as_sqlalchemy "
        "uses it")


def test_starlette_still_has_its_route_path_helper() -> None:
    try:
        from starlette._utils import get_route_path
    except ImportError as missing:  # pragma: no cover - the failure this test is for
        pytest.fail(f"starlette: starlette._utils.get_route_path is gone ({missing}); "
                    "app/api/route_matching.py uses it")
    assert _parameters(get_route_path) == ["scope"], (
        f"starlette: get_route_path now takes {_parameters(get_route_path)}")
    scope = {"type": "http", "path": "/api/v1/customers", "root_path": "/api"}
    assert get_route_path(scope) == "/v1/customers", (
        "starlette: get_route_path no longer strips the root path")
