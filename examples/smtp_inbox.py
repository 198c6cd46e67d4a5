"""For the examples' tests: what a local SMTP server (aiosmtpd) receives,
what a user reads in an account mail (its link and its code), and the
hidden fields of the account pages."""

import email
import email.policy
import re
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope, Session

APP_URL = "http://testserver"


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class Mail:
    """A mail's link (path and query) and code."""

    def __init__(self, message: EmailMessage) -> None:
        body = message.get_content()
        assert isinstance(body, str)
        link = re.search(re.escape(APP_URL) + r"(/[\w/-]*\?flow=([\w-]+)&secret=[\w-]+)", body)
        code = re.search(r"\b(\d{6})\b", body)
        assert link and code, body
        self.link, self.flow_id = link.group(1), link.group(2)
        self.code = code.group(1)


def hidden(html: str, name: str) -> str:
    """The value of a hidden field of one of the account pages."""
    found = re.search(rf"name='{name}' value='([^']*)'", html)
    assert found, html
    return found.group(1)
