"""Uploaded files kept on disk while a request works on them, in one folder that later runs sweep.

A CSV import reads its upload from a file. A folder removed when the request
ends is not enough: a worker killed mid-import (SIGKILL, out of memory) runs no
clean-up, and the client's data stayed in ``/tmp``. So every upload gets a
folder under one root (``UPLOAD_DIR``, env ``CRMPM_UPLOAD_DIR``; default
``<tmp>/crmpm-uploads``, readable by its owner only) named after the process
and host that made it, and each new upload first removes the folders of
processes of this host that are gone, and any folder older than
:data:`MAX_AGE` (a process of another host sharing the root, or a reused pid).

Uploads parsed from the request body itself (the pages' XER and MSPDI files)
never reach a named file: Werkzeug spools big ones to an anonymous temporary
file, which the system removes with the process.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["MAX_AGE", "default_upload_dir", "sweep", "upload_folder"]

log = logging.getLogger(__name__)

# Longer than any import runs; a folder this old is a leftover whoever made it.
MAX_AGE = 6 * 3600


def default_upload_dir() -> str:
    """``<the system's temporary folder>/crmpm-uploads``."""
    return str(Path(tempfile.gettempdir()) / "crmpm-uploads")


@contextmanager
def upload_folder(root: str | Path) -> Iterator[Path]:
    """A fresh folder under ``root`` for one request's uploads, removed when the block ends."""
    root = Path(root)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}@{socket.gethostname()}.", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep(root: str | Path, *, now: float | None = None) -> list[Path]:
    """Remove what processes that are gone left under ``root``; the folders removed."""
    now = time.time() if now is None else now
    host = socket.gethostname()
    removed = []
    try:
        entries = list(Path(root).iterdir())
    except FileNotFoundError:
        return removed
    for entry in entries:
        try:
            age = now - entry.stat().st_mtime
        except FileNotFoundError:
            continue  # its own process removed it just now
        pid, _at, made_on = entry.name.rpartition(".")[0].partition("@")
        if age < MAX_AGE and (made_on != host or not pid.isdigit() or _alive(int(pid))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        log.warning("removed the upload %s left by a process that is gone", entry)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
