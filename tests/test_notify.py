"""Digests by email and Slack against real servers on loopback: aiosmtpd for SMTP (plain,
STARTTLS, SSL), pytest-httpserver for the Slack webhook, a real SQLite file for the queue."""

from __future__ import annotations

import json
import re
import socket
import ssl
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from aiosmtpd.smtp import AuthResult, LoginPassword
from mailserver import Smtp, free_port, running_smtp, start_smtp
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor import notify, store
from monitor.config import ConfigError, Digest, Email, Settings, Slack

NOW = datetime(2025, 10, 10, 3, 0, tzinfo=UTC)
RULES = Path(__file__).parent.parent / "rules"
KAZAKH_LETTERS = "әғқңөұүһі"


# --------------------------------------------------------------------------- real servers


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = store.connect(tmp_path / "monitor.db")
    yield database
    database.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def settings(
    *,
    smtp_port: int | None = None,
    slack_url: str | None = None,
    language: str = "en",
    templates: Path | None = None,
    **email: Any,
) -> Settings:
    mail = None
    if smtp_port is not None:
        options: dict[str, Any] = {"starttls": False, "timeout": 3.0, **email}
        mail = Email(
            host="127.0.0.1",
            port=smtp_port,
            to=["desk@example.org", "editor@example.org"],
            sender="Migration monitor <monitor@example.org>",
            **options,
        )
    slack = Slack(webhook_url=slack_url) if slack_url else None
    return Settings(email=mail, slack=slack, digest=Digest(language=language, templates=templates))


# --------------------------------------------------------------------------- queued changes

LADA = "https://www.lada.kz/news/126-tys.html"
KAZINFORM = "https://www.inform.kz/ru/labour-abroad"
EGEMEN = "https://egemen.kz/article/korea"


def add_article(db: sqlite_utils.Database, url: str, source: str, title: str) -> None:
    db["articles"].insert(
        {"url": url, "source": source, "title": title, "lang": "ru", "published": "2025-10-09"}
    )


def queue(db: sqlite_utils.Database, *changes: dict[str, Any]) -> list[int]:
    """Put changes in the store's queue; returns their ids."""
    return [store.add_change(db, change) for change in changes]


def status_change(**over: Any) -> dict[str, Any]:
    change = {
        "kind": "status",
        "metric": None,
        "dims": {},
        "counterparty": "KR",
        "old": "paused",
        "new": "resumed",
        "unit": None,
        "as_of": "2025-10-09",
        "sources": [LADA, EGEMEN],
        "detected_at": "2025-10-09T12:00:00+00:00",
        "first_seen": False,
        "found_by": "run",
        "evidence": "Осенью переговоры с Кореей возобновились.",
    }
    return {**change, **over}


def figure_change(**over: Any) -> dict[str, Any]:
    change = {
        "kind": "figure",
        "metric": "citizens_abroad",
        "dims": {},
        "counterparty": None,
        "old": 194000,
        "new": 126000,
        "unit": "persons",
        "as_of": "2025-10-09",
        "sources": [LADA, KAZINFORM],
        "detected_at": "2025-10-09T12:00:00+00:00",
        "first_seen": False,
        "found_by": "run",
        "evidence": "Сегодня за рубежом работают 126 тыс. казахстанцев.",
    }
    return {**change, **over}


@pytest.fixture
def queued(db: sqlite_utils.Database) -> list[int]:
    add_article(db, LADA, "Lada.kz", "126 тысяч казахстанцев работают за рубежом")
    add_article(db, KAZINFORM, "Kazinform", "Трудовая миграция")
    add_article(db, EGEMEN, "Egemen Qazaqstan", "Кореямен келіссөздер қайта басталды")
    return queue(
        db,
        status_change(),
        figure_change(),
        figure_change(
            dims={"country": "RU"},
            old=90000,
            new=102000,
            sources=[LADA],
            evidence="Из них 102 тыс. трудятся в России.",
        ),
        figure_change(
            metric="migration_fines",
            dims={"stage": "collected"},
            old=None,
            new=157100000,
            unit="KZT",
            first_seen=True,
            sources=[KAZINFORM],
            evidence="Взыскано штрафов на 157,1 млн тенге.",
        ),
    )


def pending_ids(db: sqlite_utils.Database, channel: str) -> list[int]:
    return sorted(c["id"] for c in store.pending(db, channel))


