"""`monitor daemon`: `run` and `digest` on the cron schedules of `[schedule]` (APScheduler 3).

The scheduler only decides when; each job is the same code as the command (`run_once`,
`notify.deliver`). One instance of each job at a time, missed runs coalesced into one, and
SIGTERM / SIGINT wait for a running job to finish its write before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from . import store
from .config import ConfigError, Settings
from .fetch import Fetcher, FetchPolicy
from .pipeline import RunSummary, run_once
from .rules import Rules, load_rules
from .sources import Source, load_sources

log = logging.getLogger("monitor.daemon")


@dataclass(frozen=True)
class Paths:
    db: Path
    sources: Path
    rules: Path | None


def cron_trigger(expr: str, timezone: str, key: str) -> CronTrigger:
    """A crontab line (5 fields, or 6 with seconds first) in `timezone`."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"schedule.timezone: unknown time zone {timezone!r}") from None
    fields = expr.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expr, timezone=tz)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=dow,
                timezone=tz,
            )
    except ValueError as exc:
        raise ConfigError(f"schedule.{key}: {expr!r}: {exc}") from None
    raise ConfigError(f"schedule.{key}: {expr!r}: expected 5 cron fields (or 6 with seconds)")


def run_job(settings: Settings, paths: Paths) -> None:
    """One `monitor run` cycle; skipped (logged) while another run holds the lock."""
    try:
        with store.run_lock(paths.db):
            sources, errors = load_sources(paths.sources)
            for error in errors:
                log.error("%s", error)
            rules = load_rules(paths.rules)
            db = store.connect(paths.db)
            try:
                summary = asyncio.run(_cycle(settings, sources, rules, db))
            finally:
                db.close()
    except store.StoreError as exc:
        log.warning("run skipped: %s", exc)
        return
    for outcome in summary.outcomes:
        if not outcome.ok:
            log.warning("%s: %s", outcome.name, outcome.error)
    log.info("run: %s", summary.line())


async def _cycle(
    settings: Settings, sources: list[Source], rules: Rules, db: sqlite_utils.Database
) -> RunSummary:
    async with Fetcher(FetchPolicy(**settings.fetch)) as fetcher:
        return await run_once(sources, rules, db, fetcher, datetime.now(UTC))


def digest_job(settings: Settings, paths: Paths) -> None:
    """Send the queued changes to every channel (monitor.notify)."""
    from .notify import deliver

    db = store.connect(paths.db)
    try:
        for result in deliver(db, settings, datetime.now(UTC)):
            if result.ok:
                log.info("digest: %s: %s", result.channel, result.detail)
            else:
                log.error("digest: %s: %s", result.channel, result.error)
    finally:
        db.close()


def serve(
    settings: Settings,
    paths: Paths,
    *,
    stop: threading.Event | None = None,
    jobs: dict[str, Callable[[Settings, Paths], None]] | None = None,
) -> None:
    """Run until SIGTERM / SIGINT (or `stop` is set), then wait for running jobs."""
    jobs = jobs or {"run": run_job, "digest": digest_job}
    triggers = {
        "run": cron_trigger(settings.schedule.run, settings.schedule.timezone, "run"),
        "digest": cron_trigger(settings.schedule.digest, settings.schedule.timezone, "digest"),
    }
    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.schedule.timezone))
    for name, job in jobs.items():
        scheduler.add_job(
            job,
            triggers[name],
            args=(settings, paths),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: stopping after the running jobs", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    scheduler.start()
    log.info(
        "daemon started: run %r, digest %r (%s)",
        settings.schedule.run,
        settings.schedule.digest,
        settings.schedule.timezone,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("daemon stopped")
