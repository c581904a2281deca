"""Response documents: uploaded with 登记回应 (form or API), checked by their own bytes, size-limited,
stored as evidence by sha256 in the command's transaction, and downloadable from the incident."""

import hashlib
import zlib

import aiohttp
import pytest
from sqlalchemy import select

from monitor.domain import EventKind, UserRole
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import evidence
from monitor.web.actions.documents import sniff
from monitor.web.auth.accounts import issue_token

from .conftest import ACCOUNTS, confirmed_incident, csrf_of, make_env

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
RELEASE = "GB80-AUTH-RELEASE-5H"


def _form(csrf: str, document: tuple[str, bytes, str] | None, **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("_csrf", csrf)
    for name, value in {"kind": "authoritative_release", "approved_by": "马振华", **fields}.items():
        data.add_field(name, value)
    if document is not None:
        name, body, content_type = document
        data.add_field("document", body, filename=name, content_type=content_type)
    return data


async def _post(client, incident: int, document, **fields) -> aiohttp.ClientResponse:
    csrf = await csrf_of(client)
    return await client.post(
        f"/incidents/{incident}/actions/responses", data=_form(csrf, document, **fields), allow_redirects=False
    )


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("通报.pdf", PDF, "application/pdf"),
        ("截图.png", b"\x89PNG\r\n\x1a\n rest", "image/png"),
        ("照片.jpg", b"\xff\xd8\xff\xe0 rest", "image/jpeg"),
        (
            "情况说明.docx",
            b"PK\x03\x04 rest",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("通报.ofd", b"PK\x03\x04 rest", "application/ofd"),
        ("旧版.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 rest", "application/msword"),
        ("说明.txt", "情况说明".encode(), "text/plain; charset=utf-8"),
        ("说明.txt", "情况说明".encode("gb18030"), "text/plain; charset=gb18030"),
        ("page.html", b"<html><script>alert(1)</script>", None),
        ("renamed.pdf", b"MZ\x90\x00 executable", None),
        ("archive.zip", b"PK\x03\x04 rest", None),
        ("binary.txt", b"a\x00b", None),
    ],
)
def test_documents_are_recognised_by_their_bytes(name, body, expected):
    assert sniff(name, body) == expected


async def test_an_uploaded_document_is_evidence_and_meets_the_obligation(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.UNIT_HANDLER)  # 王晨阳 of 住建局 cannot see an 应急局 incident …
    assert (await client.get(f"/incidents/{incident}")).status == 404
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await _post(client, incident, ("../../明湖市应急局通报.pdf", PDF, "application/x-evil"))
    assert resp.status == 303, await resp.text()
    sha = hashlib.sha256(PDF).hexdigest()
    async with env.db.read() as conn:
        row = (await conn.execute(select(evidence).where(evidence.c.sha256 == sha))).one()
        events = await list_events(conn, incident)
    assert zlib.decompress(row.body) == PDF and row.size == len(PDF) and row.content_type == "application/pdf"
    assert row.headers == {"filename": "明湖市应急局通报.pdf", "uploaded_by": "duty", "incident_id": str(incident)}
    [response] = [e for e in events if e.kind == EventKind.RESPONSE_RECORDED]
    assert response.payload["document"] == f"明湖市应急局通报.pdf sha256:{sha}" and response.payload["url"] is None
    assert response.payload["approved_by"] == "马振华"
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert f'href="/incidents/{incident}/evidence/{sha}"' in page and f'data-rule="{RELEASE}"' in page
    assert f'data-rule="{RELEASE}" data-instance="0" data-status="met"' in page
    download = await client.get(f"/incidents/{incident}/evidence/{sha}")
    assert download.status == 200 and await download.read() == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''%E6%98%8E" in download.headers["Content-Disposition"]
    assert "sandbox" in download.headers["Content-Security-Policy"]
    other = await confirmed_incident(env, title="另一事件")
    assert (await client.get(f"/incidents/{other}/evidence/{sha}")).status == 404  # not this incident's document


async def test_bad_documents_are_named_and_the_input_kept(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await _post(client, incident, ("通报.html", b"<html>", "text/html"), summary="首次通报")
    html = await resp.text()
    assert resp.status == 400 and "「回应文件」不是可接受的文件类型：只接受 PDF、OFD" in html and "首次通报" in html
    resp = await _post(client, incident, ("空.pdf", b"", "application/pdf"))
    assert resp.status == 400 and "「回应文件」是空文件" in await resp.text()
    resp = await _post(client, incident, None, url="https://www.minghu.gov.example/tb/1", approved_by="")
    assert resp.status == 400 and "「审批人」为必填项" in await resp.text()
    resp = await _post(client, incident, None)  # an empty file input is "no file", not an empty file
    assert resp.status == 400 and "「回应链接」与「回应文件」至少提供一项：回应须有证据" in await resp.text()
    async with env.db.read() as conn:
        assert list(await conn.execute(select(evidence.c.sha256))) == []
        assert not [e for e in await list_events(conn, incident) if e.kind == EventKind.RESPONSE_RECORDED]


async def test_the_size_limit_is_a_form_error_that_keeps_the_input(sqlite_db, clock):
    async for env in make_env(sqlite_db, clock, upload_max_mb=1.0):
        incident = await confirmed_incident(env)
        client = await env.login(UserRole.DUTY_OFFICER)
        big = PDF + b"0" * (1024 * 1024)
        resp = await _post(client, incident, ("大文件.pdf", big, "application/pdf"), summary="附件过大")
        html = await resp.text()
        assert resp.status == 400 and "「回应文件」超过 1 MiB 的上限" in html and "附件过大" in html
        huge = b"0" * (3 * 1024 * 1024 + 10)
        assert (await _post(client, incident, ("巨大.pdf", huge, "application/pdf"))).status == 413


async def test_the_api_takes_documents_as_multipart_and_refuses_text(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    token = await issue_token(env.db, env.clock, ACCOUNTS[UserRole.DUTY_OFFICER].username, actor="test")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"kind": "authoritative_release", "approved_by": "马振华", "document": "明政发〔2026〕1号"}
    resp = await env.client.post(f"/api/incidents/{incident}/responses", json=body, headers=headers)
    data = await resp.json()
    assert resp.status == 400 and data["field"] == "document" and "multipart/form-data" in data["message"]
    form = aiohttp.FormData()
    for key, value in (("kind", "authoritative_release"), ("approved_by", "马振华")):
        form.add_field(key, value)
    form.add_field("document", PDF, filename="通报.pdf", content_type="application/pdf")
    resp = await env.client.post(f"/api/incidents/{incident}/responses", data=form, headers=headers)
    data = await resp.json()
    assert resp.status == 201 and data["message"] == "已登记发布权威信息"
    assert {o["rule_id"]: o["status"] for o in data["obligations"]}[RELEASE] == "met"
    [entry] = await env.audit("incident.record_response")
    assert entry.after["via"] == "api" and entry.after["input"]["document"].endswith(hashlib.sha256(PDF).hexdigest())
