"""One row of an import file as Accord fields: which column fed which field (so a
rejection names the column), and what could not be read at all. The rules a single
create applies (credit code, phones, e-mail, duplicates, owner, scope) are applied by the
customer use cases themselves; this module only reads the cells."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.bulk.model import RowProblem
from app.domain.bulk.presets import COLLECTED, CONTACT_TARGETS, JOINED, TARGETS

_CJK = re.compile(r"[\u3400-\u9fff]")
_MONEY_NOISE = re.compile(r"[,\s¥￥$]|CNY|RMB|元", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"[;,；，、]")
_BOOLEAN = {"true": True, "1": True, "yes": True, "是": True,
            "false": False, "0": False, "no": False, "否": False, "": False}


@dataclass
class RowData:
    """The cells of one row by target; ``columns`` says which column fed a target (for
    list targets, the column of each item)."""

    file: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)  # target → a column, even if empty

    def column(self, target: str, index: int = 0) -> str:
        sources = self.columns.get(target) or [self.mapped.get(target, "")]
        return sources[min(index, len(sources) - 1)]

    def reject(self, target: str, code: str, index: int = 0, **params: Any) -> None:
        self.problems.append(RowProblem(self.file, self.line, self.column(target, index),
                                        code, params))

    def has_contact(self) -> bool:
        return any(t in self.values for t in CONTACT_TARGETS)


def check_mapping(mapping: dict[str, str]) -> list[str]:
    """The targets of an explicit mapping that Accord does not know."""
    return sorted({t for t in mapping.values() if t not in TARGETS})


def read_row(file: str, line: int, cells: dict[str, str], mapping: dict[str, str], *,
             id_prefix: str = "") -> RowData:
    row = RowData(file, line)
    order = {column: i for i, column in enumerate(mapping)}
    for column, raw in cells.items():
        target = mapping.get(column)
        text = (raw or "").strip()
        if target is None:
            if text:
                row.unknown[column] = text
            continue
        row.mapped.setdefault(target, column)
        if not text:
            continue
        if target in ("external_id", "account_external_id") and id_prefix and \
                text.startswith(id_prefix):
            text = text[len(id_prefix):]
        if target in COLLECTED:
            items = [text] if target != "tags" else \
                [t.strip() for t in _LIST_SPLIT.split(text) if t.strip()]
            row.values.setdefault(target, []).extend(items)
            row.columns.setdefault(target, []).extend([column] * len(items))
        elif target in JOINED and target in row.values:
            # joined in the mapping's order (province before city), whatever the file's
            parts = sorted([*zip(row.columns[target], row.values[target], strict=True),
                            (column, text)], key=lambda p: order.get(p[0], 0))
            row.columns[target] = [c for c, _ in parts]
            row.values[target] = [t for _, t in parts]
        elif target in JOINED:
            row.values[target] = [text]
            row.columns[target] = [column]
        else:
            row.values[target] = text
            row.columns[target] = [column]
    for target in JOINED & row.values.keys():
        row.values[target] = "".join(row.values[target])
    _parse(row)
    return row


def _parse(row: RowData) -> None:
    """Cells that are not text become values; a cell that cannot is a problem."""
    values = row.values
    if "annual_revenue" in values:
        try:
            values["annual_revenue"] = Decimal(_MONEY_NOISE.sub("", values["annual_revenue"]))
        except InvalidOperation:
            row.reject("annual_revenue", "number_invalid")
            del values["annual_revenue"]
    for name in ("strategic_importance", "growth_potential"):
        if name in values:
            text = values.pop(name)
            if text.isdigit() and 1 <= int(text) <= 5:
                values[name] = int(text)
            else:
                row.reject(name, "scale_invalid")
    if "shared_with_department" in values:
        flag = _BOOLEAN.get(values.pop("shared_with_department").lower())
        if flag is None:
            row.reject("shared_with_department", "boolean_invalid")
        else:
            values["shared_with_department"] = flag
    for name in ("tags", "needs", "custom_attributes", "external_refs", "contacts"):
        value = values.get(name)
        if isinstance(value, str) or (name == "tags" and value and
                                      str(value[0]).startswith("[")):
            text = value if isinstance(value, str) else ",".join(value)
            try:
                values[name] = json.loads(text) if text.startswith(("[", "{")) else \
                    [t.strip() for t in _LIST_SPLIT.split(text) if t.strip()]
            except ValueError:
                row.reject(name, "json_invalid")
                del values[name]
    first, last = values.pop("contact_first_name", ""), values.pop("contact_last_name", "")
    if (first or last) and "contact_name" not in values:
        cjk = _CJK.search(first + last)
        values["contact_name"] = f"{last}{first}" if cjk else f"{first} {last}".strip()
        row.columns["contact_name"] = row.columns.get("contact_last_name") or \
            row.columns.get("contact_first_name", [""])


def column_of_pointer(row: RowData, pointer: str, contacts_in_row: bool) -> str:
    """The column behind a field error of the customer use cases (``/credit_code``,
    ``/contacts/0/phones/1``); the row's name column when none is more precise."""
    parts = pointer.strip("/").split("/")
    if parts[0] == "contacts" and contacts_in_row and len(parts) >= 3:
        target = {"phones": "contact_phone", "emails": "contact_email"}.get(parts[2])
        if target:
            return row.column(target, int(parts[3]) if len(parts) > 3 and
                              parts[3].isdigit() else 0)
        return row.column("contact_name")
    if parts[0] == "owner_id":
        return row.column("owner")
    if parts[0] in row.columns:
        return row.column(parts[0])
    return row.column(parts[0]) if parts[0] else ""
