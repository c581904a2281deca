"""PostgreSQL URL options in libpq spelling (sslmode, application_name, options=-c …, connect_timeout)
reach the service's own connections (the engine and the LISTEN change feed), not only the backup
tools; an option nobody understands is refused by name when the database is opened."""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import quote

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from monitor.storage.changefeed import asyncpg_connect_args, asyncpg_dsn
from monitor.storage.db import Database, DatabaseError, pg_connect_args

from .conftest import PG_ENV

OPTIONS = quote("-c statement_timeout=1234 -c lock_timeout=2s")


def _pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return url


async def test_libpq_options_in_the_url_reach_the_engines_connections():
    url = f"{_pg_url()}?sslmode=disable&application_name=monitor-web&options={OPTIONS}&connect_timeout=5"
    db = Database.open(url)
    try:
        async with db.read() as conn:
            shown = [
                (await conn.execute(text(f"SHOW {name}"))).scalar_one()
                for name in ("application_name", "statement_timeout", "lock_timeout")
            ]
    finally:
        await db.engine.dispose()
    assert shown == ["monitor-web", "1234ms", "2s"]


async def test_the_change_feed_connects_with_the_same_options():
    url = f"{_pg_url()}?sslmode=disable&application_name=monitor-listen&command_timeout=30"
    conn = await asyncpg.connect(asyncpg_dsn(url), **asyncpg_connect_args(url))
    try:
        assert await conn.fetchval("SHOW application_name") == "monitor-listen"
    finally:
        await conn.close()


async def test_sslmode_require_is_asked_of_the_server():
    """The test server has TLS off: require must fail to connect, not quietly connect in clear."""
    db = Database.open(f"{_pg_url()}?sslmode=require&connect_timeout=5")
    try:
        with pytest.raises(Exception, match=r"(?i)ssl"):
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await db.engine.dispose()


def test_ssl_modes_and_files_become_asyncpg_arguments(tmp_path):
    base = make_url("postgresql+asyncpg://monitor@db.internal/monitor")
    query = {"sslmode": "verify-full", "prepared_statement_cache_size": "0"}
    url, args = pg_connect_args(base.update_query_dict(query))
    assert args == {"ssl": "verify-full"} and dict(url.query) == {"prepared_statement_cache_size": "0"}
    assert pg_connect_args(base.update_query_dict({"ssl": "true"}))[1] == {"ssl": "require"}
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    _, args = pg_connect_args(base.update_query_dict({"sslmode": "verify-ca", "sslrootcert": str(ca)}))
    assert args == {"dsn": f"postgresql://?sslmode=verify-ca&sslrootcert={quote(str(ca), safe='')}"}
    assert pg_connect_args(base.update_query_dict({"sslmode": "disable", "sslrootcert": str(ca)}))[1] == {
        "ssl": "disable"
    }


@pytest.fixture
def root_certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    ca, key = tmp_path / "ca.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca]
    subprocess.run([*command, "-days", "1", "-subj", "/CN=db.internal"], check=True, capture_output=True)
    return ca


async def test_verify_ca_with_a_root_certificate_is_asked_of_the_server(root_certificate):
    """asyncpg applies the files itself: the TLS-less test server refuses the upgrade, never a clear connection."""
    ca = root_certificate
    db = Database.open(f"{_pg_url()}?sslmode=verify-ca&sslrootcert={quote(str(ca))}&connect_timeout=5")
    try:
        with pytest.raises(Exception, match=r"(?i)ssl"):
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await db.engine.dispose()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sslmode": "sometimes"}, "sslmode=sometimes is not an SSL mode"),
        ({"bogus": "1"}, "database_url option bogus=1 is not understood"),
        ({"options": "statement_timeout=5"}, "expected -c name=value"),
        ({"connect_timeout": "soon"}, "connect_timeout=soon is not a float"),
        (
            {"sslmode": "verify-ca", "sslrootcert": "/nonexistent/ca.pem"},
            "cannot read the SSL file sslrootcert=/nonexistent/ca.pem",
        ),
    ],
)
def test_options_that_cannot_work_are_refused_by_name(query, message):
    base = make_url("postgresql+asyncpg://monitor@db.internal/monitor")
    with pytest.raises(DatabaseError, match=message):
        pg_connect_args(base.update_query_dict(query))
    with pytest.raises(DatabaseError, match=message):
        Database.open(base.update_query_dict(query).render_as_string(hide_password=False))
