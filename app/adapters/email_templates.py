"""E-mail subjects and bodies in zh-CN and en from Jinja templates
(``app/adapters/email_templates/<kind>.<language>.txt``, blocks ``subject`` and ``body``).
Plain text: nothing is HTML-escaped, and a subject is one line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, Undefined

TEMPLATES = Path(__file__).with_suffix("")
LANGUAGES = ("zh-CN", "en")
DECISIONS_ZH = {"step_approved": "本步已通过", "approved": "已批准", "rejected": "被驳回",
                "returned": "被退回"}
STEPS_ZH = {"created": "已发起", "notified": "已通知相关方", "preparation_started": "开始准备",
            "meeting_held": "已召开交接会", "signed": "已签字", "transferred": "已完成移交",
            "followed_up": "已回访", "cancelled": "已取消"}


class JinjaEmailRenderer:
    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self._zone = ZoneInfo(timezone)
        # Plain-text e-mail: HTML escaping would garble names such as "A & B".
        self._env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,  # noqa: S701
                                undefined=Undefined, keep_trailing_newline=True)
        self._env.filters.update(when=self._when,
                                 decision_zh=lambda v: DECISIONS_ZH.get(str(v), str(v)),
                                 step_zh=lambda v: STEPS_ZH.get(str(v), str(v)))
        # Every template is read once, at start-up: rendering does no file I/O.
        self._templates = {(path.name.split(".")[0], path.name.split(".")[1]):
                           self._env.get_template(path.name)
                           for path in TEMPLATES.glob("*.txt")}

    def render(self, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        template = self._templates[(kind, language if language in LANGUAGES else "zh-CN")]
        values = template.new_context(dict(context))
        subject = "".join(template.blocks["subject"](values)).strip()
        body = "".join(template.blocks["body"](values))
        return " ".join(subject.split()), body

    def _when(self, value: Any) -> str:
        """An instant in the calendar's zone (the reader's working time), to the minute."""
        if not value:
            return ""
        try:
            instant = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return instant.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")


