"""``accord escalate`` runs the worker's jobs once, the reminders and the e-mails waiting in
the outbox among them."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import accord, migrated


def test_escalate_announces_reminders_and_sends_pending_emails(tmp_path: Path) -> None:
    db = migrated(tmp_path / "escalate.db")
    run = accord(db, "escalate")
    assert run.code == 0, run.output
    lines = run.output.splitlines()
    assert "0 reminder(s) announced" in lines, run.output
    assert "0 e-mail(s) sent" in lines, run.output
