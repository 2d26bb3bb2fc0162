"""E-mail transports: SMTP through aiosmtplib, and the development log that stands in when
``ACCORD_SMTP_HOST`` is unset. Neither ever logs the SMTP password or a message body."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
import structlog

from app.services.ports.notifications import EmailMessage, EmailUndeliverable

log = structlog.get_logger("accord.email")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465)
    timeout_s: float = 10.0


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> None:
        c = self._config
        mime = MimeMessage()
        mime["From"] = c.sender
        mime["To"] = message.to_address
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(localtime=False)
        mime["Message-ID"] = make_msgid(domain=c.sender.rpartition("@")[2] or None)
        mime.set_content(message.body, charset="utf-8")
        mime["Content-Language"] = message.language  # after: set_content clears Content-*
        try:
            await aiosmtplib.send(mime, hostname=c.host, port=c.port, username=c.username,
                                  password=c.password, use_tls=c.ssl,
                                  start_tls=c.starttls and not c.ssl, timeout=c.timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise EmailUndeliverable("recipient refused") from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The server's answer may quote what was sent: keep only its code.
            raise RuntimeError(f"SMTP authentication failed ({exc.code})") from None


class LoggingTransport:
    """The development default: says what would have been sent (never the body, which
    may hold a survey link)."""

    async def send(self, message: EmailMessage) -> None:
        log.info("email_stub_delivery", to=message.to_address, subject=message.subject,
                 language=message.language)
