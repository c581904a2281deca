"""Response documents people upload as evidence: which kinds are accepted, and what a file really is.

The type is decided from the file's own bytes (and, for zip and OLE containers, its extension),
never from the Content-Type the browser sent, so a renamed executable or an HTML page does not
become "evidence" that is later served back to other users.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import unquote

ACCEPTED_TEXT = "PDF、OFD、Word（doc/docx）、Excel（xls/xlsx）、PNG/JPEG 图片或纯文本（txt）"
DOCUMENT_REF = re.compile(r"sha256:([0-9a-f]{64})")

_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_BY_EXTENSION = {
    _ZIP: {
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".ofd": "application/ofd",  # GB/T 33190 版式文档, zip-based
    },
    _OLE: {".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".wps": "application/msword"},
}


@dataclass(frozen=True)
class UploadedDocument:
    filename: str
    content_type: str  # as sent by the client; informational only (see `sniff`)
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def safe_name(self) -> str:
        """The file name without any directory part or control characters (for display and download)."""
        name = PurePath(unquote(self.filename).replace("\\", "/")).name  # some clients percent-encode names
        cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
        return cleaned[:200] or "document"

    def reference(self) -> str:
        """What the timeline records as the response's `document`: the name and the content address."""
        return f"{self.safe_name} sha256:{self.sha256}"


def sniff(filename: str, data: bytes) -> str | None:
    """The content type of an accepted document, or None when it is not one of the accepted kinds."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    suffix = PurePath(filename.replace("\\", "/")).suffix.lower()
    for magic, by_suffix in _BY_EXTENSION.items():
        if data.startswith(magic):
            return by_suffix.get(suffix)
    if suffix == ".txt" and b"\x00" not in data:
        return _text_type(data)
    return None


def _text_type(data: bytes) -> str | None:
    for charset in ("utf-8", "gb18030"):  # government text files are often GBK/GB18030
        try:
            data.decode(charset)
        except UnicodeDecodeError:
            continue
        return f"text/plain; charset={charset}"
    return None


def referenced_sha256(document: str | None) -> str | None:
    """The content address in a response's `document` reference, if it names an uploaded file."""
    found = DOCUMENT_REF.search(document or "")
    return found.group(1) if found else None
