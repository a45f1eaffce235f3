"""`monitor daemon`: `run` and `digest` on the cron schedules of `[schedule]` (APScheduler 3).

The scheduler only decides when; each job is the same code as the command (`run_once`,
`notify.deliver`). The jobs share one worker thread, so a digest never goes out while a run
is half-way through storing, and at most one job is running when a stop is asked for. One
instance of each job at a time, missed runs coalesced into one, and SIGTERM / SIGINT wait for
the running job to finish its write before the process exits. A job that fails is logged
and the daemon goes on.

Cron expressions mean what they mean to cron: APScheduler 3 numbers weekdays from Monday = 0
and ANDs a restricted day of month with a restricted day of week, cron numbers them from
Sunday = 0 (7 is Sunday too) and ORs the two, so both are translated here.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from . import store
from .config import ConfigError, Settings
from .fetch import Fetcher, FetchError, FetchPolicy
from .notify import NotifyError, deliver
from .patterns import RulesError
from .pipeline import RunSummary, run_once
from .rules import Rules, load_rules
from .sources import Source, SourceError, load_sources

log = logging.getLogger("monitor.daemon")

Job = Callable[[Settings, "Paths"], None]

# cron's weekday numbers (Sunday = 0 or 7) and names, and APScheduler's names for them
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# errors whose message is the whole story: logged as one line, without a traceback
_ONE_LINE = (ConfigError, FetchError, NotifyError, RulesError, SourceError, store.StoreError)


@dataclass(frozen=True)
class Paths:
    db: Path
    sources: Path
    rules: Path | None


def zone(name: str, origin: str = "") -> ZoneInfo:
    """The IANA time zone `name` (`schedule.timezone`), or a one-line ConfigError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{origin}schedule.timezone: unknown time zone {name!r} (expected a name like "
            "'Asia/Almaty' or 'UTC')"
        ) from None


def cron_trigger(expr: str, timezone: str, key: str, origin: str = "") -> BaseTrigger:
    """A crontab expression (5 fields, or 6 with seconds first) in `timezone`, with cron's
    meaning of weekdays. `key` (run, digest) and `origin` (the config file) name the setting
    in errors."""
    tz = zone(timezone, origin)
    where = f"{origin}schedule.{key}: {expr!r}"
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ConfigError(
            f"{where}: expected 5 cron fields (minute hour day month weekday), or 6 with "
            f"seconds first; got {len(fields)}"
        )
    if len(fields) == 5:
        fields = ["0", *fields]
    second, minute, hour, day, month, dow = fields
    try:
        weekdays = cron_weekdays(dow)

        def trigger(day: str, day_of_week: str) -> CronTrigger:
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=tz,
            )

        if day.startswith("*") or dow.startswith("*"):
            built: BaseTrigger = trigger(day, weekdays)
        else:  # cron runs when either the day of month or the day of week matches
            built = OrTrigger([trigger(day, "*"), trigger("*", weekdays)])
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if built.get_next_fire_time(None, datetime.now(tz)) is None:
        raise ConfigError(f"{where}: never happens (no such date)")
    return built


def cron_weekdays(field: str) -> str:
    """cron's day-of-week field (numbers 0-7 from Sunday, names, ranges, lists, steps) as
    APScheduler 3 names: '1-5' -> 'mon,tue,wed,thu,fri'."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        base, slash, step_text = part.partition("/")
        step = _step(step_text) if slash else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _cron_day(first), _cron_day(last)
            if low > high:
                raise ValueError(f"weekday range {base!r} runs backwards")
        else:
            low = _cron_day(base)
            high = 6 if slash else low
        days.update(day % 7 for day in range(low, high + 1, step))
    # APScheduler's week starts on Monday
    return ",".join(_CRON_DAYS[day] for day in sorted(days, key=lambda d: (d - 1) % 7))


def _cron_day(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _CRON_DAYS:
        return _CRON_DAYS.index(text)
    raise ValueError(f"unknown weekday {text!r} (expected 0-7 or sun..sat)")


def _step(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"bad step {text!r} in the weekday field")
    return int(text)


def schedule_triggers(settings: Settings) -> dict[str, BaseTrigger]:
    """The triggers of the `run` and `digest` jobs; errors name the config file and key."""
    origin = f"{settings.path}: " if settings.path else ""
    schedule = settings.schedule
    return {
        "run": cron_trigger(schedule.run, schedule.timezone, "run", origin),
        "digest": cron_trigger(schedule.digest, schedule.timezone, "digest", origin),
    }


def run_job(settings: Settings, paths: Paths) -> None:
    """One `monitor run` cycle; skipped (logged) while another run holds the lock. Sources
    and rules are read afresh each time (the rules when the first article is extracted), so
    edits to them need no restart."""
    with ExitStack() as stack:
        try:
            stack.enter_context(store.run_lock(paths.db))
        except store.StoreError as exc:
            log.warning("run skipped: %s", exc)
            return
        sources, errors = load_sources(paths.sources)
        for error in errors:
            log.error("%s", error)
        db = store.connect(paths.db)
        stack.callback(db.close)
        summary = asyncio.run(_cycle(settings, sources, lambda: load_rules(paths.rules), db))
    for outcome in summary.outcomes:
        if not outcome.ok:
            log.warning("%s: %s", outcome.name, outcome.error)
    log.info("run: %s", summary.line())
    outdir = settings.site.outdir
    stored = summary.changes or any(o.new_articles for o in summary.outcomes)
    if outdir is not None and (stored or not outdir.exists()):
        site_job(settings, paths)


def site_job(settings: Settings, paths: Paths) -> None:
    """Rewrite the static site at `[site] outdir` (`monitor site`); the daemon does it after
    each run that stored a new article or found a change, and at a run when there is no site
    yet. A site that cannot be written is logged; the run's writes stand."""
    from .publish import SiteError, write_site

    outdir = settings.site.outdir
    if outdir is None:
        return
    db = store.connect(paths.db)
    try:
        summary = write_site(
            db,
            outdir,
            title=settings.site.title,
            base_url=settings.site.base_url,
            now=datetime.now(UTC),
        )
    except SiteError as exc:
        log.error("site: %s", exc)
        return
    finally:
        db.close()
    log.info("site: wrote %s: %s", outdir, summary)


