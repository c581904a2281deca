"""`monitor users`: passwords only from a prompt or stdin, clear errors, every change audited."""

import io
import sqlite3
import sys

import pytest

from monitor.cli import main


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    return url, tmp_path / "m.db"


def run(url, *args, stdin=""):
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(["--database-url", url, "users", *args])
    finally:
        sys.stdin = old


def test_add_passwd_disable_enable_unlock_token_list(db_url, capsys):
    url, path = db_url
    assert (
        run(
            url,
            "add",
            "xu_ting",
            "--role",
            "duty_officer",
            "--name",
            "许婷",
            "--person",
            "xu_ting",
            stdin="a-good-password\n",
        )
        == 0
    )
    assert "created xu_ting (值班员)" in capsys.readouterr().out
    assert run(url, "passwd", "xu_ting", stdin="another-password\n") == 0
    assert run(url, "disable", "xu_ting") == 0
    assert run(url, "list") == 0
    assert "xu_ting\tduty_officer\t-\tdisabled\t许婷" in capsys.readouterr().out
    assert run(url, "enable", "xu_ting") == 0 and run(url, "unlock", "xu_ting") == 0
    capsys.readouterr()
    assert run(url, "token", "xu_ting") == 0
    assert capsys.readouterr().out.startswith("mtk_")
    with sqlite3.connect(path) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
        hashed = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert actions == ["user.create", "user.password", "user.disable", "user.enable", "user.unlock", "user.api_token"]
    assert hashed.startswith("$argon2id$") and "another-password" not in hashed


def test_errors_name_the_problem(db_url, capsys):
    url, _ = db_url
    assert run(url, "add", "u1", "--role", "unit_handler", stdin="a-good-password\n") == 2
    assert "give --unit UNIT_ID" in capsys.readouterr().err
    assert run(url, "add", "u1", "--role", "unit_handler", "--unit", "nowhere", stdin="a-good-password\n") == 2
    assert "unit 'nowhere' is not in the org directory" in capsys.readouterr().err
    assert run(url, "add", "u1", "--role", "analyst", stdin="short\n") == 2
    assert "password rejected" in capsys.readouterr().err
    assert run(url, "add", "u1", "--role", "analyst", stdin="") == 2
    assert "no password on standard input" in capsys.readouterr().err
    assert run(url, "disable", "ghost") == 2
    assert "no user named 'ghost'" in capsys.readouterr().err
    assert run(url, "add", "u1", "--role", "analyst", stdin="a-good-password\n") == 0
    assert run(url, "add", "u1", "--role", "analyst", stdin="a-good-password\n") == 2
    assert "already exists" in capsys.readouterr().err


def test_no_password_flag_exists():
    with pytest.raises(SystemExit):
        main(["users", "add", "x", "--role", "analyst", "--password", "secret-secret"])
