"""Streamed responses that own their database session.

A download sent as it is written (a 34 MB XER file) outlives its request: the
request's session is committed and closed when the view returns, long before
the last chunk leaves. A generator that kept reading through that session
reopened it after the request's teardown, and nothing closed it again: on
SQLite its ``BEGIN IMMEDIATE`` held the write lock for the life of the process
(every later request answered 503), on PostgreSQL the connection stayed
"idle in transaction".

So the view loads and authorizes with the request's session, as every view
does, and hands :func:`streamed_response` a function that opens the chunks
from a session of the stream's own: a read-only one (:meth:`Database.read_session`
— a deferred transaction on SQLite, READ ONLY on PostgreSQL) that is closed
when the last chunk is sent, when the client goes away (the server closes the
response iterator: ``GeneratorExit``) and when the response is closed without
being read at all (``call_on_close``), whichever comes first.

The opening function runs before the response is returned, so what it reads
up front (a file's head) fails as any view fails, before the first byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from flask import Response
from sqlalchemy.orm import Session

from crmpm.database import db
from crmpm.downloads import attachment

__all__ = ["streamed_response"]


def streamed_response(open_chunks: Callable[[Session], Iterable[bytes]], *, mimetype: str,
                      headers: dict | None = None, download_name: str | None = None) -> Response:
    """A response streaming ``open_chunks(session)`` from a read-only session it opens and always closes.

    With ``download_name`` it is an attachment of that name (:func:`crmpm.downloads.attachment`). Chunks that
    carry ``headers`` (a dict: what the file's writer tells before any byte, its warnings' count say) add them.
    """
    if download_name is not None:
        headers = {**(headers or {}), "Content-Disposition": attachment(download_name)}
    session = db.read_session()
    try:
        opened = open_chunks(session)
        chunks = iter(opened)
    except BaseException:
        session.close()
        raise
    headers = {**(headers or {}), **getattr(opened, "headers", {})}
    stream = _Stream(session, chunks)
    response = Response(stream.generate(), mimetype=mimetype, headers=headers)
    response.call_on_close(stream.close)
    return response


class _Stream:
    """The chunks and the session they read from; closed once, by whichever end comes first."""

    def __init__(self, session: Session, chunks: Iterator[bytes]):
        self.session = session
        self.chunks = chunks
        self.closed = False

    def generate(self) -> Iterator[bytes]:
        try:
            yield from self.chunks
        finally:  # the last chunk, an error, or GeneratorExit when the client went away
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()  # its cursors first
        finally:
            self.session.close()