def hook(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/services/T000/B000/secret")


def posts(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def slack_texts(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, text) of every text object in a Slack payload's blocks."""
    found = []
    for block in payload["blocks"]:
        for obj in [block.get("text"), *block.get("elements", [])]:
            if isinstance(obj, dict) and "text" in obj:
                found.append((obj["type"], obj["text"]))
    return found


# --------------------------------------------------------------------------- email


def test_email_digest_arrives_as_multipart_with_kazakh_and_cyrillic_letters_intact(
    db: sqlite_utils.Database, smtp: Smtp
) -> None:
    add_article(db, EGEMEN, "Egemen Qazaqstan", "Корея")
    evidence = f"Оңтүстік Кореямен келіссөздер қайта басталды ({KAZAKH_LETTERS})."
    [change_id] = queue(db, status_change(sources=[EGEMEN], evidence=evidence))

    [result] = notify.deliver(db, settings(smtp_port=smtp.port, language="kk"), NOW)

    assert result.ok, result.error
    assert (result.channel, result.sent, result.messages) == ("email", 1, 1)
    [envelope] = smtp.inbox.envelopes
    assert envelope.rcpt_tos == ["desk@example.org", "editor@example.org"]
    assert envelope.mail_from == "monitor@example.org"
    [message] = smtp.inbox.messages
    assert message["Subject"] == "Еңбек көші-қоны мониторингі: 1 өзгеріс (2025-10-10)"
    assert message["From"] == "Migration monitor <monitor@example.org>"
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"] == "Fri, 10 Oct 2025 03:00:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert envelope.content.isascii()  # type: ignore[union-attr]  # headers and bodies encoded
    for part in (text.get_content(), html.get_content()):
        assert evidence in part
        assert "Оңтүстік Корея (KR)" in part
    assert "келіссөздер уақытша тоқтатылды → келіссөздер қайта басталды" in text.get_content()
    assert "келіссөздер уақытша тоқтатылды → <strong>келіссөздер қайта басталды</strong>" in (
        html.get_content()
    )
    assert pending_ids(db, "email") == []
    assert pending_ids(db, "slack") == [change_id]


def test_email_to_a_closed_port_fails_in_one_line_and_keeps_every_change_pending(
    db: sqlite_utils.Database, queued: list[int]
) -> None:
    port = free_port()
    [result] = notify.deliver(db, settings(smtp_port=port), NOW)
    assert not result.ok
    assert result.error == f"email: 127.0.0.1:{port}: connection refused"
    assert pending_ids(db, "email") == sorted(queued)


def test_when_the_smtp_server_is_back_the_next_digest_delivers_the_changes_once(
    db: sqlite_utils.Database, queued: list[int]
) -> None:
    port = free_port()
    [down] = notify.deliver(db, settings(smtp_port=port), NOW)
    assert not down.ok
    controller, inbox = start_smtp(port)
    try:
        [back] = notify.deliver(db, settings(smtp_port=port), NOW + timedelta(hours=1))
        [again] = notify.deliver(db, settings(smtp_port=port), NOW + timedelta(hours=2))
    finally:
        controller.stop()
    assert back.ok and back.sent == len(queued)
    assert again.ok and (again.sent, again.detail) == (0, "nothing to send")
    assert len(inbox.envelopes) == 1
    assert pending_ids(db, "email") == []


def test_starttls_is_required_when_configured(
    db: sqlite_utils.Database, queued: list[int], smtp: Smtp
) -> None:
    [result] = notify.deliver(db, settings(smtp_port=smtp.port, starttls=True), NOW)
    assert not result.ok
    assert result.error == f"email: 127.0.0.1:{smtp.port}: the server does not offer STARTTLS"
    assert smtp.inbox.envelopes == []
    assert pending_ids(db, "email") == sorted(queued)


def test_a_server_that_never_answers_times_out_with_a_clear_message(
    db: sqlite_utils.Database, queued: list[int]
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        [result] = notify.deliver(db, settings(smtp_port=port, timeout=0.2), NOW)
    assert result.error == f"email: 127.0.0.1:{port}: connect: timed out after 0.2 s"
    assert pending_ids(db, "email") == sorted(queued)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"monitor", b"s3cret")
    return AuthResult(success=ok, handled=False)


def test_login_uses_the_password_from_the_environment(
    db: sqlite_utils.Database, queued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, inbox = start_smtp(authenticator=_authenticator, auth_require_tls=False)
    config = settings(
        smtp_port=controller.port, username="monitor", password_env="MONITOR_TEST_SMTP_PASSWORD"
    )
    try:
        monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", "wrong")
        [refused] = notify.deliver(db, config, NOW)
        monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", "s3cret")
        [accepted] = notify.deliver(db, config, NOW)
    finally:
        controller.stop()
    assert refused.error is not None
    assert refused.error.startswith(f"email: 127.0.0.1:{controller.port}: login failed: 535")
    assert accepted.ok, accepted.error
    assert len(inbox.envelopes) == 1


def test_a_missing_password_variable_is_reported_and_nothing_is_marked(
    db: sqlite_utils.Database, queued: list[int], smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_TEST_SMTP_PASSWORD", raising=False)
    config = settings(
        smtp_port=smtp.port, username="monitor", password_env="MONITOR_TEST_SMTP_PASSWORD"
    )
    [result] = notify.deliver(db, config, NOW)
    assert result.error == (
        "email: email.password_env: environment variable MONITOR_TEST_SMTP_PASSWORD is not set"
    )
    assert pending_ids(db, "email") == sorted(queued)


@pytest.fixture
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it): a throwaway CA from trustme."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def test_starttls_then_login_delivers_over_tls(
    db: sqlite_utils.Database,
    queued: list[int],
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_context, client_context = tls
    controller, inbox = start_smtp(
        tls_context=server_context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", "s3cret")
    config = settings(
        smtp_port=controller.port,
        starttls=True,
        username="monitor",
        password_env="MONITOR_TEST_SMTP_PASSWORD",
    )
    try:
        [untrusted] = notify.deliver(db, config, NOW)
        [result] = notify.deliver(db, config, NOW, ssl_context=client_context)
    finally:
        controller.stop()
    assert untrusted.error is not None and "TLS failed" in untrusted.error
    assert result.ok, result.error
    assert len(inbox.envelopes) == 1
    assert pending_ids(db, "email") == []


def test_ssl_from_the_first_byte_delivers(
    db: sqlite_utils.Database, queued: list[int], tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_context, client_context = tls
    controller, inbox = start_smtp(ssl_context=server_context)
    config = settings(smtp_port=controller.port, ssl=True)
    try:
        [result] = notify.deliver(db, config, NOW, ssl_context=client_context)
    finally:
        controller.stop()
    assert result.ok, result.error
    [message] = inbox.messages
    assert message.get_content_type() == "multipart/alternative"


# --------------------------------------------------------------------------- both channels


def test_a_digest_run_twice_sends_once_on_each_channel(
    db: sqlite_utils.Database, queued: list[int], smtp: Smtp, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/services/T000/B000/secret", method="POST").respond_with_data("ok")
    config = settings(smtp_port=smtp.port, slack_url=hook(httpserver))
    first = notify.deliver(db, config, NOW)
    second = notify.deliver(db, config, NOW + timedelta(minutes=5))
    assert [(r.channel, r.ok, r.sent) for r in first] == [
        ("email", True, len(queued)),
        ("slack", True, len(queued)),
    ]
    assert [(r.channel, r.ok, r.detail) for r in second] == [
        ("email", True, "nothing to send"),
        ("slack", True, "nothing to send"),
    ]
    assert len(smtp.inbox.envelopes) == 1
    assert len(httpserver.log) == 1


def test_a_slack_failure_leaves_changes_pending_for_slack_only(
    db: sqlite_utils.Database, queued: list[int], smtp: Smtp, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data(
        "invalid_blocks", status=400
    )
    email_result, slack_result = notify.deliver(
        db, settings(smtp_port=smtp.port, slack_url=hook(httpserver)), NOW
    )
    assert email_result.ok
    assert not slack_result.ok
    assert slack_result.error == f"slack: {httpserver.host}: HTTP 400: invalid_blocks"
    assert "secret" not in slack_result.error  # the webhook path is a credential
    assert pending_ids(db, "email") == []
    assert pending_ids(db, "slack") == sorted(queued)
    assert len(httpserver.log) == 1  # a 400 is not retried


def test_an_email_failure_leaves_changes_pending_for_email_only_until_the_next_digest(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("ok")
    port = free_port()
    config = settings(smtp_port=port, slack_url=hook(httpserver))
    email_down, slack_sent = notify.deliver(db, config, NOW)
    assert not email_down.ok and slack_sent.ok
    assert pending_ids(db, "email") == sorted(queued)
    assert pending_ids(db, "slack") == []

    controller, inbox = start_smtp(port)
    try:
        email_back, slack_again = notify.deliver(db, config, NOW + timedelta(hours=1))
    finally:
        controller.stop()
    assert email_back.ok and email_back.sent == len(queued)
    assert (slack_again.ok, slack_again.detail) == (True, "nothing to send")
    assert len(inbox.envelopes) == 1
    assert len(httpserver.log) == 1  # Slack had its digest already: not sent again
    assert pending_ids(db, "email") == []


def test_the_email_puts_statuses_first_then_figures_by_metric_then_first_sightings(
    db: sqlite_utils.Database, smtp: Smtp
) -> None:
    add_article(db, LADA, "Lada.kz", "Цифры")
    add_article(db, KAZINFORM, "Kazinform", "Миграция")
    queue(
        db,
        figure_change(
            metric="migration_violations",
            dims={"region": "astana"},
            unit="cases",
            old=120,
            new=141,
            sources=[KAZINFORM],
            evidence="В Астане выявлено 141 нарушение.",
        ),
        figure_change(metric="kandas", old=None, new=7420, as_of="2024", first_seen=True),
        status_change(),
        figure_change(),
        figure_change(dims={"country": "RU"}, old=90000, new=102000, sources=[LADA]),
    )
    [result] = notify.deliver(db, settings(smtp_port=smtp.port), NOW)
    assert result.ok, result.error
    [message] = smtp.inbox.messages
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    heads = [line for line in lines if line.startswith(("==", "--", "* "))]
    assert heads == [
        "== Agreement statuses ==",
        "* South Korea (KR): talks paused → talks resumed, as of 2025-10-09",
        "== Changed figures ==",
        "-- Citizens of Kazakhstan working abroad --",
        "* total: 194,000 → 126,000 (−68,000, −35.1%), as of 2025-10-09",
        "* country: Russia: 90,000 → 102,000 (+12,000, +13.3%), as of 2025-10-09",
        "-- Offences under migration law --",
        "* region: Astana: 120 → 141 (+21, +17.5%), as of 2025-10-09",
        "== First seen ==",
        "* Kandas status granted — total: 7,420, in 2024",
    ]
    total = lines.index(heads[4])
    assert lines[total + 1 : total + 4] == [
        "“Сегодня за рубежом работают 126 тыс. казахстанцев.”",
        f"Sources: Lada.kz <{LADA}>, Kazinform <{KAZINFORM}>",
        "outlets agreeing: 2",
    ]


def test_dry_run_renders_both_channels_and_marks_nothing(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer
) -> None:
    port = free_port()  # nothing listens: a dry run must not connect
    results = notify.deliver(
        db, settings(smtp_port=port, slack_url=hook(httpserver)), NOW, dry_run=True
    )
    assert [(r.channel, r.ok) for r in results] == [("email", True), ("slack", True)]
    email_text, slack_text = (r.text or "" for r in results)
    assert email_text.startswith("Subject: Labour migration monitor: 4 changes (2025-10-10)")
    assert "126,000" in email_text
    assert json.loads(slack_text)["blocks"][0]["type"] == "header"
    assert httpserver.log == []
    assert pending_ids(db, "email") == sorted(queued)
    assert pending_ids(db, "slack") == sorted(queued)


def test_preview_is_the_email_digest_and_marks_nothing(
    db: sqlite_utils.Database, queued: list[int], smtp: Smtp
) -> None:
    config = settings(smtp_port=smtp.port, language="kk")
    [dry] = notify.deliver(db, config, NOW, dry_run=True)
    text = notify.preview(db, settings=config, now=NOW, channel="email")
    assert text == (dry.text or "").replace("To: desk@example.org, editor@example.org\n", "")
    assert text.startswith("Subject: Еңбек көші-қоны мониторингі: 4 өзгеріс (2025-10-10)\n\n")
    html = notify.preview(db, language="ru", now=NOW, html=True)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ru">' in html
    assert "126\u00a0000" in html
    assert pending_ids(db, "email") == sorted(queued)

    [sent] = notify.deliver(db, config, NOW)
    assert sent.ok, sent.error
    assert notify.preview(db, settings=config, now=NOW, channel="email") == ""
    assert notify.preview(db, settings=config, now=NOW).startswith("Subject: ")  # every change
    with pytest.raises(ConfigError, match="digest language 'de': expected one of en, ru, kk"):
        notify.preview(db, language="de", now=NOW)


def test_changes_found_by_reextract_wait_unless_the_config_includes_them(
    db: sqlite_utils.Database, httpserver: HTTPServer
) -> None:
    [from_run, _] = queue(db, figure_change(), status_change(found_by="reextract"))
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, dry_run=True)
    assert result.detail == "would send 1 change in 1 post"
    assert pending_ids(db, "slack") == [from_run]


def test_unconfigured_or_unknown_channels_are_reported(db: sqlite_utils.Database) -> None:
    assert notify.deliver(db, settings(), NOW) == []
    results = notify.deliver(db, settings(), NOW, channels=["slack", "fax"])
    assert [r.error for r in results] == [
        "slack: not configured ([slack] section)",
        "fax: unknown channel (email or slack)",
    ]


# --------------------------------------------------------------------------- Slack


def test_slack_payload_has_blocks_and_a_text_fallback(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/services/T000/B000/secret", method="POST").respond_with_data("ok")
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW)
    assert result.ok and result.messages == 1
    [request] = [r for r, _ in httpserver.log]
    assert request.headers["Content-Type"] == "application/json"
    [payload] = posts(httpserver)
    assert payload["text"] == "Labour migration monitor: 4 changes (2025-10-10)"
    assert payload["unfurl_links"] is False
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Labour migration monitor — digest of 2025-10-10",
            "emoji": False,
        },
    }
    mrkdwn = [t for kind, t in slack_texts(payload) if kind == "mrkdwn"]
    headings = [t for t in mrkdwn if t.startswith("*") and t.endswith("*")]
    assert headings == [
        "*Agreement statuses*",
        "*Changed figures: Citizens of Kazakhstan working abroad*",
        "*First seen*",
    ]
    status = next(t for t in mrkdwn if t.startswith("*South Korea (KR)*"))
    assert status.startswith(
        "*South Korea (KR)*: talks paused → *talks resumed* · as of 2025-10-09"
    )
    assert f"<{LADA}|Lada.kz>" in status and f"<{EGEMEN}|Egemen Qazaqstan>" in status
    assert "outlets agreeing: 2" in status
    total = next(t for t in mrkdwn if t.startswith("*total*"))
    assert total.startswith("*total*: 194,000 → *126,000* (−68,000, −35.1%)")
    fines = next(t for t in mrkdwn if "Fines" in t)
    assert "*157,100,000 KZT*" in fines
    quotes = [t for kind, t in slack_texts(payload) if kind == "plain_text"][1:]
    assert "“Из них 102 тыс. трудятся в России.”" in quotes


def _hook_sequence(httpserver: HTTPServer, *responses: Response) -> None:
    for response in responses:
        httpserver.expect_ordered_request(
            "/services/T000/B000/secret", method="POST"
        ).respond_with_response(response)


def test_slack_429_waits_for_retry_after_then_succeeds(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer, sleeps: list[float]
) -> None:
    _hook_sequence(
        httpserver,
        Response("rate_limited", status=429, headers={"Retry-After": "7"}),
        Response("ok"),
    )
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, sleep=sleeps.append)
    assert result.ok, result.error
    assert sleeps == [7.0]
    assert len(httpserver.log) == 2
    assert posts(httpserver)[0] == posts(httpserver)[1]
    assert pending_ids(db, "slack") == []


def test_slack_500_backs_off_then_succeeds(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer, sleeps: list[float]
) -> None:
    _hook_sequence(httpserver, Response("oops", status=500), Response("oops", status=503))
    _hook_sequence(httpserver, Response("ok"))
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, sleep=sleeps.append)
    assert result.ok, result.error
    assert sleeps == [1.0, 2.0]
    assert pending_ids(db, "slack") == []


def test_slack_that_keeps_failing_gives_up_and_keeps_the_changes(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer, sleeps: list[float]
) -> None:
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("down", status=502)
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, sleep=sleeps.append)
    assert result.error == f"slack: {httpserver.host}: HTTP 502: down (after 4 attempts)"
    assert sleeps == [1.0, 2.0, 4.0]
    assert pending_ids(db, "slack") == sorted(queued)


def test_a_long_retry_after_is_not_waited_for(
    db: sqlite_utils.Database, queued: list[int], httpserver: HTTPServer, sleeps: list[float]
) -> None:
    _hook_sequence(httpserver, Response("", status=429, headers={"Retry-After": "3600"}))
    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, sleep=sleeps.append)
    assert result.error == f"slack: {httpserver.host}: rate limited for 3600 s"
    assert sleeps == []


def test_a_long_digest_is_split_into_posts_within_slack_limits(
    db: sqlite_utils.Database, httpserver: HTTPServer
) -> None:
    regions = tomllib.loads((RULES / "vocab" / "region.toml").read_text())["values"]
    long_sentence = "Нарушения миграционного законодательства выявлены. " * 12
    changes = [
        figure_change(
            metric="migration_violations",
            dims={"region": region},
            unit="cases",
            old=100 + n,
            new=200 + n,
            as_of=f"{2000 + n}",
            evidence=f"[{n}] {long_sentence}",
        )
        for n, region in enumerate(list(regions) * 6)
    ]
    ids = queue(db, *changes)
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("ok")
    every = replace(
        settings(slack_url=hook(httpserver)), digest=Digest(max_figure_changes=len(ids))
    )

    [result] = notify.deliver(db, every, NOW)

    payloads = posts(httpserver)
    assert result.ok and result.sent == len(ids) and result.messages == len(payloads)
    assert len(payloads) >= 3
    seen: list[int] = []
    for number, payload in enumerate(payloads, 1):
        assert len(payload["blocks"]) <= 50
        texts = slack_texts(payload)
        assert all(len(text) <= 3000 for _, text in texts)
        assert len(payload["blocks"][0]["text"]["text"]) <= 150
        assert sum(len(text) for _, text in texts) + len(payload["text"]) <= 40000
        assert payload["text"].endswith(f"part {number}/{len(payloads)}")
        seen += [int(m) for _, t in texts for m in re.findall(r"“\[(\d+)\]", t)]
    assert sorted(seen) == list(range(len(ids)))  # every change once, none split or lost
    assert pending_ids(db, "slack") == []


def test_a_split_digest_that_fails_halfway_keeps_only_the_unsent_changes(
    db: sqlite_utils.Database, httpserver: HTTPServer, sleeps: list[float]
) -> None:
    changes = [
        figure_change(dims={"country": code}, evidence=f"[{n}]")
        for n, code in enumerate(["RU", "KR", "DE", "PL", "TR", "AE", "GB", "US"] * 5)
    ]
    ids = queue(db, *changes)
    _hook_sequence(httpserver, Response("ok"))
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("gone", status=404)

    [result] = notify.deliver(db, settings(slack_url=hook(httpserver)), NOW, sleep=sleeps.append)

    assert not result.ok and result.messages == 1
    assert result.error is not None and result.error.endswith("(1 of 2 posts made)")
    first_post = [
        int(m) for _, t in slack_texts(posts(httpserver)[0]) for m in re.findall(r"“\[(\d+)\]", t)
    ]
    delivered = {ids[n] for n in first_post}
    assert result.sent == len(delivered) > 0
    assert set(pending_ids(db, "slack")) == set(ids) - delivered


# --------------------------------------------------------------------------- hostile text

HOSTILE = (
    "Say <!channel> and <@U123>, see <http://evil.example|click> *bold* _it_ "
    "<script>alert(1)</script> & \x1b[31mred\x1b[0m \u202eevil\u202c end {{ 7 * 7 }}"
)
PIPED = "https://evil.example/a|<!channel>"  # a stored URL that would close a Slack link
QUOTED = 'https://evil.example/b"onmouseover="alert(1)'  # ... or an HTML attribute
PIPED_LINK = "https://evil.example/a%7C%3C!channel%3E"
HOSTILE_TITLE = '<b>Title</b> <!here> "quoted" <script>x()</script>'


# --------------------------------------------------------------------------- a backlog


def backlog(db: sqlite_utils.Database) -> dict[str, list[int]]:
    """Two status changes, seven figure changes and five first sightings, oldest first; each
    evidence names its change ("[F3]") so the test can see which are shown."""
    add_article(db, LADA, "Lada.kz", "126 тысяч казахстанцев работают за рубежом")
    day = datetime(2025, 10, 1, 6, 0, tzinfo=UTC)
    ids: dict[str, list[int]] = {"status": [], "figure": [], "first": []}
    for n in range(7):
        stamp = (day + timedelta(hours=n)).isoformat()
        ids["figure"] += queue(
            db,
            figure_change(
                dims={"region": "almaty"}, old=100 + n, new=101 + n, detected_at=stamp,
                sources=[LADA], evidence=f"[F{n}] Нарушений стало больше.",
            ),
        )  # fmt: skip
        if n < 5:
            ids["first"] += queue(
                db,
                figure_change(
                    metric="kandas", dims={"origin": "CN"}, old=None, new=300 + n,
                    first_seen=True, detected_at=stamp, sources=[LADA],
                    evidence=f"[S{n}] Қандас мәртебесін алғандар.",
                ),
            )  # fmt: skip
        if n in (2, 5):
            ids["status"] += queue(
                db, status_change(detected_at=stamp, evidence=f"[K{n}] Переговоры идут.")
            )
    return ids


NOT_SHOWN = {
    "en": ("Earlier figure changes not shown here: 4.",
           "Earlier first sightings not shown here: 3.",
           "All of them are on the site and in `monitor changes`.",
           "Labour migration monitor: 14 changes (2025-10-10)"),
    "ru": ("Не показаны более ранние изменения цифр: 4.",
           "Не показаны более ранние впервые замеченные значения: 3.",
           "Все они есть на сайте и в `monitor changes`.",
           "Мониторинг трудовой миграции: 14 изменений (2025-10-10)"),
    "kk": ("Мұнда көрсетілмеген бұрынғы көрсеткіш өзгерістері: 4.",
           "Мұнда көрсетілмеген бұрын алғаш байқалған мәндер: 3.",
           "Олардың бәрі сайтта және `monitor changes` командасында бар.",
           "Еңбек көші-қоны мониторингі: 14 өзгеріс (2025-10-10)"),
}  # fmt: skip


def capped(base: Settings, *, figures: int = 3, first_seen: int = 2, **site: Any) -> Settings:
    digest = replace(base.digest, max_figure_changes=figures, max_first_seen=first_seen)
    return replace(base, digest=digest, site=replace(base.site, **site))


def delivered(db: sqlite_utils.Database, channel: str) -> Counter[int]:
    rows = db.execute("SELECT change_id FROM deliveries WHERE channel = ?", [channel])
    return Counter(r[0] for r in rows)


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_backlog_over_the_caps_shows_the_newest_counts_the_rest_and_delivers_all_once(
    db: sqlite_utils.Database, smtp: Smtp, lang: str
) -> None:
    ids = backlog(db)
    config = capped(settings(smtp_port=smtp.port, language=lang))

    [result] = notify.deliver(db, config, NOW)

    assert result.ok, result.error
    assert (result.sent, result.messages) == (14, 1)
    [message] = smtp.inbox.messages
    more_figures, more_first, see_all, subject = NOT_SHOWN[lang]
    assert message["Subject"] == subject
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        body = part.get_content()
        shown = re.findall(r"\[([FSK]\d)\]", body)
        assert sorted(shown) == ["F4", "F5", "F6", "K2", "K5", "S3", "S4"]  # the newest, statuses
        assert body.count(more_figures) == body.count(more_first) == 1
        assert body.count(see_all) == 2
        assert body.index("[F6]") < body.index(more_figures) < body.index("[S3]")
        assert body.index("[S4]") < body.index(more_first)
    every = [i for group in ids.values() for i in group]
    assert delivered(db, "email") == Counter(every)  # shown or counted: each once
    assert pending_ids(db, "email") == [] and pending_ids(db, "slack") == sorted(every)
    assert notify.deliver(db, config, NOW)[0].detail == "nothing to send"
    assert len(smtp.inbox.messages) == 1


def test_a_slack_backlog_counts_the_rest_links_the_site_and_delivers_all_once(
    db: sqlite_utils.Database, httpserver: HTTPServer
) -> None:
    ids = backlog(db)
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("ok")
    site = "https://monitor.example.kz/migration/"
    config = capped(
        settings(slack_url=hook(httpserver), language="kk"), first_seen=0, base_url=site
    )

    [result] = notify.deliver(db, config, NOW)

    assert result.ok and result.sent == 14
    texts = [t for p in posts(httpserver) for _, t in slack_texts(p)]
    joined = "\n".join(texts)
    assert sorted(re.findall(r"\[([FSK]\d)\]", joined)) == ["F4", "F5", "F6", "K2", "K5"]
    more_figures, _, see_all, _ = NOT_SHOWN["kk"]
    first_seen = "Мұнда көрсетілмеген бұрын алғаш байқалған мәндер: 5."
    link = f"<{site}|{site}>"
    assert f"{more_figures} {see_all} {link}" in texts
    assert f"{first_seen} {see_all} {link}" in texts
    heading = texts.index("*Алғаш байқалғандар*")  # the section keeps its heading
    assert texts[heading + 1].startswith(first_seen)
    every = [i for group in ids.values() for i in group]
    assert delivered(db, "slack") == Counter(every)
    assert pending_ids(db, "slack") == []


def test_a_backlog_in_the_plain_text_preview_is_capped_too(db: sqlite_utils.Database) -> None:
    backlog(db)
    site = "https://monitor.example.kz/"
    text = notify.preview(db, settings=capped(Settings(), base_url=site), now=NOW, language="ru")
    assert text.startswith("Subject: Мониторинг трудовой миграции: 14 изменений")
    more = (
        "Не показаны более ранние изменения цифр: 4. Все они есть на сайте и в `monitor changes`."
    )
    assert f"{more} <{site}>" in text
    assert sorted(re.findall(r"\[([FSK]\d)\]", text)) == ["F4", "F5", "F6", "K2", "K5", "S3", "S4"]
    assert pending_ids(db, "email") != []  # a preview marks nothing


def test_pending_changes_read_in_batches_are_the_pending_changes(
    db: sqlite_utils.Database, queued: list[int]
) -> None:
    store.mark_delivered(db, "email", queued[:1], NOW)
    assert list(store.iter_pending(db, "email", batch=2)) == store.pending(db, "email")
    assert [c["id"] for c in store.iter_pending(db, "email", batch=1)] == sorted(queued[1:])
    assert list(store.iter_pending(db, "slack")) == store.pending(db, "slack")


def test_markup_in_titles_and_evidence_arrives_inert_in_slack_and_in_mail(
    db: sqlite_utils.Database, smtp: Smtp, httpserver: HTTPServer
) -> None:
    add_article(db, LADA, "Lada <!here> & Co", HOSTILE_TITLE)
    queue(
        db,
        figure_change(evidence=HOSTILE, sources=[LADA, "javascript:alert(1)"]),
        status_change(evidence=HOSTILE, sources=[LADA, PIPED, QUOTED]),
    )
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("ok")
    notify.deliver(db, settings(smtp_port=smtp.port, slack_url=hook(httpserver)), NOW)

    # the escape and bidi characters removed (as on the site), the markup left as text
    shown = "Say <!channel> and <@U123>, see <http://evil.example|click> *bold* _it_ " + (
        "<script>alert(1)</script> & [31mred[0m evil end {{ 7 * 7 }}"
    )
    [payload] = posts(httpserver)
    texts = slack_texts(payload)
    mrkdwn = [t for kind, t in texts if kind == "mrkdwn"] + [payload["text"]]
    for text in mrkdwn:
        for live in ("<!channel>", "<!here>", "<@U123>", "<http://evil", "<script>"):
            assert live not in text
        # the only <...> left are links to stored article URLs, `|<>` in them encoded
        assert set(re.findall(r"<([^|>]*)\|", text)) <= {LADA, PIPED_LINK, QUOTED}
    assert any(f"<{PIPED_LINK}|evil.example>" in t for t in mrkdwn)
    objects = [o for b in payload["blocks"] for o in [b.get("text"), *b.get("elements", [])]]
    assert all(o.get("verbatim") is True for o in objects if o and o["type"] == "mrkdwn")
    assert any("Lada &lt;!here&gt; &amp; Co" in t for t in mrkdwn)
    quotes = [t for kind, t in texts if kind == "plain_text"]
    assert quotes.count(f"“{shown}”") == 2  # plain_text: Slack parses no markup in it

    [message] = smtp.inbox.messages
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "<b>Title" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;!channel&gt;" in html
    assert 'title="&lt;b&gt;Title&lt;/b&gt; &lt;!here&gt; &#34;quoted&#34;' in html
    assert re.findall(r'href="([^"]*)"', html) == [
        LADA,  # the status first
        "https://evil.example/a|&lt;!channel&gt;",
        "https://evil.example/b&#34;onmouseover=&#34;alert(1)",
        LADA,
    ]
    assert "onmouseover=" + '"' not in html
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "\x1b" not in text and "\u202e" not in text
    assert shown in text


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("language", "subject", "headings", "numbers"),
    [
        (
            "en",
            "Labour migration monitor: 4 changes (2025-10-10)",
            ["Agreement statuses", "Changed figures", "First seen", "South Korea (KR)"],
            ["194,000 → 126,000 (−68,000, −35.1%)", "157,100,000 KZT", "as of 2025-10-09"],
        ),
        (
            "ru",
            "Мониторинг трудовой миграции: 4 изменения (2025-10-10)",
            ["Статусы соглашений", "Изменившиеся цифры", "Замечено впервые", "Южная Корея (KR)"],
            [
                "194\u00a0000 → 126\u00a0000 (−68\u00a0000, −35,1\u00a0%)",
                "157\u00a0100\u00a0000 тенге",
                "на 2025-10-09",
            ],
        ),
        (
            "kk",
            "Еңбек көші-қоны мониторингі: 4 өзгеріс (2025-10-10)",
            ["Келісімдердің мәртебесі", "Өзгерген көрсеткіштер", "Алғаш байқалғандар"],
            [
                "194\u00a0000 → 126\u00a0000 (−68\u00a0000, −35,1%)",
                "157\u00a0100\u00a0000 теңге",
                "2025-10-09 жағдай бойынша",
            ],
        ),
    ],
)
def test_the_digest_is_written_in_the_configured_language(
    db: sqlite_utils.Database,
    queued: list[int],
    language: str,
    subject: str,
    headings: list[str],
    numbers: list[str],
) -> None:
    [result] = notify.deliver(
        db, settings(smtp_port=free_port(), language=language), NOW, dry_run=True
    )
    text = result.text or ""
    assert text.startswith(f"Subject: {subject}\n")
    for expected in headings + numbers:
        assert expected in text


