"""DOCX → PDF by LibreOffice (``soffice --headless --convert-to pdf``), the renderer decision 0014 chose.

Each conversion runs in a fresh temporary directory with a time limit, and at most ``MAX_CONVERSIONS`` run
at once in a process (each holds one of that many LibreOffice profiles, ``-env:UserInstallation``, because
two instances sharing a profile block each other); a request beyond that waits for a free one up to the
time limit. Without ``soffice`` on the PATH (or ``CRMPM_SOFFICE``) a PDF is refused with a clear error, and
DOCX still works.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
from pathlib import Path

from crmpm.errors import CrmpmError, Phrase

TIMEOUT_SECONDS = 90
MAX_CONVERSIONS = 2
_profiles: queue.Queue[int] = queue.Queue()
for _slot in range(MAX_CONVERSIONS):
    _profiles.put(_slot)


class RendererUnavailable(CrmpmError):
    """No PDF renderer on this server, or it failed: DOCX still works."""

    status = 503


# The messages, as phrases so that the pages' catalogue holds them.
NOT_INSTALLED = Phrase("PDF cannot be made on this server (LibreOffice is not installed); choose the DOCX format")
BUSY = Phrase("PDF conversion is busy; try again shortly")
TIMED_OUT = Phrase("PDF conversion took longer than {seconds} seconds")
FAILED = Phrase("PDF conversion failed; choose the DOCX format")


def soffice_path() -> str | None:
    """Where LibreOffice is, or None."""
    configured = os.environ.get("CRMPM_SOFFICE")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice_path() is not None


def _profile_dir(slot: int) -> Path:
    return Path(tempfile.gettempdir()) / f"crmpm-soffice-{os.getuid()}-{slot}"


def docx_to_pdf(docx: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The PDF LibreOffice makes of a DOCX."""
    binary = soffice_path()
    if binary is None:
        raise RendererUnavailable(NOT_INSTALLED.template, errors={"format": "pdf unavailable"})
    try:
        slot = _profiles.get(timeout=timeout)
    except queue.Empty:
        raise RendererUnavailable(BUSY.template, errors={"format": "pdf busy"}) from None
    try:
        with tempfile.TemporaryDirectory(prefix="crmpm-pdf-") as work:
            source = Path(work) / "document.docx"
            source.write_bytes(docx)
            command = [binary, f"-env:UserInstallation={_profile_dir(slot).as_uri()}", "--headless",
                       "--norestore", "--nologo", "--convert-to", "pdf", "--outdir", work, str(source)]
            try:
                subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=timeout, check=False,
                               env={**os.environ, "HOME": work})
            except subprocess.TimeoutExpired:
                raise RendererUnavailable(TIMED_OUT.template, seconds=int(timeout),
                                          errors={"format": "pdf timed out"}) from None
            target = Path(work) / "document.pdf"
            if not target.is_file() or target.stat().st_size == 0:
                raise RendererUnavailable(FAILED.template, errors={"format": "pdf failed"})
            return target.read_bytes()
    finally:
        _profiles.put(slot)
