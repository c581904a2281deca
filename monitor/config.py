"""Settings: one declared table, layered defaults < TOML file < MONITOR_* env < CLI flags.

Every setting is a field of `Settings` declared with `setting(default, help, ...)`; the field's
annotation is its type. Secrets (``secret=True``) are accepted only from the environment,
either directly (``MONITOR_SLACK_BOT_TOKEN``) or from a file named by ``MONITOR_<NAME>_FILE``,
and are redacted by `dump()`.

Nothing here reads the environment at import time: `load_settings()` receives it.
"""

from __future__ import annotations

import dataclasses
import difflib
import textwrap
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "MONITOR_"
REDACTED = "***"


class ConfigError(ValueError):
    """A setting could not be read; the message names the setting, where it came from and the fix."""


def setting(
    default: Any,
    help: str,
    *,
    secret: bool = False,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """Declare one setting (used as a dataclass field default)."""
    meta = {"help": help, "secret": secret, "choices": choices, "minimum": minimum, "maximum": maximum}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every setting of the service. Keep `help` precise: README and config-dump show it."""

    # --- storage -----------------------------------------------------------------------
    database_url: str = setting(
        "sqlite+aiosqlite:///./var/monitor.db",
        "Database URL. SQLite (embedded default, one process) or PostgreSQL for scale-out, "
        "e.g. postgresql+asyncpg://monitor@db/monitor. PostgreSQL query options may use libpq's spellings, which "
        "the service's own connections (pool and change feed) honour like the backup tools: `sslmode` (or "
        "asyncpg's `ssl`), `sslrootcert`/`sslcert`/`sslkey` (verify-ca / verify-full checked as libpq does), "
        "`application_name`, `options=-c name=value …` (server settings), `connect_timeout`; also asyncpg's "
        "`command_timeout`, `statement_cache_size`, `timeout`, `target_session_attrs`. Any other option is refused "
        "at start naming it.",
    )
    data_dir: str = setting("./var", "Directory for runtime files (SQLite database, evidence, reports).")
    # --- web ---------------------------------------------------------------------------
    host: str = setting("127.0.0.1", "Address `monitor serve` listens on.")
    port: int = setting(8080, "Port `monitor serve` listens on.", minimum=0, maximum=65535)
    public_url: str = setting(
        "", "External base URL used in links inside alerts and reports (default: http://host:port)."
    )
    # --- policy data -------------------------------------------------------------------
    playbooks_dir: str = setting(
        "", "Directory with rules, escalation ladders and the org directory (default: the shipped playbooks)."
    )
    org_file: str = setting("org/demo-city.yaml", "Org directory YAML, relative to playbooks_dir unless absolute.")
    # --- engine ------------------------------------------------------------------------
    playbook_file: str = setting(
        "rules.yaml",
        "Response rules YAML, relative to playbooks_dir unless absolute; a jurisdiction's file that "
        "`extends:` the national rules, e.g. jurisdictions/jiangsu.yaml.",
    )
    engine_tick_s: float = setting(
        5.0, "Longest pause between two engine passes, in seconds (due timers wake it sooner).", minimum=0.1
    )
    engine_batch: int = setting(200, "Due timers the engine claims per transaction.", minimum=1)
    audit_interval_s: float = setting(60.0, "How often the audit watchdog checks the engine and the outbox.", minimum=1)
    # --- operations --------------------------------------------------------------------
    log_level: str = setting(
        "INFO", "Minimum level of log records written to stderr.", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    log_format: str = setting("text", "Log format: human text or one JSON object per line.", choices=("text", "json"))
    # --- demo --------------------------------------------------------------------------
    demo_feed_port: int = setting(
        0, "Port of the demo's local feed server (0 = any free port).", minimum=0, maximum=65535
    )
    demo_refresh_s: float = setting(60.0, "How often the demo polls its feeds, in seconds.", minimum=1)
    # --- web: duty queue ---------------------------------------------------------------
    trusted_proxy: bool = setting(
        False,
        "Set true only behind a reverse proxy that overwrites X-Forwarded-Proto and X-Forwarded-For: "
        "then they decide Secure cookies and the client address used for rate limits and the audit log.",
    )
    session_max_age_h: float = setting(12.0, "Hours a web login lasts before signing in again.", minimum=0.1)
    session_idle_min: float = setting(120.0, "Minutes without any request after which a web session ends.", minimum=1)
    login_max_failures: int = setting(
        5, "Consecutive wrong passwords that lock an account for login_lockout_min minutes.", minimum=1
    )
    login_lockout_min: float = setting(
        15.0, "Minutes an account stays locked; also the window of the per-address login limit.", minimum=1
    )
    login_ip_attempts: int = setting(
        30, "Login attempts allowed from one client address per login_lockout_min minutes.", minimum=1
    )
    queue_page_size: int = setting(100, "Incidents per page of the duty queue.", minimum=10)
    leader_horizon_h: float = setting(
        24.0, "The leader view lists obligations due within this many hours (and every overdue one).", minimum=1
    )
    live_poll_s: float = setting(
        2.0,
        "How often the web reads new timeline rows to catch changes made by other processes (live updates).",
        minimum=0.1,
    )
    upload_max_mb: float = setting(
        20.0,
        "Largest response document (登记回应 file upload) the web accepts, in MiB; request bodies may be twice "
        "that, so a file just over the limit gets a form error that keeps what was typed.",
        minimum=1,
    )
    # --- notifications -----------------------------------------------------------------
    notify_poll_s: float = setting(2.0, "How often the notifier looks for due outbox rows, in seconds.", minimum=0.1)
    notify_batch: int = setting(100, "Outbox rows the notifier claims per pass.", minimum=1)
    notify_lease_s: float = setting(
        120.0,
        "Lease on claimed outbox rows, in seconds; rows of a notifier that died mid-send are retried after it "
        "(as 'in doubt': see docs/notifications.md).",
        minimum=5,
    )
    notify_max_attempts: int = setting(
        4, "Tries on one channel before a notification moves to the person's next (fallback) channel.", minimum=1
    )
    notify_backoff_base_s: float = setting(
        30.0,
        "First retry delay, in seconds; doubles per try (with random jitter) up to notify_backoff_max_s.",
        minimum=0,
    )
    notify_backoff_max_s: float = setting(
        900.0, "Longest delay between two tries on one channel, in seconds.", minimum=0
    )
    notify_quiet_hours: str = setting(
        "22:00-07:30",
        "Quiet hours (Asia/Shanghai, HH:MM-HH:MM) during which NON-urgent notifications are held and then sent as "
        "one digest; urgent ones (event level I–II, breaches) are never held. Empty = no quiet hours. "
        "notify_role_quiet_hours (duty officers: never) and a person's quiet_hours in the org file override this.",
    )
    notify_role_channels: str = setting(
        "",
        'Preferred channels per role, e.g. "duty_officer: dingtalk, console; principal: slack, email": an alert '
        "addressed to someone in that role tries these channels first (where the person can be reached on "
        "them), then the person's own channels: org file `channels:`. Empty = the person's channels only.",
    )
    notify_role_quiet_hours: str = setting(
        "duty_officer: never",
        'Quiet hours per role (HH:MM-HH:MM, or never), e.g. "duty_officer: never; principal: 23:00-07:00"; '
        "used for alerts to that role instead of notify_quiet_hours. A person's quiet_hours in the org file "
        "overrides both. Urgent alerts are never held.",
    )
    notify_console: bool = setting(
        False,
        "Deliver through the console (stdout) channel, also as everyone's last fallback. The demo turns it on.",
    )
    notify_timeout_s: float = setting(15.0, "Timeout of one delivery request (HTTP or SMTP), in seconds.", minimum=1)
    slack_api_url: str = setting("https://slack.com/api/", "Base URL of the Slack Web API.")
    smtp_host: str = setting("", "SMTP server for e-mail notifications and reports; empty disables e-mail.")
    smtp_port: int = setting(587, "SMTP server port (587 for STARTTLS, 465 for SSL).", minimum=1, maximum=65535)
    smtp_security: str = setting(
        "starttls", "How the SMTP connection is protected.", choices=("starttls", "ssl", "none")
    )
    smtp_user: str = setting("", "SMTP login (AUTH); empty = no authentication.")
    smtp_from: str = setting("", "From address of e-mail notifications, e.g. 舆情督办 <yuqing@gov.example>.")
    smtp_ca_file: str = setting(
        "", "PEM file of extra CA certificates to trust for the SMTP server (for a private CA); empty = system CAs."
    )
    webhook_url: str = setting(
        "", "URL of a generic webhook that receives every notification routed to channel 'webhook' (JSON, signed)."
    )
    # --- collectors --------------------------------------------------------------------
    collector_concurrency: int = setting(16, "Most HTTP requests the collectors run at once (all hosts).", minimum=1)
    collector_per_host: int = setting(2, "Most concurrent requests to one host.", minimum=1)
    collector_host_interval_s: float = setting(
        1.0, "Minimum seconds between the starts of two requests to the same host.", minimum=0
    )
    collector_connect_timeout_s: float = setting(10.0, "Connect timeout of one fetch, in seconds.", minimum=0.1)
    collector_read_timeout_s: float = setting(
        30.0, "Longest wait for the next bytes of a response, in seconds.", minimum=0.1
    )
    collector_total_timeout_s: float = setting(60.0, "Longest a whole fetch may take, in seconds.", minimum=0.1)
    collector_max_body_mb: float = setting(
        10.0, "Largest response body accepted, in MiB; bigger responses are abandoned and recorded.", minimum=0.01
    )
    collector_max_redirects: int = setting(5, "Most redirects followed by one fetch.", minimum=0)
    collector_backoff_cap_h: float = setting(
        6.0, "Longest backoff after repeated failures, in hours (sources are never disabled).", minimum=0.01
    )
    collector_failing_after: int = setting(
        3, "Consecutive failures after which a source is FAILING (before that: DEGRADED).", minimum=1
    )
    collector_max_articles: int = setting(
        20, "Most article pages fetched per poll of a source that asks for full text.", minimum=0
    )
    dedup_window_h: float = setting(
        72.0, "Hours a story stays in the near-duplicate index (reposts later than this are new items).", minimum=1
    )
    dedup_threshold: float = setting(
        0.6,
        "Estimated Jaccard similarity of character 3-grams from which an item is a repost.",
        minimum=0.1,
        maximum=1,
    )
    cluster_window_h: float = setting(
        72.0, "Hours after an incident's last item within which a new item may still join it.", minimum=1
    )
    cluster_threshold: float = setting(
        0.25,
        "Title/lead similarity (character bigrams, cosine) from which an item joins an incident.",
        minimum=0.01,
        maximum=1,
    )
    cluster_follow_up_h: float = setting(
        720.0,
        "Hours after the last item of a still open incident within which a clearly similar report "
        "(similarity at least 0.5, or cluster_threshold if higher) still joins it as a follow-up "
        "(调查结果、赔偿、整改); default 30 days, the 补报 period of 493号 Art. 13. Dismissed and closed "
        "incidents take none. At most cluster_window_h: off.",
        minimum=0,
    )
    cluster_stale_after_h: float = setting(
        168.0,
        "An item published more than this many hours before it was fetched (old news: a new source, a "
        "feed still carrying last month's articles) may join an incident but opens none: it stays on "
        "the 稿件 list, held as 旧闻，未立案 (items.classification.held says why). "
        "Default 7 days: the 48 h response deadline counted from its publication would be long past "
        "at detection. 0: off.",
        minimum=0,
    )
    # --- reports -----------------------------------------------------------------------
    report_recipients: str = setting(
        "",
        "Who receives the monthly report: comma-separated person ids of the org directory, each optionally "
        'with :channel (email, slack, dingtalk, wecom, webhook, console), e.g. "chen_jun:email, wang_fang". '
        "Empty: reports are generated but not sent.",
    )
    report_hour: int = setting(
        8,
        "Hour (0–23, Asia/Shanghai) on the 1st of each month from which last month's report is generated.",
        minimum=0,
        maximum=23,
    )
    report_formats: str = setting(
        "html,xlsx", "Files of the scheduled monthly report, comma-separated: html, csv, xlsx, json."
    )
    report_top_incidents: int = setting(
        10, "How many 重点舆情 (top incidents) a monthly report analyses with their timelines.", minimum=0
    )
    report_attach_max_mb: float = setting(
        10.0,
        "Largest total size (MB) of report files attached to one e-mail; files beyond it are not attached "
        "and the mail links to the report page instead (most mail servers refuse messages over 10–25 MB).",
        minimum=0,
    )
    subside_percent: int = setting(
        20,
        "舆情平息 threshold (DOMAIN.md §5.2, no official definition): an hour is quiet when its new items are "
        "below this percentage of the peak hour's. The 效果评估 form's suggested 平息时间, the one stored with "
        "an evaluation and the monthly report's definitions use it.",
        minimum=1,
        maximum=99,
    )
    subside_window_h: int = setting(
        24,
        "Hours in a row that must all be quiet (see subside_percent) for an incident to count as subsided; "
        "the suggested 平息时间 is the start of the first such run after the peak and the first response.",
        minimum=1,
        maximum=720,
    )
    # --- classifiers -------------------------------------------------------------------
    models_dir: str = setting(
        "",
        "Classifier model directory. Empty = the model `monitor retrain` last activated under "
        "<data_dir>/models, else the models shipped in classifiers/models (never overwritten).",
    )
    opinion_levels_file: str = setting(
        "",
        "YAML with the 舆情 level (L1–L4) thresholds, same fields as classifiers/opinion_levels.yaml; "
        "empty = the shipped defaults.",
    )
    grading_schemes_file: str = setting(
        "",
        "YAML with this deployment's 突发事件 grading schemes (I–IV), same layout as "
        "classifiers/grading_schemes.yaml; each event type it lists replaces the shipped scheme (e.g. local "
        "社会安全 较大/一般 headcounts, a province's 交通事故 scheme); empty = the shipped national schemes.",
    )
    classify_workers: int = setting(
        1, "Worker processes that run the classifier (0 = a thread of the calling process).", minimum=0
    )
    classify_batch: int = setting(
        200, "Items classified per batch (one read and one UPDATE round trip each).", minimum=1
    )
    retrain_max_drop: float = setting(
        0.01,
        "Largest drop of a held-out metric (e.g. 0.01 = one point of F1) `monitor retrain` accepts "
        "before it refuses to activate the new model without --force.",
        minimum=0,
    )
    # --- operations: deployment and scale-out ------------------------------------------
    serve_roles: str = setting(
        "collector,engine,notifier,scheduler",
        "Background roles `monitor serve` runs beside the web interface, comma-separated: collector, engine "
        "(with the audit watchdog), notifier, scheduler (monthly reports). Empty: web only — a stateless web "
        "node in front of PostgreSQL workers (`monitor worker`).",
    )
    ops_listen: str = setting(
        "",
        "host:port of a separate listener for /metrics, /healthz and /readyz, e.g. 127.0.0.1:9108. `monitor "
        "worker` serves them only there; `monitor serve` then keeps /metrics off its public port (health "
        "and readiness stay on both). Empty: serve answers all three on its own port, workers none.",
    )
    heartbeat_stale_s: float = setting(
        180.0,
        "A loop of this process (collector, engine, audit, notifier, scheduler) whose last completed pass is "
        "older than this (or than 3 of its intervals) makes /readyz answer 503.",
        minimum=1,
    )
    scheduler_interval_s: float = setting(
        300.0, "How often the scheduler role checks whether the monthly report is due, in seconds.", minimum=1
    )
    # --- secrets (environment or *_FILE only) ------------------------------------------
    session_secret: str = setting(
        "",
        "Key that signs web session cookies (32+ random bytes). Generated per process when empty.",
        secret=True,
    )
    slack_bot_token: str = setting(
        "", "Slack bot token (xoxb-…) for Slack notifications; empty disables Slack.", secret=True
    )
    slack_signing_secret: str = setting(
        "", "Slack signing secret that authenticates button clicks sent to /slack/interactions.", secret=True
    )
    smtp_password: str = setting("", "Password for smtp_user.", secret=True)
    webhook_secret: str = setting(
        "", "Key for the X-Monitor-Signature HMAC-SHA256 header of generic webhook deliveries.", secret=True
    )
    metrics_token: str = setting(
        "", "Bearer token that /metrics requires (Authorization: Bearer …); empty = no token.", secret=True
    )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SettingInfo:
    name: str
    type: type
    default: Any
    help: str
    secret: bool
    choices: tuple[str, ...] | None
    minimum: float | None
    maximum: float | None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def settings_table() -> tuple[SettingInfo, ...]:
    """The declared table of settings: name, type, default, help, secret flag."""
    hints = typing.get_type_hints(Settings)
    return tuple(
        SettingInfo(
            name=f.name,
            type=_base_type(hints[f.name]),
            default=f.default,
            help=f.metadata["help"],
            secret=f.metadata["secret"],
            choices=f.metadata["choices"],
            minimum=f.metadata["minimum"],
            maximum=f.metadata["maximum"],
        )
        for f in dataclasses.fields(Settings)
    )


def _base_type(hint: Any) -> type:
    if isinstance(hint, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus where each value came from (default, file path, env var or cli)."""

    settings: Settings
    origins: Mapping[str, str]


def load_settings(
    *,
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Merge defaults < TOML file < MONITOR_* env < CLI flags into validated settings."""
    table = {info.name: info for info in settings_table()}
    values: dict[str, Any] = {name: info.default for name, info in table.items()}
    origins = {name: "default" for name in table}
    if config_file is not None:
        _apply(values, origins, _read_toml(Path(config_file), table), table, str(config_file))
    _apply_env(values, origins, env or {}, table)
    for name, raw in (cli or {}).items():
        if raw is None:
            continue
        info = _lookup(table, name, "command line")
        if info.secret:
            raise ConfigError(
                f"setting '{name}' is a secret and cannot be given on the command line "
                f"(it would show in the process list); set {info.env} or {info.env}_FILE"
            )
        values[name] = _coerce(info, raw, "command line")
        origins[name] = "cli"
    return LoadedSettings(Settings(**values), origins)


def _read_toml(path: Path, table: Mapping[str, SettingInfo]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist; check the path given to -c") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}; fix the syntax at that line") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}; give -c a TOML file") from exc
    for name, value in data.items():
        info = _lookup(table, name, str(path))
        if info.secret:
            raise ConfigError(
                f"{path}: setting '{name}' is a secret and must not be stored in a config file; "
                f"remove it and set {info.env} or {info.env}_FILE instead"
            )
        if isinstance(value, dict):
            raise ConfigError(f"{path}: '{name}' must be a single value, not a table")
    return data


def _apply(
    values: dict[str, Any],
    origins: dict[str, str],
    data: Mapping[str, Any],
    table: Mapping[str, SettingInfo],
    origin: str,
) -> None:
    for name, raw in data.items():
        values[name] = _coerce(table[name], raw, origin)
        origins[name] = origin


def _apply_env(
    values: dict[str, Any], origins: dict[str, str], env: Mapping[str, str], table: Mapping[str, SettingInfo]
) -> None:
    for name, info in table.items():
        direct, via_file = env.get(info.env), env.get(info.env + "_FILE")
        if direct is not None and via_file is not None:
            raise ConfigError(f"both {info.env} and {info.env}_FILE are set; keep only one")
        if via_file is not None:
            if not info.secret:
                raise ConfigError(f"{info.env}_FILE: only secrets are read from files; set {info.env} instead")
            direct = _read_secret_file(via_file, info)
            origins[name] = f"env {info.env}_FILE"
        elif direct is not None:
            origins[name] = f"env {info.env}"
        if direct is not None:
            values[name] = _coerce(info, direct, origins[name])


def _read_secret_file(path: str, info: SettingInfo) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{info.env}_FILE points to {path}, which cannot be read: {exc.strerror}") from exc


def _lookup(table: Mapping[str, SettingInfo], name: str, origin: str) -> SettingInfo:
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, table, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; run `monitor config-dump` to list settings"
    raise ConfigError(f"{origin}: unknown setting '{name}'{hint}")


_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _coerce(info: SettingInfo, raw: Any, origin: str) -> Any:
    try:
        value = _convert(info.type, raw)
    except (TypeError, ValueError):
        example = info.default if info.default not in ("", None) else "…"
        raise ConfigError(
            f"{origin}: setting '{info.name}' must be {_TYPE_WORDS.get(info.type, info.type.__name__)}, "
            f"got {raw!r}; for example {info.name} = {example!r}"
        ) from None
    if info.choices and value not in info.choices:
        raise ConfigError(f"{origin}: setting '{info.name}' must be one of {', '.join(info.choices)}, got {value!r}")
    if info.minimum is not None and value < info.minimum:
        raise ConfigError(f"{origin}: setting '{info.name}' must be at least {info.minimum}, got {value!r}")
    if info.maximum is not None and value > info.maximum:
        raise ConfigError(f"{origin}: setting '{info.name}' must be at most {info.maximum}, got {value!r}")
    return value


def _convert(kind: type, raw: Any) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    if kind is int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError(raw)
        return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
    if kind is float:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(raw)
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def dump(loaded: LoadedSettings) -> str:
    """The merged settings as TOML, secrets redacted, each with its help and origin."""
    lines = ["# merged settings (defaults < file < env < cli); secrets are redacted"]
    for info in settings_table():
        value = getattr(loaded.settings, info.name)
        shown = (REDACTED if value else "") if info.secret else _hide_url_password(value)
        lines.append(f"# {info.help} [from {loaded.origins[info.name]}]")
        lines.append(f"{info.name} = {_toml_literal(shown)}")
    return "\n".join(lines) + "\n"


def example_toml() -> str:
    """deploy/monitor.example.toml: every setting, commented out at its default, with its help text."""
    lines = [
        "# monitor.example.toml — every setting of the public-opinion response monitor, at its default.",
        "# Generated by `monitor config-dump --example` (a test keeps it current); use it with `monitor -c FILE`.",
        "# Uncomment what you change. Priority: defaults < this file < MONITOR_<NAME> environment < --set.",
        "# Secrets are never read from a file like this: they are listed at the end, for the environment.",
    ]
    for info in settings_table():
        help_lines = textwrap.wrap(info.help + (f" One of: {', '.join(info.choices)}." if info.choices else ""), 100)
        lines.append("")
        lines += [f"# {line}" for line in help_lines]
        if info.secret:
            lines.append(f"# SECRET — set {info.env} or {info.env}_FILE in the environment, never here.")
        else:
            lines.append(f"# (environment: {info.env})")
            lines.append(f"# {info.name} = {_toml_literal(info.default)}")
    return "\n".join(lines) + "\n"


def _hide_url_password(value: Any) -> Any:
    """`scheme://user:password@host` → `scheme://user:***@host` (database_url may carry a password)."""
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, _, rest = value.partition("://")
        credentials, at, host = rest.rpartition("@")
        user, colon, _password = credentials.partition(":")
        if colon:
            return f"{scheme}://{user}:{REDACTED}{at}{host}"
    return value


def markdown_table() -> str:
    """The settings table for README.md (between the settings markers)."""
    rows = ["| Setting | Environment | Default | Description |", "|---|---|---|---|"]
    for info in settings_table():
        if info.secret:
            default, env = "(secret)", f"`{info.env}` or `{info.env}_FILE`"
        else:
            default, env = f"`{_toml_literal(info.default)}`", f"`{info.env}`"
        choices = f" One of: {', '.join(info.choices)}." if info.choices else ""
        rows.append(f"| `{info.name}` | {env} | {default} | {info.help}{choices} |")
    return "\n".join(rows) + "\n"


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def redact(text: str, settings: Settings) -> str:
    """Remove every secret value of `settings` from `text` (for logs and error messages)."""
    for info in settings_table():
        secret = getattr(settings, info.name) if info.secret else ""
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def resolve_playbooks_dir(settings: Settings) -> Path:
    """The playbooks directory: the setting, else the shipped copy (wheel) or the source tree."""
    if settings.playbooks_dir:
        return Path(settings.playbooks_dir)
    package_dir = Path(__file__).resolve().parent
    shipped = package_dir / "_playbooks"
    return shipped if shipped.is_dir() else package_dir.parent / "playbooks"


def resolve_playbook_file(settings: Settings) -> Path:
    path = Path(settings.playbook_file)
    return path if path.is_absolute() else resolve_playbooks_dir(settings) / path


def resolve_org_file(settings: Settings) -> Path:
    path = Path(settings.org_file)
    return path if path.is_absolute() else resolve_playbooks_dir(settings) / path
