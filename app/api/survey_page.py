"""The survey answer page as plain HTML, for a customer who opens the invitation link in a
browser: zh-CN or English by Accept-Language, the report page's inline style (no external
asset), a plain ``<form method="post">`` (no JavaScript), readable on a phone. The JSON
stays the default for every other client."""

from __future__ import annotations

from html import escape
from typing import Any

from app.api import i18n
from app.api.i18n import ZH
from app.api.report_page import STYLE
from app.domain.common.errors import FieldError
from app.domain.surveys.model import SCALES, Question, QuestionKind

WORDS: dict[str, dict[str, str]] = {
    "en": {"title": "Survey", "submit": "Submit", "optional": "optional",
           "expires": "This link expires", "thanks": "Thank you",
           "thanks_text": "Your answers have been recorded.",
           "fix": "Please check the marked questions.",
           "nps_low": "not likely", "nps_high": "very likely",
           "csat_low": "very dissatisfied", "csat_high": "very satisfied",
           "ces_low": "very easy", "ces_high": "very hard"},
    ZH: {"title": "问卷调查", "submit": "提交", "optional": "选填", "expires": "链接有效期至",
         "thanks": "感谢您的反馈", "thanks_text": "您的回答已记录。",
         "fix": "请检查标出的题目。", "nps_low": "不太可能", "nps_high": "非常可能",
         "csat_low": "非常不满意", "csat_high": "非常满意", "ces_low": "非常容易",
         "ces_high": "非常困难"},
}

FORM_STYLE = """fieldset{border:1px solid #e4e7eb;border-radius:.4rem;margin:1rem 0;
padding:.6rem .8rem}legend{font-weight:600;padding:0 .3rem}.scale{display:flex;
flex-wrap:wrap;gap:.3rem}.scale label{min-width:2.4rem;text-align:center;
border:1px solid #cbd2d9;border-radius:.3rem;padding:.35rem 0}label.opt{display:block;
padding:.3rem 0}textarea{width:100%;box-sizing:border-box;min-height:5rem;font:inherit}
button{font:inherit;font-size:1.05rem;padding:.6rem 1.6rem;border:0;border-radius:.4rem;
background:#1f6feb;color:#fff}.error{color:#b42318}"""


def _words(lang: str) -> dict[str, str]:
    return WORDS[lang if lang in WORDS else "en"]


def _page(lang: str, title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == ZH else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}{FORM_STYLE}</style></head><body>
{body}
</body></html>
"""


def _question(q: Question, w: dict[str, str], errors: dict[str, str],
              given: dict[str, Any]) -> str:
    value = given.get(q.id)
    if q.kind in SCALES:
        scale = SCALES[q.kind]
        marks = "".join(
            f'<label><input type="radio" name="{escape(q.id)}" value="{n}"'
            f'{" checked" if value == n else ""}{" required" if q.required else ""}><br>{n}'
            "</label>" for n in scale)
        hint = (f'<p class="meta">{scale.start} = {w[q.kind.value + "_low"]} · '
                f'{scale.stop - 1} = {w[q.kind.value + "_high"]}</p>')
        field = f'<div class="scale">{marks}</div>{hint}'
    elif q.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        single = q.kind is QuestionKind.SINGLE_CHOICE
        chosen = [value] if single else (value if isinstance(value, list) else [])
        field = "".join(
            f'<label class="opt"><input type="{"radio" if single else "checkbox"}" '
            f'name="{escape(q.id)}" value="{escape(option)}"'
            f'{" checked" if option in chosen else ""}'
            f'{" required" if q.required and single else ""}> {escape(option)}</label>'
            for option in q.options)
    else:
        text = value if isinstance(value, str) else ""
        field = (f'<textarea name="{escape(q.id)}" maxlength="4000"'
                 f'{" required" if q.required else ""}>{escape(text)}</textarea>')
    optional = "" if q.required else f' <span class="meta">({w["optional"]})</span>'
    error = f'<p class="error">{escape(errors[q.id])}</p>' if q.id in errors else ""
    return (f'<fieldset><legend>{escape(q.text)}{optional}</legend>{error}{field}'
            "</fieldset>")


def render_form(found: dict[str, Any], questions: list[Question], lang: str, *,
                field_errors: list[FieldError] | None = None,
                given: dict[str, Any] | None = None) -> str:
    """``found``: the fields of ``PublicSurveyOut``; after a refused submit, the errors per
    question and the answers given, so nothing typed is lost."""
    w = _words(lang)
    errors = {e.pointer.removeprefix("/answers/"): i18n.field_detail(e.reason, e.params, lang)
              for e in field_errors or []}
    notice = f'<p class="error">{w["fix"]}</p>' if errors else ""
    fields = "".join(_question(q, w, errors, given or {}) for q in questions)
    return _page(lang, found["name"], f"""<p class="meta">{w['title']}</p>
<h1>{escape(found['name'])}</h1>
{notice}<form method="post">
{fields}
<button type="submit">{w['submit']}</button>
</form>
<p class="meta">{w['expires']} {found['expires_at']:%Y-%m-%d %H:%M} UTC</p>""")


def render_thanks(lang: str) -> str:
    w = _words(lang)
    return _page(lang, w["thanks"], f"<h1>{w['thanks']}</h1><p>{w['thanks_text']}</p>")


def render_problem(code: str, lang: str) -> str:
    """A refused link (unknown, closed, answered, too many attempts) in the customer's
    words; the status is the JSON route's."""
    return _page(lang, i18n.title(code),
                 f"<h1>{escape(i18n.detail(code, {}, lang))}</h1>")
