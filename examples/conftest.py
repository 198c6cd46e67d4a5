"""Shared by the examples' tests: a local SMTP server that doorward's mails
go through (aiosmtpd, from smtp_inbox.py)."""

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from .smtp_inbox import Inbox


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
