"""Jobs: work done outside the request that asked for it, with its state kept in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crmpm.database import Base, utcnow

STATUSES = ("queued", "running", "succeeded", "failed")


class Job(Base):
    """One run of a job kind with its parameters, and what became of it.

    The row is created in the transaction that asks for the work (so a rolled-back request
    starts nothing) and handed to the job engine after the commit. A worker claims it
    (``running``, a new ``attempt``), does the work in one transaction and marks it
    ``succeeded`` with its result in that same transaction: a worker killed mid-way leaves
    nothing of the work, the job is claimed again (``crmpm.jobs.runner.recover``), and a job
    already succeeded is never run again. ``key``, when given, makes asking twice start one job.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(40), default="default")
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Not before this time (a retry's backoff); and when it was last handed to the engine.
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # The worker running it, or that ran it to its end ("host:pid"), and until when its claim holds unless renewed.
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()


class JobFile(Base):
    """A file a job produced (an export), kept in the database so every app server can hand it out,
    until ``expires_at``; downloadable by whoever may read the job."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # "upload": what the job was asked with (read by the job); "result": what it produced (downloaded).
    purpose: Mapped[str] = mapped_column(String(10), default="result")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
