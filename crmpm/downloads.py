"""Downloads: files sent as attachments, named by werkzeug's rule (RFC 6266).

werkzeug's ``send_file`` writes the ``Content-Disposition``: an ASCII name as it
is (quoted when it must be), any other name twice, an ASCII rendering in
``filename`` for old clients and the exact name percent-encoded as UTF-8 in
``filename*`` (a project coded in Cyrillic downloads as ``ПРОЕКТ-1.xer``).
Files built whole (CSV, XLSX) go through :func:`send_download`, which is Flask's
``send_file``; streamed ones (:mod:`crmpm.streaming`) take the header from
:func:`attachment`. Nothing in crmpm writes that header by hand.
"""

from __future__ import annotations

import io

from flask import Response, send_file
from werkzeug.utils import send_file as werkzeug_send_file

__all__ = ["attachment", "send_download", "send_stored_file"]


def attachment(filename: str) -> str:
    """The ``Content-Disposition`` value werkzeug gives an attachment named ``filename``.

    >>> attachment("STREAM.xer")
    'attachment; filename=STREAM.xer'
    >>> attachment("ПРОЕКТ-1.xml")
    "attachment; filename=-1.xml; filename*=UTF-8''%D0%9F%D0%A0%D0%9E%D0%95%D0%9A%D0%A2-1.xml"
    """
    # werkzeug builds the header only inside send_file; asking it for an empty file gives the header alone.
    response = werkzeug_send_file(io.BytesIO(), {}, mimetype="application/octet-stream", as_attachment=True,
                                  download_name=filename, conditional=False)
    response.close()
    return response.headers["Content-Disposition"]


def send_download(content: bytes | str, *, filename: str, mimetype: str) -> Response:
    """``content`` (text is sent as UTF-8) as an attachment named ``filename``: Flask's ``send_file``."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


# A stored file is never run by the browser: no sniffing, a sandbox with nothing allowed, never cached shared.
STORED_FILE_HEADERS = {"X-Content-Type-Options": "nosniff",
                       "Content-Security-Policy": "sandbox; default-src 'none'",
                       "Cache-Control": "private, no-store"}


def send_stored_file(content: bytes, *, filename: str, mimetype: str) -> Response:
    """An uploaded file sent back: always an attachment (never shown inline), with its stored type."""
    response = send_download(content, filename=filename, mimetype=mimetype)
    response.headers.update(STORED_FILE_HEADERS)
    return response
