import subprocess
import sys

import pytest

from monitor.cli import main

from .conftest import PG_ENV


def run(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_config_dump_redacts_and_reports_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MONITOR_SESSION_SECRET", "super-secret-cookie-key")
    assert main(["--set", "port=9999", "config-dump"]) == 0
    out = capsys.readouterr().out
    assert "super-secret-cookie-key" not in out and "port = 9999" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('port = "x"\n', encoding="utf-8")
    assert main(["-c", str(bad), "config-dump"]) == 2
    err = capsys.readouterr().err
    assert "setting 'port' must be an integer" in err and str(bad) in err


def test_migrate_twice_on_a_fresh_sqlite_file(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    first = run("--database-url", url, "migrate")
    assert first.returncode == 0, first.stderr
    assert "migrated from empty to" in first.stdout
    second = run("--database-url", url, "migrate")
    assert second.returncode == 0 and "nothing to do" in second.stdout


def test_bad_database_url_is_a_clear_error(capsys):
    assert main(["--database-url", "mysql://x/y", "migrate"]) == 2
    assert "unsupported database driver" in capsys.readouterr().err


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path, capsys):
    blocked = tmp_path / "a-directory.db"
    blocked.mkdir()  # SQLite cannot open a directory as its database file
    for command in (["migrate"], ["serve", "--port", "0"], ["users", "list"]):
        assert main(["--database-url", f"sqlite:///{blocked}", *command]) == 2, command
        err = capsys.readouterr().err
        assert "cannot open the database" in err and "unable to open database file" in err, err
        assert "database_url" in err


def test_a_missing_postgresql_database_is_a_clear_error(pg_server, capsys):
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    url = pg_server.url_for(f"{pg_server.prefix}_never_created")
    for command in (["migrate"], ["worker", "--role", "engine"], ["serve", "--port", "0"]):
        assert main(["--database-url", url, *command]) == 2, command
        err = capsys.readouterr().err
        assert "cannot open the database" in err and "does not exist" in err, err


def test_check_playbooks_reports_errors_with_location(tmp_path, capsys):
    assert main(["check-playbooks"]) == 0
    assert "demo-city.yaml: ok" in capsys.readouterr().out
    bad = tmp_path / "org.yaml"
    bad.write_text(
        "version: 1\ncity: {name: x}\nunits:\n  - {id: Bad Id, name: x, kind: department}\npeople: []\n",
        encoding="utf-8",
    )
    assert main(["--set", f"org_file={bad}", "check-playbooks"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4 units[0].id" in err and "fix:" in err


def test_serve_refuses_an_unmigrated_database(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert main(["--database-url", url, "serve", "--port", "0"]) == 2
    assert "run `monitor migrate`" in capsys.readouterr().err


def test_bench_storage_prints_result_rows(tmp_path):
    result = run("bench", "storage", "--n", "2000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert any("rows/s" in r for r in rows) and all(r.count("|") == 5 for r in rows)
    assert run("bench", "nope").returncode == 2
