"""Levelling runs: who levelled which projects, when, with which options, and the report (for the pages).

The levelled dates themselves are the activities' ``levelled_start``/``levelled_finish``; the CPM early and
late dates are never changed by levelling. A run names every project it levelled (``LevellingRunProject``),
so a project's page finds the last run that included it, whether it was levelled alone or with its EPS node.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow


class LevellingRun(Base):
    """One levelling run: its scope (``project_id`` it was asked from or ``eps_node_id``), options and report.

    ``report`` holds the moved activities, those left unresolved and the over-allocations left, each entry
    with its activity's ``project_id`` so that a reader is shown only the projects they may read.
    """

    __tablename__ = "levelling_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(20), default="project")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    options: Mapped[dict] = mapped_column(JSON)
    report: Mapped[dict] = mapped_column(JSON)
    activities: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    unresolved: Mapped[int] = mapped_column(Integer, default=0)
    overallocations: Mapped[int] = mapped_column(Integer, default=0)
    milliseconds: Mapped[int] = mapped_column(Integer, default=0)

    projects: Mapped[list[LevellingRunProject]] = relationship(cascade="all, delete-orphan")


class LevellingRunProject(Base):
    """A project a run levelled."""

    __tablename__ = "levelling_run_projects"

    run_id: Mapped[int] = mapped_column(ForeignKey("levelling_runs.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
