"""The shared progress report as a plain HTML page, for a customer who opens the link in
a browser: zh-CN or English by Accept-Language, inline CSS only (no external asset, no
JavaScript), readable on a phone. The JSON stays the default for every other client."""

from __future__ import annotations

from html import escape
from typing import Any

from app.api.i18n import ZH

WORDS: dict[str, dict[str, str]] = {
    "en": {"title": "Progress report", "period": "Period", "done": "Completed work",
           "issues": "Issues", "next": "Next steps", "milestones": "Milestones",
           "planned": "Planned", "actual": "Actual", "status": "Status",
           "on_time": "On time", "late": "Late", "open": "—", "published": "Published",
           "expires": "This link expires", "acknowledged": "Acknowledged",
           "pending": "pending", "in_progress": "in progress", "done_status": "done"},
    ZH: {"title": "项目进展报告", "period": "报告期", "done": "已完成工作", "issues": "问题与风险",
         "next": "下一步计划", "milestones": "里程碑", "planned": "计划日期", "actual": "实际日期",
         "status": "状态", "on_time": "按期", "late": "延期", "open": "—", "published": "发布时间",
         "expires": "链接有效期至", "acknowledged": "已确认", "pending": "未开始",
         "in_progress": "进行中", "done_status": "已完成"},
}

STYLE = """body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
margin:0;padding:1rem;max-width:44rem;margin:auto;line-height:1.6;color:#1f2933}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin-top:1.4rem}
p.meta{color:#52606d;font-size:.9rem}table{border-collapse:collapse;width:100%;
font-size:.95rem}td,th{border-bottom:1px solid #e4e7eb;padding:.4rem;text-align:left}
.late{color:#b42318}.ok{color:#027a48}section{white-space:pre-wrap}"""


def wants_html(accept: str | None) -> bool:
    """A browser asks for text/html before JSON; API clients ask for JSON or anything."""
    if not accept:
        return False
    html = accept.find("text/html")
    json = accept.find("application/json")
    return html != -1 and (json == -1 or html < json)


def render(found: dict[str, Any], lang: str) -> str:
    """``found``: the customer-facing fields of ``PublicReportOut``."""
    w = WORDS[lang if lang in WORDS else "en"]
    rows = []
    for m in found["milestone_status"]:
        timing = (w["on_time"] if m["on_time"] else w["late"]) if m["on_time"] is not None \
            else w["open"]
        css = "ok" if m["on_time"] else "late" if m["on_time"] is False else ""
        status = w["done_status"] if m["status"] == "done" else w.get(m["status"], m["status"])
        rows.append(f"<tr><td>{escape(m['title'])}</td><td>{m['planned_date']}</td>"
                    f"<td>{m['actual_date'] or w['open']}</td><td>{escape(status)}</td>"
                    f"<td class=\"{css}\">{timing}</td></tr>")
    acknowledged = (f"<p class=\"meta\">{w['acknowledged']}: {found['acknowledged_at']:%Y-%m-%d}"
                    "</p>") if found["acknowledged_at"] else ""
    sections = "".join(f"<h2>{w[key]}</h2><section>{escape(found[field]) or w['open']}</section>"
                       for key, field in (("done", "completed_work"), ("issues", "issues"),
                                          ("next", "next_steps")))
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == ZH else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(w['title'])} · {escape(found['plan_title'])}</title>
<style>{STYLE}</style></head><body>
<p class="meta">{escape(found['customer_name'])}</p>
<h1>{escape(found['plan_title'])} — {escape(w['title'])}</h1>
<p class="meta">{w['period']}: {found['period_start']} – {found['period_end']} ·
{w['published']}: {found['published_at']:%Y-%m-%d}</p>
{sections}
<h2>{w['milestones']}</h2>
<table><thead><tr><th></th><th>{w['planned']}</th><th>{w['actual']}</th>
<th>{w['status']}</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>
{acknowledged}
<p class="meta">{w['expires']} {found['link_expires_at']:%Y-%m-%d %H:%M} UTC</p>
</body></html>
"""