async def _cycle(
    settings: Settings,
    sources: list[Source],
    rules: Callable[[], Rules],
    db: sqlite_utils.Database,
) -> RunSummary:
    async with Fetcher(FetchPolicy(**settings.fetch)) as fetcher:
        return await run_once(sources, rules, db, fetcher, datetime.now(UTC))


def digest_job(settings: Settings, paths: Paths) -> None:
    """Send the queued changes to every channel (`monitor digest`), with the health of the
    sources folder's sources (silent ones too)."""
    try:
        sources: list[Source] | None = load_sources(paths.sources)[0]
    except SourceError as exc:
        log.warning("digest: %s (source health from the database only)", exc)
        sources = None
    db = store.connect(paths.db)
    try:
        results = deliver(db, settings, datetime.now(UTC), sources=sources)
    finally:
        db.close()
    if not results:
        log.debug("digest: no channels configured ([email] or [slack] in the config)")
    for result in results:
        if result.ok:
            log.info("digest: %s: %s", result.channel, result.detail)
        else:
            log.error("digest: %s", result.error)


def guarded(name: str, job: Job, settings: Settings, paths: Paths) -> None:
    """Run one job; an error is logged (one line for a known kind, else with its traceback)
    and never reaches the scheduler, so the next run happens as planned."""
    log.info("%s: started", name)
    try:
        job(settings, paths)
    except _ONE_LINE as exc:
        log.error("%s failed: %s", name, exc)
    except Exception:
        log.exception("%s failed", name)


def serve(
    settings: Settings,
    paths: Paths,
    *,
    stop: threading.Event | None = None,
    jobs: dict[str, Job] | None = None,
) -> None:
    """Run until SIGTERM / SIGINT (or `stop` is set), then wait for the running job."""
    jobs = jobs or {"run": run_job, "digest": digest_job}
    triggers = schedule_triggers(settings)
    stop = stop or threading.Event()
    # their INFO lines repeat each job and each request; warnings (a skipped run) stay
    for name in ("apscheduler", "httpx"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        timezone=zone(settings.schedule.timezone),
    )
    for order, (name, job) in enumerate(jobs.items(), start=1):
        scheduler.add_job(
            guarded,
            triggers[name],
            args=(name, job, settings, paths),
            # jobs due at the same moment go in id order (the memory job store sorts by time,
            # then id): the run first, so that the 08:00 digest carries what the 08:00 run found
            id=f"{order}:{name}",
            name=name,
            max_instances=1,
            coalesce=True,
            # a run missed while the machine slept or the other job ran late still happens,
            # once (coalesce), however late: a late digest beats a lost one
            misfire_grace_time=None,
        )

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.info("received %s again: still waiting for the running job", name)
        else:
            log.info("received %s: stopping after the running job", name)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    if settings.email is None and settings.slack is None:
        log.warning("no channels configured ([email] or [slack]): digests will not be sent")
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            log.info("%s: next at %s", job.name, job.next_run_time.isoformat(timespec="seconds"))
        log.info("daemon started (%s)", settings.schedule.timezone)
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("daemon stopped")
