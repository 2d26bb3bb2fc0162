"""Every stable error code and field reason the domain can raise has English and Chinese
wording: a new code without them would reach clients as "Internal error"."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import app.domain
from app.api import i18n
from app.domain.common.errors import DomainError


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_domain_error_code_has_a_message() -> None:
    for module in pkgutil.walk_packages(app.domain.__path__, "app.domain."):
        importlib.import_module(module.name)
    codes = {cls.code for cls in _all_subclasses(DomainError)}
    missing = sorted(c for c in codes if c not in i18n.MESSAGES)
    assert not missing, f"add en and zh-CN wording to app/api/i18n.py for: {missing}"


def test_every_field_reason_and_state_raised_in_app_has_wording() -> None:
    """Scan the source for FieldError(…, "reason") and InvalidState(state="…")."""
    reasons: set[str] = set()
    states: set[str] = set()
    for path in Path(app.domain.__file__).parents[1].rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("FieldError", "add") and len(node.args) >= 2 and isinstance(
                    node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                reasons.add(node.args[1].value)
            if name == "InvalidState":
                for kw in node.keywords:
                    if kw.arg == "state" and isinstance(kw.value, ast.Constant):
                        states.add(kw.value.value)
    assert not sorted(r for r in reasons if r not in i18n.FIELD_MESSAGES)
    assert not sorted(s for s in states if s not in i18n.STATES)
