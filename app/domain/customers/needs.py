"""Needs (需求) are tags from a vocabulary the administrator manages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.common.errors import FieldError, InvalidInput

DEFAULT_NEEDS = {
    "cost_reduction": "降本增效",
    "digital_transformation": "数字化转型",
    "compliance": "合规",
    "data_security": "数据安全",
    "after_sales_service": "售后服务",
    "customization": "定制开发",
    "training": "培训",
    "system_integration": "系统集成",
}


@dataclass(frozen=True)
class NeedsVocabulary:
    terms: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NEEDS))

    def check(self, needs: list[str], pointer: str = "/needs") -> list[str]:
        unknown = [n for n in needs if n not in self.terms]
        if unknown:
            raise InvalidInput([FieldError(pointer, "need_unknown",
                                           {"values": ", ".join(unknown)})])
        return sorted(set(needs))

    def to_dict(self) -> dict[str, Any]:
        return {"terms": dict(self.terms)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NeedsVocabulary:
        return cls(dict(data["terms"]))
