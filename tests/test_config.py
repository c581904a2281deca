import re
from pathlib import Path

import pytest

from monitor.config import ConfigError, dump, load_settings, markdown_table, redact, settings_table

REPO = Path(__file__).resolve().parent.parent


def test_defaults():
    s = load_settings(env={}).settings
    assert s.database_url == "sqlite+aiosqlite:///./var/monitor.db"
    assert s.port == 8080


def test_layers_defaults_file_env_cli(tmp_path):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('port = 9000\nhost = "0.0.0.0"\nlog_level = "DEBUG"\n', encoding="utf-8")
    loaded = load_settings(
        config_file=cfg,
        env={"MONITOR_PORT": "9100", "MONITOR_LOG_LEVEL": "WARNING"},
        cli={"port": "9200"},
    )
    s = loaded.settings
    assert (s.host, s.port, s.log_level) == ("0.0.0.0", 9200, "WARNING")
    assert loaded.origins["host"] == str(cfg)
    assert loaded.origins["log_level"] == "env MONITOR_LOG_LEVEL"
    assert loaded.origins["port"] == "cli"
    assert loaded.origins["database_url"] == "default"


def test_database_url_from_env():
    url = "postgresql+asyncpg://monitor@db/monitor"
    assert load_settings(env={"MONITOR_DATABASE_URL": url}).settings.database_url == url


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('port = "eighty"', r"port' must be an integer, got 'eighty'; for example port = 8080"),
        ("port = 80.5", r"port' must be an integer"),
        ("prot = 80", r"unknown setting 'prot'; did you mean 'port'"),
        ('log_level = "LOUD"', r"log_level' must be one of DEBUG, INFO, WARNING, ERROR"),
        ("port = -1", r"port' must be at least 0"),
        ("port = 99999", r"port' must be at most 65535, got 99999"),
        ("smtp_port = 70000", r"smtp_port' must be at most 65535"),
        ("report_hour = 24", r"report_hour' must be at most 23, got 24"),
        ("dedup_threshold = 1.5", r"dedup_threshold' must be at most 1"),
        ("cluster_threshold = 2", r"cluster_threshold' must be at most 1"),
        ("port = ", r"not valid TOML"),
        (
            'session_secret = "x"',
            r"is a secret and must not be stored in a config file; remove it and set MONITOR_SESSION_SECRET",
        ),
    ],
)
def test_file_errors_name_the_setting_and_the_fix(tmp_path, toml, message):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=cfg, env={})


def test_env_type_error_names_the_variable():
    with pytest.raises(ConfigError, match=r"env MONITOR_PORT: setting 'port' must be an integer"):
        load_settings(env={"MONITOR_PORT": "abc"})


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.toml", env={})


def test_a_config_path_that_is_not_a_readable_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .* cannot be read: Is a directory; give -c a TOML file"):
        load_settings(config_file=tmp_path, env={})


def test_secrets_come_from_env_or_file_only(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-from-file\n", encoding="utf-8")
    loaded = load_settings(env={"MONITOR_SESSION_SECRET_FILE": str(secret_file)})
    assert loaded.settings.session_secret == "s3cr3t-from-file"
    assert load_settings(env={"MONITOR_SESSION_SECRET": "abc123"}).settings.session_secret == "abc123"
    with pytest.raises(ConfigError, match="command line"):
        load_settings(env={}, cli={"session_secret": "x"})
    with pytest.raises(ConfigError, match="keep only one"):
        load_settings(env={"MONITOR_SESSION_SECRET": "a", "MONITOR_SESSION_SECRET_FILE": str(secret_file)})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(env={"MONITOR_SESSION_SECRET_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="only secrets are read from files"):
        load_settings(env={"MONITOR_PORT_FILE": str(secret_file)})


def test_dump_redacts_secrets_and_shows_origins():
    loaded = load_settings(env={"MONITOR_SESSION_SECRET": "very-secret-value", "MONITOR_PORT": "9001"})
    text = dump(loaded)
    assert "very-secret-value" not in text
    assert 'session_secret = "***"' in text
    assert "port = 9001" in text and "[from env MONITOR_PORT]" in text
    assert redact("token=very-secret-value", loaded.settings) == "token=***"


def test_every_setting_is_documented():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = settings_table()
    assert table, "no settings declared"
    undocumented = [s.name for s in table if len(s.help.strip()) < 10 or not re.search(rf"`{s.name}`", readme)]
    assert undocumented == [], f"document these settings (help text and a README row): {undocumented}"


def test_readme_settings_table_is_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
    assert begin in readme and end in readme, "README.md needs the settings markers"
    current = readme.split(begin, 1)[1].split(end, 1)[0]
    assert current == markdown_table(), "regenerate with: monitor config-dump --markdown"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MONITOR_SUBSIDE_PERCENT": "0"}, r"MONITOR_SUBSIDE_PERCENT: .* at least 1"),
        ({"MONITOR_SUBSIDE_PERCENT": "100"}, r"setting 'subside_percent' must be at most 99, got 100"),
        ({"MONITOR_SUBSIDE_PERCENT": "20%"}, r"setting 'subside_percent' must be an integer, got '20%'"),
        ({"MONITOR_SUBSIDE_WINDOW_H": "0"}, r"setting 'subside_window_h' must be at least 1, got 0"),
        ({"MONITOR_SUBSIDE_WINDOW_H": "1.5"}, r"setting 'subside_window_h' must be an integer, got '1.5'"),
        ({"MONITOR_SUBSIDE_WINDOW_H": "721"}, r"setting 'subside_window_h' must be at most 720"),
    ],
)
def test_the_subsiding_threshold_is_checked(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_the_subsiding_threshold_defaults_and_overrides(tmp_path):
    assert (load_settings().settings.subside_percent, load_settings().settings.subside_window_h) == (20, 24)
    path = tmp_path / "monitor.toml"
    path.write_text("subside_percent = 30\nsubside_window_h = 12\n", encoding="utf-8")
    loaded = load_settings(config_file=path, env={"MONITOR_SUBSIDE_WINDOW_H": "48"}).settings
    assert (loaded.subside_percent, loaded.subside_window_h) == (30, 48)
