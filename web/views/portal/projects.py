"""What a client sees on the portal: the shared projects of their account, each one's progress, the documents
shared with them. Every id in a URL goes through ``accounts.portal.access`` (not found otherwise)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import g, render_template
from flask_babel import format_date

from accounts.documents import services as documents
from accounts.portal import access, progress as portal_progress
from crmpm.database import db
from crmpm.downloads import send_stored_file
from web import gantt
from wbs.models import ProjectPlan
from web.views.portal.common import portal_blueprint

bp = portal_blueprint("portal", __name__)


@bp.route("/")
def index():
    """The client's shared projects: name, deal status, percent complete, next milestone; their documents."""
    projects = access.shared_projects(db.session, g.client)
    items = portal_progress.overview(db.session, projects)
    shared = list(db.session.scalars(access.client_documents(g.client).limit(200)))
    return render_template("portal/index.html", items=items, documents=shared)


def _chart(rows: list[portal_progress.SummaryRow], milestones: list[portal_progress.Milestone], *, now: datetime):
    """The read-only summary Gantt: a bar per row, a diamond per dated milestone, on one time scale."""
    dates = [when for row in rows for when in (row.start, row.finish) if when is not None]
    dates += [item.when for item in milestones if item.when is not None]
    if not dates:
        return None
    first, last = min(dates), max(dates)
    zoom = "days" if last - first <= timedelta(days=45) else "weeks" if last - first <= timedelta(days=200) \
        else "months"
    scale = gantt.make_scale(first, last, zoom, min_width=600.0)
    ticks = gantt.ticks(scale, zoom, month_label=lambda when: format_date(when, "LLL yyyy"),
                        day_label=lambda when: format_date(when, "d MMM"))
    bars = []
    for index, row in enumerate(rows):
        bar = gantt.bar(scale, row.start, row.finish) if row.start and row.finish else None
        bars.append({"row": row, "y": gantt.HEADER_HEIGHT + index * gantt.ROW_HEIGHT, "bar": bar})
    marks = [{"item": item, "x": scale.x(item.when)} for item in milestones if item.when is not None]
    mark_y = gantt.HEADER_HEIGHT + len(rows) * gantt.ROW_HEIGHT
    return {"width": scale.width, "height": mark_y + (gantt.ROW_HEIGHT if marks else 0) + 4, "ticks": ticks,
            "bars": bars, "marks": marks, "mark_y": mark_y, "row_height": gantt.ROW_HEIGHT,
            "header": gantt.HEADER_HEIGHT, "today": scale.x(now) if scale.start <= now <= scale.end else None}


@bp.route("/projects/<int:project_id>")
def project(project_id: int):
    """One shared project's progress: milestones, percent complete, the summary Gantt, documents, the deal."""
    found = access.get_shared_project_or_raise(db.session, g.client, project_id)
    shown = portal_progress.progress(db.session, found)
    files = list(db.session.scalars(access.client_documents(g.client, project_id=found.id)))
    return render_template("portal/project.html", project=found, progress=shown, documents=files,
                           chart=_chart(shown.summary, shown.milestones, now=_project_now(found)))


def _project_now(project) -> datetime:
    """Now on the project's wall clock (its plan's zone), as its dates are kept."""
    plan = db.session.get(ProjectPlan, project.id)
    zone = ZoneInfo(plan.time_zone if plan is not None else "Europe/Moscow")
    return datetime.now(zone).replace(tzinfo=None)


@bp.route("/documents/<int:document_id>/download")
def download(document_id: int):
    """The current version of a document shared with the client, as an attachment."""
    document = access.get_client_document_or_raise(db.session, g.client, document_id)
    version = documents.version_of(db.session, document=document)
    return send_stored_file(documents.read_version(db.session, version), filename=version.file_name,
                            mimetype=version.content_type)
