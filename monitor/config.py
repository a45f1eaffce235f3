"""The config file (`monitor.toml`, SPEC section 3): channels, schedule, fetch limits, digest.

Every key is checked when the file is read, so a typo is reported once, at start-up, as
``monitor.toml: email.port: expected a whole number``. Secrets never live in the file: it
names the environment variables that hold them (`password_env`, `webhook_url_env`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DIGEST_LANGUAGES = ("en", "ru", "kk")

# [fetch] keys and their types; the values become monitor.fetch.FetchPolicy fields
FETCH_KEYS: dict[str, type | tuple[type, ...]] = {
    "user_agent": str,
    "concurrency": int,
    "per_host": int,
    "host_delay": (int, float),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "total_timeout": (int, float),
    "max_bytes": int,
    "max_redirects": int,
    "retries": int,
    "backoff": (int, float),
    "max_retry_after": (int, float),
    "robots": bool,
    "robots_max_age": (int, float),
}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Email:
    host: str
    to: list[str]
    sender: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    def password(self) -> str | None:
        """The password from the environment; None when no variable is named."""
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"email.password_env: environment variable {self.password_env} is not set"
            )
        return value


@dataclass(frozen=True)
class Slack:
    webhook_url: str | None = None
    webhook_url_env: str | None = None

    def url(self) -> str:
        if self.webhook_url:
            return self.webhook_url
        value = os.environ.get(self.webhook_url_env or "")
        if not value:
            raise ConfigError(
                f"slack.webhook_url_env: environment variable {self.webhook_url_env} is not set"
            )
        return value


@dataclass(frozen=True)
class Schedule:
    run: str = "*/30 * * * *"
    digest: str = "0 8 * * *"
    timezone: str = "Asia/Almaty"


@dataclass(frozen=True)
class Digest:
    language: str = "en"
    templates: Path | None = None  # a folder whose templates override the package's
    failing_after: str = "1d"  # a source failing this long is listed in the digest
    include_reextract: bool = False  # send changes found by `monitor reextract` too
    # a digest lists at most this many (the newest) and counts the rest; statuses: all
    max_figure_changes: int = 50
    max_first_seen: int = 100


@dataclass(frozen=True)
class Site:
    title: str = "Labour migration monitor: Kazakhstan"
    base_url: str | None = None  # absolute URL of the published site, for the Atom feed
    # where `monitor site` writes without OUTDIR, and where `monitor daemon` rewrites the
    # site after each run that stored something (relative to the config file's folder)
    outdir: Path | None = None


@dataclass(frozen=True)
class Settings:
    path: Path | None = None  # the file read, None for built-in defaults
    email: Email | None = None
    slack: Slack | None = None
    schedule: Schedule = field(default_factory=Schedule)
    digest: Digest = field(default_factory=Digest)
    site: Site = field(default_factory=Site)
    fetch: dict[str, Any] = field(default_factory=dict)


def load_settings(path: Path | None) -> Settings:
    """Read `path`; None means `monitor.toml` in the working directory if it exists, else the
    built-in defaults."""
    if path is None:
        default = Path("monitor.toml")
        if not default.is_file():
            return Settings()
        path = default
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    return _settings(data, name, path)


def _settings(data: dict[str, Any], name: str, path: Path) -> Settings:
    _keys(data, ["email", "slack", "schedule", "digest", "site", "fetch"], name, "")
    email = slack = None
    if "email" in data:
        email = _email(_table(data, "email", name), name)
    if "slack" in data:
        slack = _slack(_table(data, "slack", name), name)
    schedule = Schedule(**_typed(_table(data, "schedule", name), Schedule, name, "schedule"))
    digest_data = _typed(_table(data, "digest", name), Digest, name, "digest")
    if digest_data.get("language", "en") not in DIGEST_LANGUAGES:
        raise ConfigError(f"{name}: digest.language: expected one of en, ru, kk")
    if "templates" in digest_data:
        folder = (path.parent / digest_data["templates"]).resolve()
        if not folder.is_dir():
            raise ConfigError(f"{name}: digest.templates: {folder} is not a folder")
        digest_data["templates"] = folder
    _duration(digest_data.get("failing_after", "1d"), name, "digest.failing_after")
    for key in ("max_figure_changes", "max_first_seen"):
        if digest_data.get(key, 0) < 0:
            raise ConfigError(f"{name}: digest.{key}: expected a whole number, 0 or more")
    site_data = _typed(_table(data, "site", name), Site, name, "site")
    if "outdir" in site_data:
        if not site_data["outdir"].strip():
            raise ConfigError(f"{name}: site.outdir: expected a folder name")
        site_data["outdir"] = (path.parent / Path(site_data["outdir"]).expanduser()).resolve()
    site = Site(**site_data)
    fetch = _table(data, "fetch", name)
    for key, value in fetch.items():
        if key not in FETCH_KEYS:
            raise ConfigError(
                f"{name}: fetch.{key}: unknown key (expected one of: {', '.join(FETCH_KEYS)})"
            )
        want = FETCH_KEYS[key]
        if (isinstance(value, bool) and want is not bool) or not isinstance(value, want):
            raise ConfigError(f"{name}: fetch.{key}: expected {_type_name(want)}")
    return Settings(path, email, slack, schedule, Digest(**digest_data), site, dict(fetch))


def _email(table: dict[str, Any], name: str) -> Email:
    table = dict(table)
    if "from" in table:
        table["sender"] = table.pop("from")
    values = _typed(table, Email, name, "email", renames={"sender": "from"})
    for key in ("host", "sender", "to"):
        if key not in values:
            raise ConfigError(f"{name}: email.{'from' if key == 'sender' else key}: missing")
    if isinstance(values["to"], str):
        values["to"] = [values["to"]]
    if not values["to"] or not all(isinstance(a, str) and "@" in a for a in values["to"]):
        raise ConfigError(f"{name}: email.to: expected a list of addresses")
    if values.get("ssl") and values.get("starttls", False) and "starttls" in table:
        raise ConfigError(f"{name}: email.ssl: choose ssl or starttls, not both")
    if values.get("ssl"):
        values.setdefault("starttls", False)
        values.setdefault("port", 465)
    return Email(**values)


def _slack(table: dict[str, Any], name: str) -> Slack:
    values = _typed(table, Slack, name, "slack")
    if not values.get("webhook_url") and not values.get("webhook_url_env"):
        raise ConfigError(f"{name}: slack: set webhook_url_env (or webhook_url)")
    url = values.get("webhook_url")
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError(f"{name}: slack.webhook_url: expected an http(s) URL")
    return Slack(**values)


_TYPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "Email": {
        "host": str,
        "to": (list, str),
        "sender": str,
        "port": int,
        "starttls": bool,
        "ssl": bool,
        "username": str,
        "password_env": str,
        "timeout": (int, float),
    },
    "Slack": {"webhook_url": str, "webhook_url_env": str},
    "Schedule": {"run": str, "digest": str, "timezone": str},
    "Digest": {
        "language": str,
        "templates": str,
        "failing_after": str,
        "include_reextract": bool,
        "max_figure_changes": int,
        "max_first_seen": int,
    },
    "Site": {"title": str, "base_url": str, "outdir": str},
}


def _typed(
    table: dict[str, Any],
    cls: type,
    name: str,
    section: str,
    renames: dict[str, str] | None = None,
) -> dict[str, Any]:
    types = _TYPES[cls.__name__]
    renames = renames or {}
    out: dict[str, Any] = {}
    for key, value in table.items():
        shown = renames.get(key, key)
        if key not in types:
            allowed = ", ".join(renames.get(k, k) for k in types)
            raise ConfigError(
                f"{name}: {section}.{shown}: unknown key (expected one of: {allowed})"
            )
        want = types[key]
        if (isinstance(value, bool) and want is not bool) or not isinstance(value, want):
            raise ConfigError(f"{name}: {section}.{shown}: expected {_type_name(want)}")
        out[key] = value
    return out


def _type_name(want: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
    }
    kinds = want if isinstance(want, tuple) else (want,)
    return " or ".join(dict.fromkeys(names[k] for k in kinds))


def _table(data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: {key}: expected a table ([{key}])")
    return value


def _keys(data: dict[str, Any], allowed: list[str], name: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{name}: {where}{key}: unknown key (expected one of: {', '.join(allowed)})"
            )


def _duration(text: str, name: str, key: str) -> None:
    from .sources import parse_duration  # the same duration syntax as source files

    try:
        parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: {key}: {exc}") from None
