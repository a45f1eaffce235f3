"""`monitor demo` as a newcomer runs it: the installed command in a fresh working folder, with
a guard that refuses (and records) every connection and name lookup off loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Loaded by Python at start-up from PYTHONPATH: wraps the socket calls the process makes.
GUARD = """
import ipaddress
import os
import socket

_LOG = os.environ["DEMO_NET_LOG"]


def _loopback(host):
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _note(kind, host, allowed):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{kind} {host} {'ok' if allowed else 'BLOCKED'}\\n")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        allowed = _loopback(address[0])
        _note("connect", address[0], allowed)
        if not allowed:
            raise OSError(f"network off loopback refused by the test: {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    allowed = _loopback(host.decode() if isinstance(host, bytes) else host)
    _note("resolve", host, allowed)
    if not allowed:
        raise socket.gaierror(socket.EAI_NONAME, "name lookups refused by the test")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run of `monitor demo` (no options, as the README says), its output and its tmp."""
    root = tmp_path_factory.mktemp("demo")
    guard, cwd, tmp = root / "guard", root / "cwd", root / "tmp"
    for folder in (guard, cwd, tmp):
        folder.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = root / "net.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(guard),
        "DEMO_NET_LOG": str(log),
        "TMPDIR": str(tmp),
        "PYTHONIOENCODING": "utf-8",
    }
    for proxy in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(proxy, None)
    command = Path(sys.executable).with_name("monitor")
    result = subprocess.run(
        [str(command), "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,  # a hung demo fails the test instead of hanging it
    )
    return result, root


def test_the_demo_finishes_cleanly_without_failing_sources(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, _ = demo
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    steps = re.findall(r"^== \d{4}-\d{2}-\d{2}: (.*)$", result.stdout, re.M)
    assert len(steps) == 5
    assert all(step.startswith("sources: 3 ok, 0 failed;") for step in steps), steps
    assert not re.search(r"^   ! ", result.stdout, re.M)


def test_the_demo_shows_changes_from_kazakh_russian_and_english_articles(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, _ = demo
    lines = re.findall(r"^   \[(kk|ru|en)\] (.*)$", result.stdout, re.M)
    for lang in ("kk", "ru", "en"):
        changed = [line for found, line in lines if found == lang and "first seen" not in line]
        assert changed, f"no change (other than a first sighting) from a {lang} article"
        assert all(" → " in line for line in changed)
    assert ("kk", "citizens_abroad: 118,000 → 126,000 (as of 2025-04-01)") in lines
    assert ("en", "agreement with KR: paused → resumed") in lines
    assert ("ru", "citizens_abroad: 126,000 → 131,000 (as of 2025-10-01)") in lines


def test_the_demo_prints_the_digest_in_three_languages_and_writes_them(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, root = demo
    out = result.stdout
    subject = "Subject: Labour migration monitor: 16 changes (2025-11-22)"
    assert subject in out
    digest = out[out.index(subject) :]
    sections = ["== Agreement statuses ==", "== Changed figures ==", "== First seen =="]
    assert [digest.index(s) for s in sections] == sorted(digest.index(s) for s in sections)
    assert "* total: 118,000 → 126,000 (+8,000, +6.8%), as of 2025-04-01" in digest
    assert "* South Korea (KR): talks resumed → signed, as of 2025-11-20" in digest
    assert "outlets agreeing: 2" in digest
    assert "Subject: Мониторинг трудовой миграции: 16 изменений (2025-11-22)" in out
    assert "* всего: 118\u00a0000 → 126\u00a0000 (+8\u00a0000, +6,8\u00a0%), на 2025-04-01" in out
    assert "Subject: Еңбек көші-қоны мониторингі: 16 өзгеріс (2025-11-22)" in out
    assert "келіссөздер қайта басталды → қол қойылды" in out
    [kept] = (root / "tmp").glob("monitor-demo-*")
    for lang in ("en", "ru", "kk"):
        assert (kept / f"digest-{lang}.txt").read_text(encoding="utf-8").startswith("Subject: ")
        assert f'<html lang="{lang}">' in (kept / f"digest-{lang}.html").read_text("utf-8")


def test_the_demo_writes_the_site_and_says_where_it_is(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, root = demo
    [where] = re.findall(r"^Site written: open file://(\S+)$", result.stdout, re.M)
    index = Path(where)
    assert index.name == "index.html" and index.is_file()
    assert index.is_relative_to(root / "tmp")  # under the system's temporary folder
    assert "Demo: labour migration monitor" in index.read_text(encoding="utf-8")
    assert "monitor notify-test" in result.stdout and "cron" in result.stdout
    assert list((root / "cwd").iterdir()) == []  # nothing left in the working folder


def test_the_demo_uses_no_network_but_loopback(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, root = demo
    log = (root / "net.log").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("connect 127.0.0.1 ok") for line in log)  # the guard was on
    assert [line for line in log if line.endswith("BLOCKED")] == []
