"""The config file: defaults, channels, and one-line errors naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_built_in_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings == Settings()
    assert settings.schedule.run == "*/30 * * * *"
    assert settings.schedule.digest == "0 8 * * *"
    assert settings.schedule.timezone == "Asia/Almaty"
    assert settings.email is None and settings.slack is None


def test_monitor_toml_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, '[digest]\nlanguage = "kk"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings(None).digest.language == "kk"


def test_the_spec_example_config_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        """
[email]
host = "smtp.example.org"
port = 587
starttls = true
username = "monitor"
password_env = "MONITOR_SMTP_PASSWORD"
from = "Migration monitor <monitor@example.org>"
to = ["desk@example.org"]

[slack]
webhook_url_env = "MONITOR_SLACK_WEBHOOK"

[schedule]
run = "*/30 * * * *"
digest = "0 8 * * *"
timezone = "Asia/Almaty"
""",
    )
    settings = load_settings(path)
    assert settings.email is not None and settings.email.sender.startswith("Migration monitor")
    assert settings.email.to == ["desk@example.org"]
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "s3cret")
    assert settings.email.password() == "s3cret"
    monkeypatch.setenv("MONITOR_SLACK_WEBHOOK", "https://hooks.example.org/T/B/X")
    assert settings.slack is not None and settings.slack.url() == "https://hooks.example.org/T/B/X"


def test_ssl_defaults_to_port_465(tmp_path: Path) -> None:
    path = write(tmp_path, '[email]\nhost = "h"\nssl = true\nfrom = "a@b.c"\nto = "d@e.f"\n')
    email = load_settings(path).email
    assert email is not None and (email.port, email.ssl, email.starttls) == (465, True, False)


def test_a_missing_secret_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[slack]\nwebhook_url_env = "NO_SUCH_VARIABLE_HERE"\n')
    monkeypatch.delenv("NO_SUCH_VARIABLE_HERE", raising=False)
    slack = load_settings(path).slack
    assert slack is not None
    with pytest.raises(ConfigError, match="NO_SUCH_VARIABLE_HERE is not set"):
        slack.url()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[email\nhost = 1", "not valid TOML"),
        ("[emial]\n", "emial: unknown key"),
        (
            '[email]\nhost = "h"\nport = "587"\nfrom = "a@b.c"\nto = ["d@e.f"]\n',
            "email.port: expected a whole number",
        ),
        ('[email]\nport = 25\nfrom = "a@b.c"\nto = ["d@e.f"]\n', "email.host: missing"),
        (
            '[email]\nhost = "h"\nfrom = "a@b.c"\nto = ["nobody"]\n',
            "email.to: expected a list of addresses",
        ),
        (
            '[email]\nhost = "h"\nfrom = "a@b.c"\nto = ["d@e.f"]\npassword = "x"\n',
            "email.password: unknown key",
        ),
        ("[slack]\n", "slack: set webhook_url_env"),
        ('[slack]\nwebhook_url = "ftp://x"\n', "slack.webhook_url: expected an http"),
        ('[digest]\nlanguage = "de"\n', "digest.language: expected one of en, ru, kk"),
        ('[digest]\ntemplates = "no-such-folder"\n', "digest.templates: "),
        ('[digest]\nfailing_after = "soon"\n', "digest.failing_after: "),
        ("[digest]\nmax_figure_changes = -1\n", "digest.max_figure_changes: expected a whole"),
        ('[digest]\nmax_first_seen = "all"\n', "digest.max_first_seen: expected a whole number"),
        ("[fetch]\nconcurrency = true\n", "fetch.concurrency: expected a whole number"),
        ("[fetch]\nspeed = 3\n", "fetch.speed: unknown key"),
        ("schedule = 3\n", "schedule: expected a table"),
        ('[site]\noutdir = " "\n', "site.outdir: expected a folder name"),
        ("[site]\noutdir = 1\n", "site.outdir: expected a string"),
    ],
)
def test_a_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    error = str(info.value)
    assert error.startswith(f"{path}: ")
    assert message in error
    assert "\n" not in error


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no-such\.toml: no such file"):
        load_settings(tmp_path / "no-such.toml")


def test_templates_folder_is_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "my-templates").mkdir()
    path = write(tmp_path, '[digest]\ntemplates = "my-templates"\n')
    assert load_settings(path).digest.templates == (tmp_path / "my-templates").resolve()


def test_site_outdir_is_relative_to_the_config_and_unset_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[site]\noutdir = "public"\n')
    assert load_settings(path).site.outdir == (tmp_path / "public").resolve()
    assert load_settings(write(tmp_path, "")).site.outdir is None


def test_digest_caps_default_to_50_figure_changes_and_100_first_sightings(tmp_path: Path) -> None:
    assert (Settings().digest.max_figure_changes, Settings().digest.max_first_seen) == (50, 100)
    path = write(tmp_path, "[digest]\nmax_figure_changes = 0\nmax_first_seen = 20\n")
    digest = load_settings(path).digest
    assert (digest.max_figure_changes, digest.max_first_seen) == (0, 20)
