"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the digest tests
(`test_notify`) and the daemon tests (`test_daemon`)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.content, policy=default_policy)  # type: ignore[misc]
            for e in self.envelopes
        ]


def free_port() -> int:
    """A loopback port nothing listens on (closed right after it is found; aiosmtpd cannot
    be given port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Smtp:
    inbox: Inbox
    port: int


def start_smtp(port: int | None = None, **options: Any) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    return controller, inbox


@contextmanager
def running_smtp(**options: Any) -> Iterator[Smtp]:
    """An SMTP server for the duration of the block."""
    controller, inbox = start_smtp(**options)
    try:
        yield Smtp(inbox, controller.port)
    finally:
        controller.stop()