def test_every_metric_status_and_vocabulary_value_has_a_label_in_every_language() -> None:
    table = tomllib.loads((notify.TEMPLATES / "labels.toml").read_text(encoding="utf-8"))

    def entries(section: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in section.items() if isinstance(v, dict)}

    for name, section in [
        ("word", table["word"]),
        ("metric", table["metric"]),
        ("status", table["status"]),
        ("dim", table["dim"]),
        ("unit", table["unit"]),
        *[(f"value.{k}", v) for k, v in table["value"].items()],
    ]:
        for key, entry in entries(section).items():
            assert set(entry) == {"en", "ru", "kk"}, f"{name}.{key}"
    metrics = tomllib.loads((RULES / "metrics.toml").read_text(encoding="utf-8"))
    assert {k for k, v in metrics.items() if isinstance(v, dict) and "unit" in v} == set(
        table["metric"]
    )
    statuses = tomllib.loads((RULES / "statuses.toml").read_text(encoding="utf-8"))
    assert set(statuses["status"]) == set(table["status"])
    for vocab in (RULES / "vocab").glob("*.toml"):
        values = tomllib.loads(vocab.read_text(encoding="utf-8"))["values"]
        assert set(values) <= set(table["value"][vocab.stem]), vocab.name
        assert vocab.stem in table["dim"] or vocab.stem == "country"


