"""The Gantt chart: an SVG drawn on the server, one window of rows at a time, on the whole project's time scale."""

from __future__ import annotations

from flask import g, redirect, render_template, request, session as cookie, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import NotFound
from eps import services as eps_services
from wbs import portfolio, services
from web import gantt as geometry
from web.i18n import date_, month
from web.pagination import Page, page_args, paginate
from web.views.pm.blueprint import bp
from web.views.pm.common import LAST_PROJECT_KEY, hours_per_day, load_project

ROWS_PER_PAGE = 200


def _last_or_chooser():
    """The Gantt chart of the project last opened in this session, or a list to choose one from."""
    last = cookie.get(LAST_PROJECT_KEY)
    if isinstance(last, int):
        try:
            eps_services.get_project_or_raise(db.session, user=g.user, project_id=last)
        except NotFound:
            cookie.pop(LAST_PROJECT_KEY, None)
        else:
            return redirect(url_for("pm.gantt", project_id=last))
    page = paginate(db.session, portfolio.list_projects(db.session, user=g.user), default_per_page=25)
    return render_template("projects/gantt_choose.html", page=page)


def _zoom(first, last) -> str:
    asked = request.args.get("zoom")
    if asked in geometry.ZOOMS:
        return asked
    days = (last - first).days
    return "days" if days <= 45 else "weeks" if days <= 400 else "months"


@bp.route("/gantt", defaults={"project_id": None})  # the menu's entry
@bp.route("/<int:project_id>/gantt")
def gantt(project_id: int | None):
    """One window of the project's activities under their WBS headings, bars from early start to early finish."""
    if project_id is None:
        return _last_or_chooser()
    session = db.session
    project = load_project(project_id)
    plan = services.get_plan(session, project=project)
    figures = portfolio.figures(session, project_ids=[project.id])[project.id]
    base = portfolio.baseline(session, project=project)
    first, last = geometry.span([figures.start, figures.finish, plan.data_date, plan.late_finish, base.start,
                                 base.finish, plan.planned_start], fallback=plan.data_date or plan.planned_start
                                or services.project_local_now(plan))
    zoom = _zoom(first, last)
    scale = geometry.make_scale(first, last, zoom)
    number, per_page = page_args(ROWS_PER_PAGE)
    items, total = portfolio.wbs_ordered_page(session, project=project, offset=(number - 1) * per_page, limit=per_page)
    page = Page(items=items, page=number, per_page=per_page, total=total, args={"zoom": zoom})
    elements = services.list_elements(session, project=project)
    chains = portfolio.element_chain(elements)
    hpd = hours_per_day(plan)
    rows = []
    shown: list[int] = []
    for activity in items:
        chain = chains.get(activity.wbs_element_id, [])
        for level, element in enumerate(chain):
            if len(shown) > level and shown[level] == element.id:
                continue
            shown[level:] = [element.id]
            rows.append(("wbs", f"{element.code} · {element.name}", level))
        shown[len(chain):] = []
        rows.append(("activity", _input(activity, hpd), len(chain)))
    chart = geometry.layout(scale, rows, data_date=plan.data_date, zoom=zoom,
                            month_label=lambda d: month(d, "LLL yy"), day_label=lambda d: date_(d, "dd.MM"))
    show_baseline = request.args.get("baseline", "1") == "1"
    codes = {a.id: a.code for a in items}
    chart.links = geometry.link_lines(chart, [
        (pred, succ, kind, f"{codes[pred]} → {codes[succ]} {kind}" + (f" {lag / hpd:+g} d" if lag else ""))
        for pred, succ, kind, lag in portfolio.links_among(session, activity_ids=list(codes))])
    return render_template("projects/gantt.html", project=project, plan=plan, chart=chart, page=page, zoom=zoom,
                           zooms=geometry.ZOOMS, show_baseline=show_baseline, hpd=hpd)


def _input(activity, hpd: float) -> geometry.ActivityInput:
    start = activity.actual_start or activity.early_start
    finish = activity.actual_finish or activity.early_finish
    milestone = activity.type in ("start_milestone", "finish_milestone")
    if milestone and start is None:
        start = finish
    if milestone and finish is None:
        finish = start
    float_days = None if activity.total_float_hours is None else activity.total_float_hours / hpd
    parts = [f"{activity.code} · {activity.name}"]
    if start is not None:
        parts.append(f"{date_(start)} – {date_(finish)}" if not milestone else date_(finish))
    if float_days is not None:
        parts.append(_("total float %(days)s d", days=f"{float_days:g}"))
    if activity.percent_complete:
        parts.append(_("%(percent)s%% complete", percent=f"{activity.percent_complete:g}"))
    if activity.critical:
        parts.append(_("critical"))
    return geometry.ActivityInput(
        id=activity.id, label=f"{activity.code} {activity.name}", start=start, finish=finish, milestone=milestone,
        critical=activity.critical, percent_complete=activity.percent_complete,
        total_float_end=activity.late_finish if (activity.total_float_hours or 0) > 0 else None,
        baseline_start=activity.baseline_start, baseline_finish=activity.baseline_finish, title="\n".join(parts))
