"""The e-mails of the plan-milestone and next-contact reminders read as themselves in both
languages (not the generic fallback)."""

from __future__ import annotations

from app.adapters.email_templates import JinjaEmailRenderer


def test_milestone_and_contact_reminders_have_their_own_words() -> None:
    render = JinjaEmailRenderer().render
    milestone = {"kind": "plan_milestone_due_soon", "url": "https://accord.example/p",
                 "details": {"title": "试运行", "plan_title": "ERP 实施",
                             "planned_date": "2026-10-09"}}
    contact = {"kind": "contact_due_soon", "url": "https://accord.example/c",
               "details": {"customer_name": "江南纺织", "due_on": "2026-10-08"}}
    assert render("notification", "zh-CN", milestone)[0] == "【Accord】里程碑即将到期：试运行"
    assert "计划“ERP 实施”的里程碑“试运行”计划于 2026-10-09 完成" in render(
        "notification", "zh-CN", milestone)[1]
    subject, body = render("notification", "en", contact)
    assert subject == "[Accord] Next contact due: 江南纺织"
    assert "due on 2026-10-08" in body and "https://accord.example/c" in body
    assert "下一次联系应于 2026-10-08" in render("notification", "zh-CN", contact)[1]