@pytest.mark.parametrize(
    ("count", "word"),
    [(1, "изменение"), (3, "изменения"), (5, "изменений"), (11, "изменений"), (21, "изменение")],
)
def test_russian_counts_take_the_right_plural(count: int, word: str) -> None:
    assert notify.load_labels("ru").plural("changes", count) == word


def test_a_template_in_the_override_folder_wins(
    db: sqlite_utils.Database, queued: list[int], tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    (folder / "ru").mkdir(parents=True)
    (folder / "ru" / "subject.txt").write_text("Сводка {{ d.day }}: {{ d.count }}")
    (folder / "body.txt").write_text(
        "Своя сводка — {{ w.figures }}\n{% for g in d.figures %}{{ g.title }}\n{% endfor %}"
    )
    (folder / "labels.toml").write_text('[word]\nfigures = { ru = "Цифры дня" }\n')
    config = settings(smtp_port=free_port(), language="ru", templates=folder)

    [result] = notify.deliver(db, config, NOW, dry_run=True)

    assert result.text == (
        "Subject: Сводка 2025-10-10: 4\nTo: desk@example.org, editor@example.org\n\n"
        "Своя сводка — Цифры дня\nГраждане Казахстана, работающие за рубежом\n"
    )


def test_a_broken_override_template_is_reported_and_nothing_is_marked(
    db: sqlite_utils.Database, queued: list[int], tmp_path: Path, smtp: Smtp
) -> None:
    (tmp_path / "body.html").write_text("<p>{{ d.count }</p>\n")
    [result] = notify.deliver(db, settings(smtp_port=smtp.port, templates=tmp_path), NOW)
    assert result.error is not None
    assert result.error.startswith(f"email: template {tmp_path / 'body.html'}:1: ")
    assert smtp.inbox.envelopes == []
    assert pending_ids(db, "email") == sorted(queued)


# --------------------------------------------------------------------------- source health


@dataclass(frozen=True)
class Src:
    name: str
    silent_after: timedelta = timedelta(days=7)
    enabled: bool = True


def test_failing_and_silent_sources_are_listed_at_the_end_of_the_digest(
    db: sqlite_utils.Database, queued: list[int]
) -> None:
    db["sources"].insert_all(
        [
            {
                "name": "Tengrinews",
                "last_fetch": (NOW - timedelta(minutes=10)).isoformat(),
                "last_success": (NOW - timedelta(days=3)).isoformat(),
                "failures": 12,
                "last_error": "HTTP 503 <b>Service Unavailable</b>",
                "newest_item": (NOW - timedelta(days=3)).isoformat(),
            },
            {
                "name": "Azattyq",
                "last_fetch": (NOW - timedelta(minutes=10)).isoformat(),
                "last_success": NOW.isoformat(),
                "failures": 0,
                "newest_item": "2025-09-01T00:00:00+00:00",
            },
            {
                "name": "Lada.kz",
                "last_fetch": NOW.isoformat(),
                "last_success": NOW.isoformat(),
                "failures": 0,
                "newest_item": NOW.isoformat(),
            },
            {
                "name": "Removed",  # no longer in the sources folder: not fetched any more
                "last_fetch": (NOW - timedelta(days=30)).isoformat(),
                "last_success": (NOW - timedelta(days=40)).isoformat(),
                "failures": 50,
            },
        ]
    )
    sources = [Src("Tengrinews"), Src("Azattyq"), Src("Lada.kz")]
    [result] = notify.deliver(
        db, settings(smtp_port=free_port()), NOW, dry_run=True, sources=sources
    )
    text = result.text or ""
    tail = text[text.index("== Sources needing attention ==") :]
    assert tail.splitlines()[2:4] == [
        "* Tengrinews: failing since 2025-10-07 08:00 — last error: HTTP 503 <b>Service "
        "Unavailable</b>",
        "* Azattyq: no new items since 2025-09-01 05:00",
    ]
    assert "Lada.kz:" not in tail and "Removed" not in tail

    # Without the source files only failing can be judged, of sources still being fetched.
    [without_sources] = notify.deliver(db, settings(smtp_port=free_port()), NOW, dry_run=True)
    tail = (without_sources.text or "").split("== Sources needing attention ==")[1]
    assert "Tengrinews: failing since" in tail
    assert "Azattyq" not in tail and "Removed" not in tail


# --------------------------------------------------------------------------- notify-test


def test_notify_test_sends_a_short_message_to_every_channel(
    smtp: Smtp, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/services/T000/B000/secret").respond_with_data("ok")
    config = settings(smtp_port=smtp.port, slack_url=hook(httpserver), language="ru")
    results = notify.notify_test(config, now=NOW)
    assert [(r.channel, r.ok) for r in results] == [("email", True), ("slack", True)]
    [message] = smtp.inbox.messages
    assert message["Subject"] == "Мониторинг трудовой миграции: тестовое сообщение"
    assert "2025-10-10 08:00" in message.get_content()
    [payload] = posts(httpserver)
    assert payload["text"] == "Мониторинг трудовой миграции: тестовое сообщение"


def test_notify_test_reports_each_real_failure(httpserver: HTTPServer) -> None:
    def not_found(request: Request) -> Response:
        return Response("no_service", status=404)

    httpserver.expect_request("/services/T000/B000/secret").respond_with_handler(not_found)
    port = free_port()
    results = notify.notify_test(settings(smtp_port=port, slack_url=hook(httpserver)), now=NOW)
    assert [r.error for r in results] == [
        f"email: 127.0.0.1:{port}: connection refused",
        f"slack: {httpserver.host}: HTTP 404: no_service",
    ]
