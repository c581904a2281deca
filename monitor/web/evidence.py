"""Evidence downloads: the bytes an item was parsed from, and documents uploaded with a response.

Nothing is ever rendered inline: item evidence is served as text/plain, uploaded documents with
the type their own bytes showed at upload (an allow-list), both as attachments under a sandbox CSP.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from monitor.storage.repo.incident_detail import EvidenceRecord, incident_evidence
from monitor.storage.repo.incidents import get_incident
from monitor.web.auth.permissions import Permission, requires
from monitor.web.incidents import incident_id_of, incident_units
from monitor.web.requests import services, user_of

SHA256 = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_PREFIX = "upload:"


@requires(Permission.VIEW_QUEUE)
async def evidence_download(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    incident_id, sha = incident_id_of(request), request.match_info["sha256"]
    if not SHA256.match(sha):
        raise web.HTTPNotFound()
    async with svc.db.read() as conn:
        incident = await get_incident(conn, incident_id)
        if incident is None or not user.sees(incident_units(incident)):
            raise web.HTTPNotFound()
        record = await incident_evidence(conn, incident_id, sha)
    if record is None:
        raise web.HTTPNotFound()
    content_type, filename = _presentation(record)
    return web.Response(
        body=record.body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f"attachment; filename=\"evidence-{sha[:16]}\"; filename*=UTF-8''{quote(filename)}",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "no-store",
        },
    )


def _presentation(record: EvidenceRecord) -> tuple[str, str]:
    if record.url.startswith(UPLOAD_PREFIX) and record.content_type:
        return record.content_type, str(record.headers.get("filename") or f"document-{record.sha256[:16]}")
    charset = record.encoding or "utf-8"
    return f"text/plain; charset={charset}", f"evidence-{record.sha256[:16]}.txt"
