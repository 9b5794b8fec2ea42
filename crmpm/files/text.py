"""The text of a PDF (pypdf), a DOCX (python-docx) or a text file, for search; bounded, never raising.

A file whose text cannot be read (a broken or encrypted PDF, a scan without a text layer) is still a good
document: :func:`extract` then answers ``""``. Work is bounded: at most :data:`MAX_PAGES` pages and
:data:`MAX_SECONDS` of a PDF, a DOCX whose main part unpacks to more than :data:`MAX_XML_BYTES` is skipped
(a ZIP bomb), and at most :data:`MAX_CHARS` characters are kept.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile

from crmpm.files.content import DOCX

__all__ = ["MAX_CHARS", "MAX_PAGES", "MAX_SECONDS", "MAX_XML_BYTES", "extract"]

log = logging.getLogger(__name__)

MAX_CHARS = 1_000_000
MAX_PAGES = 500
MAX_SECONDS = 10.0
MAX_XML_BYTES = 50 * 1024 * 1024


def _clean(text: str) -> str:
    # PostgreSQL text holds no NUL; runs of blanks say nothing to a search.
    return " ".join(text.replace("\x00", " ").split())[:MAX_CHARS]


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    started = time.monotonic()
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:  # noqa: BLE001 - an encrypted PDF is kept without its text
            return ""
    parts, length = [], 0
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or time.monotonic() - started > MAX_SECONDS or length >= MAX_CHARS:
            break
        text = page.extract_text() or ""
        parts.append(text)
        length += len(text)
    return "\n".join(parts)


def _docx(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist() if info.filename.startswith("word/")) > MAX_XML_BYTES:
            return ""
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _plain(data: bytes) -> str:
    head = data[: MAX_CHARS * 2]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError:
        return head.decode("cp1251", errors="replace")


def extract(data: bytes, content_type: str) -> str:
    """The searchable text of ``data`` (a file of ``content_type``), or ``""`` when none can be read."""
    reader = {"application/pdf": _pdf, DOCX: _docx, "text/plain": _plain, "text/csv": _plain}.get(content_type)
    if reader is None:
        return ""
    try:
        return _clean(reader(data))
    except Exception:  # noqa: BLE001 - a file whose text cannot be read is stored without it
        log.info("no text read from a %s of %d bytes", content_type, len(data), exc_info=True)
        return ""
