"""E-mail through SMTP (issue 15 §6): a real local SMTP server (aiosmtpd) receives what a
survey invitation and a notification produce — subject, recipient, language — through the
e-mail outbox, retried after a failure; the SMTP password appears in no log."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI
from sqlalchemy import select

from app import main
from app.adapters import smtp
from app.repositories.tables_notifications import email_outbox
from app.services import emails
from tests.api.test_auth import all_logs
from tests.conftest import Database, client_for, make_database
from tests.conftest import test_app as app_for
from tests.conftest import test_settings as settings_for
from tests.customer_support import contact, make_customer
from tests.handover_support import start
from tests.notification_support import PREFERENCES, SYSTEM, relay
from tests.support import Actor, TestClock, actor, first_admin
from tests.survey_support import invited, make_template

SMTP_USER = "accord-mailer"
SMTP_PASSWORD = "s3cret-Smtp-Pa55word"


class Mailbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def take(self) -> dict[str, EmailMessage]:
        """The messages received since last taken, by recipient."""
        taken = {to[0]: message for to, message in self.messages}
        self.messages.clear()
        return taken


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode() \
        and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port(),
                            authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@dataclass
class Mailing:
    app: FastAPI
    client: httpx.AsyncClient
    box: Mailbox
    port: int
    database: Database
    admin: Actor


@pytest.fixture(scope="module")
def mail_database(db_engine: str, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Database]:
    yield from make_database(db_engine, tmp_path_factory.mktemp("email"))


def _settings(url: str, port: int) -> Any:
    return settings_for(url, smtp_host="127.0.0.1", smtp_port=port, smtp_username=SMTP_USER,
                         smtp_password=SMTP_PASSWORD, smtp_starttls=False,
                         smtp_from="Accord <noreply@accord.example>",
                         public_url="https://accord.example", log_level="DEBUG")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def mailing(mail_database: Database, mailbox: tuple[Mailbox, int],
                  clock: TestClock) -> AsyncIterator[Mailing]:
    box, port = mailbox
    application = app_for(_settings(mail_database.url, port), clock=clock)
    async with client_for(application) as client:
        yield Mailing(application, client, box, port, mail_database,
                      await first_admin(client, application))
    await application.state.engines.dispose()


async def send(app: FastAPI) -> int:
    return int(await app.state.services.emails.send_pending_emails(SYSTEM))


async def test_a_survey_invitation_goes_out_by_smtp_in_chinese(mailing: Mailing) -> None:
    client, admin = mailing.client, mailing.admin
    am = await actor(client, admin, admin.department_id, ["account_manager"])
    customer = await make_customer(client, am, name="华东能源集团", contacts=[contact("王芳")])
    address = customer["contacts"][0]["emails"][0]["address"]
    template = await make_template(client, admin, name="季度满意度回访")
    issued = await invited(client, am, template, customer)
    assert mailing.box.take() == {}  # staged, not sent inside the request

    assert await send(mailing.app) == 1
    message = mailing.box.take()[address]
    assert message["Subject"] == "【华东能源集团】诚邀您参与满意度调查：季度满意度回访"
    assert (message["To"], message["From"], message["Content-Language"]) == (
        address, "Accord <noreply@accord.example>", "zh-CN")
    body = message.get_content()
    assert "王芳 您好" in body
    assert f"https://accord.example/api/v1/public/surveys/{issued['token']}" in body
    assert await send(mailing.app) == 0  # sent once
    [row] = [r for a, r in await _outbox(mailing.app) if a == address]
    assert (row.sent_at is not None, row.context) == (True, {})  # the link is not kept


async def test_notification_emails_reach_those_who_opted_in_in_their_language(
        mailing: Mailing, caplog: pytest.LogCaptureFixture) -> None:
    client, admin, app = mailing.client, mailing.admin, mailing.app
    department = admin.department_id
    head = await actor(client, admin, department, ["department_head"])
    giving = await actor(client, admin, department, ["account_manager"])
    taking = await actor(client, admin, department, ["account_manager"])
    silent = await actor(client, admin, department, ["account_manager"])
    for who, body, language in ((giving, {"email": True}, "en"),
                                (taking, {"email": True, "language": "zh-CN"}, "en"),
                                (silent, {"email": False}, "zh-CN")):
        read = await client.get(PREFERENCES, headers={**who.headers,
                                                       "Accept-Language": language})
        assert (read.json(), read.headers["etag"]) == (
            {"email": False, "language": language, "version": 0}, '"0"')
        saved = await client.patch(PREFERENCES, json=body, headers={
            **who.headers, "If-Match": '"0"', "Accept-Language": language})
        assert saved.status_code == 200, saved.text
    assert (await client.get(PREFERENCES, headers=giving.headers)).json() == {
        "email": True, "language": "en", "version": 1}
    stale = await client.patch(PREFERENCES, json={"email": False},
                               headers={**giving.headers, "If-Match": '"0"'})
    assert stale.status_code == 412, stale.text

    customer = await make_customer(client, giving, name="西南物流", contacts=[contact()])
    handover = await start(client, head, customer, taking)
    await relay(app)
    staged = {address: row for address, row in await _outbox(app)}
    giving_email, taking_email = f"{giving.username}@example.cn", f"{taking.username}@example.cn"
    assert set(staged) >= {giving_email, taking_email}
    assert f"{silent.username}@example.cn" not in staged
    assert f"{head.username}@example.cn" not in staged  # told in the app only

    # The first attempt fails (the server is down): nothing is lost, it is tried again.
    failing = app_for(_settings(mailing.database.url, _free_port()),
                      clock=app.state.services.clock)
    with all_logs(caplog) as logged:
        for proxy in (emails.log, smtp.log, main.log):
            vars(proxy).pop("bind", None)  # a logger cached before would escape capture
        # Its start-up says how e-mail goes out; its end disposes its engines.
        async with failing.router.lifespan_context(failing):
            assert await send(failing) == 0
        [(_, row)] = [(a, r) for a, r in await _outbox(app) if a == giving_email]
        assert (row.attempts, row.sent_at, row.failed_at) == (1, None, None)
        assert row.last_error.startswith("SMTPConnectError")
        assert mailing.box.take() == {}
        assert await send(app) == 0  # the next attempt waits its pause
        app.state.services.clock.advance(minutes=2)
        try:
            assert await send(app) == 2
        finally:
            app.state.services.clock.advance(minutes=-2)
    for proxy in (emails.log, smtp.log, main.log):
        vars(proxy).pop("bind", None)
    text = "\n".join(logged)
    assert all(name in text for name in ("email_configured", "email_failed", "email_sent"))
    assert "accord-mailer" in text  # who signs in to the server is said, ...
    assert SMTP_PASSWORD not in text  # ... never the password
    assert base64.b64encode(SMTP_PASSWORD.encode()).decode() not in text

    received = mailing.box.take()
    english, chinese = received[giving_email], received[taking_email]
    assert english["Subject"] == "[Accord] Handover of 西南物流: created"
    assert english["Content-Language"] == "en"
    assert f"https://accord.example/api/v1/handovers/{handover['id']}" in english.get_content()
    assert chinese["Subject"] == "【Accord】西南物流 的客户移交：已发起"
    assert chinese["Content-Language"] == "zh-CN"
    assert "客户移交进入新步骤：已发起" in chinese.get_content()


async def _outbox(app: FastAPI) -> list[tuple[str, Any]]:
    async with app.state.engines.read.connect() as conn:
        rows = (await conn.execute(select(email_outbox))).all()
    return [(r.to_address, r) for r in rows]


async def test_without_an_smtp_host_the_start_up_says_e_mail_is_only_logged(
        mail_database: Database, clock: TestClock, caplog: pytest.LogCaptureFixture) -> None:
    stub = app_for(settings_for(mail_database.url), clock=clock)
    with all_logs(caplog) as logged:
        vars(main.log).pop("bind", None)  # a logger cached before would escape capture
        async with stub.router.lifespan_context(stub):
            pass
    vars(main.log).pop("bind", None)
    assert any("email_not_configured" in line and "ACCORD_SMTP_HOST is unset" in line
               for line in logged)
