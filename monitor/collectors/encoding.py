"""Turn fetched bytes into text: BOM, HTTP header, XML/HTML declaration, then a guess.

Chinese sites often disagree with themselves: the header says UTF-8 while the page declares
GB2312, or a "GB2312" page uses characters only GBK has. The rules, in order:

1. A byte-order mark wins (it cannot be there by accident).
2. Otherwise the header's and the document's declared charsets are tried in that order; the
   first that decodes the bytes strictly wins. A conflict between them is a warning.
3. Otherwise charset-normalizer guesses; as a last resort GB18030 and then UTF-8 with
   replacement characters (a warning says text was lost).

GB2312 and GBK are decoded as GB18030 (a strict superset), Big5 as Big5-HKSCS. Text that
decodes cleanly but is mojibake (UTF-8 read as GBK or Latin-1) is detected and flagged, and
repaired when the round trip is exact, so it never reaches the classifier unnoticed.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso8859-1": "cp1252",  # what browsers do: Latin-1 labels mean Windows-1252
    "ascii": "utf-8",
}
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Characters that are frequent when UTF-8 bytes are read as GBK (鍥 鏄 锛 浠 ...) or as cp1252 (Ã â €).
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the codec that produced `text` (after superset mapping)
    warnings: list[str] = field(default_factory=list)


def canonical_codec(label: str | None) -> str | None:
    """Python codec name for a charset label, with GB2312/GBK -> GB18030 and Big5 -> Big5-HKSCS."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The charset the document itself declares (XML declaration or HTML meta), if any."""
    head = body[:4096]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode fetched bytes following the module rules; never raises."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(codec, errors="replace")
            return _checked(text, codec, [])
    warnings: list[str] = []
    from_header, from_doc = header_charset(content_type), declared_charset(body)
    candidates = _candidates(from_header, from_doc, warnings)
    for label, codec in candidates:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            warnings.append(f"bytes are not valid {label} (declared); trying the next candidate")
            continue
        if label != candidates[0][0]:
            warnings.append(f"decoded as {codec} although {candidates[0][0]} was declared first")
        return _checked(text, codec, warnings)
    return _checked(*_guess(body, warnings, declared=bool(candidates)), warnings)


def _candidates(from_header: str | None, from_doc: str | None, warnings: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for where, label in (("HTTP header", from_header), ("document declaration", from_doc)):
        if not label:
            continue
        codec = canonical_codec(label)
        if codec is None:
            warnings.append(f"unknown charset {label!r} in the {where}; ignored")
        elif codec not in (c for _, c in found):
            found.append((label, codec))
    if len(found) == 2:
        warnings.append(
            f"charset conflict: HTTP header says {found[0][0]}, the document declares {found[1][0]}; "
            "using whichever decodes the bytes"
        )
    return found


def _guess(body: bytes, warnings: list[str], *, declared: bool = False) -> tuple[str, str]:
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = None
    if len(body) >= 256:  # too little text makes any statistical guess a coin toss; GB18030 is likeliest here
        from charset_normalizer import from_bytes

        best = from_bytes(body[:65536]).best()
        codec = canonical_codec(best.encoding) if best is not None else None
    for candidate in (codec, "gb18030"):
        if candidate:
            try:
                text = body.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
            why = "no declared charset fits the bytes" if declared else "no charset declared"
            warnings.append(f"{why}; guessed {candidate}")
            return text, candidate
    warnings.append("bytes are not valid in any likely charset; undecodable bytes replaced with U+FFFD")
    return body.decode("utf-8", errors="replace"), "utf-8"


def _checked(text: str, codec: str, warnings: list[str]) -> Decoded:
    repaired, problem = repair_mojibake(text)
    if problem:
        warnings.append(problem)
    if "\ufffd" in repaired:
        warnings.append("text contains U+FFFD replacement characters (bytes were lost in decoding)")
    return Decoded(repaired, codec, warnings)


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Detect UTF-8 text that was decoded as GBK/GB18030 or cp1252; repair it when exact.

    Returns (text, warning). The warning is None for clean text.
    """
    runs = _NON_ASCII_RUN.findall(text)
    if not runs:
        return text, None
    sample = "".join(runs)[:2000]
    for wrong in ("gb18030", "cp1252"):
        fixed = _roundtrip(sample, wrong)
        if fixed is not None and _looks_fixed(sample, fixed):
            whole = _roundtrip(text, wrong)
            if whole is not None:
                return whole, f"mojibake repaired: UTF-8 text had been decoded as {wrong}"
            return text, f"mojibake: UTF-8 text appears to have been decoded as {wrong}; not repaired"
        if fixed is None and _may_be_lossy(sample, wrong) and _lossy_mojibake(sample, wrong):
            return text, f"mojibake: UTF-8 text appears to have been decoded as {wrong} (bytes lost); not repaired"
    return text, None


_LATIN = re.compile(r"[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2018-\u201e\u2020-\u2022\u2026\u20ac]")


def _may_be_lossy(sample: str, wrong: str) -> bool:
    """Cheap precondition: lost bytes leave U+FFFD or 锟 behind (GBK), or Latin-1 letters (cp1252)."""
    if wrong == "cp1252":
        return _LATIN.search(sample) is not None
    return "\ufffd" in sample or "锟" in sample


def _lossy_mojibake(sample: str, wrong: str) -> bool:
    """Mojibake whose lost bytes prevent an exact repair: re-reading it as UTF-8 still yields mostly CJK."""
    reread = sample.encode(wrong, errors="ignore").decode("utf-8", errors="replace")
    cjk, lost = len(_CJK.findall(reread)), reread.count("\ufffd")
    return len(reread) < len(sample) and cjk >= 3 and cjk > 2 * lost


def _roundtrip(text: str, wrong: str) -> str | None:
    try:
        return text.encode(wrong).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _looks_fixed(before: str, after: str) -> bool:
    """A real repair shrinks the text (3 bytes per CJK char became 1.5 chars) and yields CJK or Latin."""
    if len(after) >= len(before):
        return False
    return bool(_CJK.search(after)) or not _CJK.search(before)
