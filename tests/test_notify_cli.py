"""`monitor notify-test`, secret settings in config-dump, and the org file's quiet_hours."""

import asyncio

import pytest

from monitor.cli import main
from monitor.policy import PolicyError, load_org

from .notify_fakes import FakeSlack, start


@pytest.fixture
def database(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    return url


async def test_notify_test_reports_each_channel_of_a_person(database, monkeypatch, capsys):
    fake = FakeSlack()
    server = await start(fake.app)
    monkeypatch.setenv("MONITOR_SLACK_BOT_TOKEN", FakeSlack.TOKEN)
    args = ["--database-url", database, "--set", f"slack_api_url={server.make_url('/api/')}"]
    args += ["--set", "notify_console=true", "notify-test", "--person", "蒋文博"]
    try:
        code = await asyncio.to_thread(main, args)
    finally:
        await server.close()
    out = capsys.readouterr().out
    assert code == 1  # e-mail is not configured, so not every channel works
    assert "向 蒋文博 的各个通知渠道发送测试消息：" in out
    assert "  ✓ Slack（slack）：已送达" in out
    assert "  ✗ 电子邮件（email）：未配置：未设置 smtp_host / smtp_from" in out
    assert "  ✓ 控制台（console）：已送达" in out
    assert "[通知 → 蒋文博]" in out and "【测试】这是一条来自政务舆情回应监测与督办系统的测试消息" in out
    [post] = fake.posts()
    assert post.body["channel"] == "U0GOVOFF01" and post.body["text"].startswith("【测试】")
    assert [b["type"] for b in post.body["blocks"]] == ["header", "section"]  # no 确认收到 button on a test


def test_notify_test_names_an_unknown_person(database, capsys):
    assert main(["--database-url", database, "notify-test", "--person", "zhao_le"]) == 2
    assert "no person 'zhao_le' in the org directory; did you mean zhao_lei" in capsys.readouterr().err


def test_channel_secrets_are_redacted_in_config_dump(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MONITOR_SLACK_BOT_TOKEN", "xoxb-dump-secret")
    secret_file = tmp_path / "smtp"
    secret_file.write_text("smtp-file-secret\n", encoding="utf-8")
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD_FILE", str(secret_file))
    assert main(["config-dump"]) == 0
    out = capsys.readouterr().out
    assert "xoxb-dump-secret" not in out and "smtp-file-secret" not in out
    assert 'slack_bot_token = "***"' in out and "[from env MONITOR_SMTP_PASSWORD_FILE]" in out
    assert main(["--set", "slack_bot_token=x", "config-dump"]) == 2
    assert "is a secret and cannot be given on the command line" in capsys.readouterr().err


def test_quiet_hours_in_the_org_file_are_checked(tmp_path):
    org = tmp_path / "org.yaml"
    base = "version: 1\ncity: {name: x}\nunits:\n  - {id: gov, name: 政府, kind: government}\npeople:\n"
    org.write_text(base + '  - {id: a, name: 甲, email: a@x.example, quiet_hours: "23:00-06:30"}\n', encoding="utf-8")
    assert load_org(org).people["a"].quiet_hours == "23:00-06:30"
    org.write_text(base + '  - {id: a, name: 甲, email: a@x.example, quiet_hours: "11pm"}\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"quiet_hours.*is not a time range"):
        load_org(org)


def test_bench_notify_prints_result_rows(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "notify", "--n", "40"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert any("rows/s" in r for r in rows)
    assert any("40 delivered in 1 requests" in r for r in rows)  # 40 alerts > 20/min budget: one digest
