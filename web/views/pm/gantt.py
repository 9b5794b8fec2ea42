"""The Gantt chart: an SVG drawn on the server, one window of rows at a time, on the whole project's time scale."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, render_template, request, session as cookie, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from crmpm.database import db
from crmpm.errors import Invalid, NotFound
from eps import services as eps_services
from wbs import baselines, portfolio, services
from wbs.models import Activity
from wbs.scheduling import jobs as scheduling_jobs
from wbs.scheduling import service as scheduling_service
from web import gantt as geometry
from web.i18n import date_, month
from web.i18n import number as format_number
from web.i18n import percent
from web.pagination import Page, page_args, paginate
from web.pages import safe_next, wants_json
from web.views.pm import codes as code_pages
from web.views.pm import gantt_rows
from web.views.pm.blueprint import bp
from web.views.pm.common import (LAST_PROJECT_KEY, asked_baseline, hours_per_day, load_project, may_edit,
                                 parse_nonnegative_days, parse_when, project_baselines, runs_as_job,
                                 shown_baselines)
from web.views.pm.project import RELATIONSHIP_TYPES

ROWS_PER_PAGE = 200
START_ON_OR_AFTER = "start_on_or_after"  # P6's "Start On or After", what a bar moved by hand gets


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
    extent = portfolio.wbs_extent(session, project=project)
    show_baseline = request.args.get("baseline", "1") == "1"
    # ?compare=<id>: that baseline's bars; without it, the primary's (the activities' own baseline dates).
    compared = asked_baseline(project)
    choices = project_baselines(project)
    drawn = compared or next((b for b in choices if b.role == "primary"), None)
    # ?baselines=2|3: the secondary's (and the tertiary's) bars under those, thinner.
    baselines_arg, added = shown_baselines(drawn, choices)
    spans_kept = [baselines.kept_span(session, baseline=b) for b in ([compared] if compared else []) + added]
    first, last = geometry.span([extent.start, extent.finish, plan.data_date, plan.late_finish, extent.baseline_start,
                                 extent.baseline_finish, *(day for span in spans_kept for day in span),
                                 plan.planned_start],
                                fallback=plan.data_date
                                or plan.planned_start or services.project_local_now(plan))
    zoom = _zoom(first, last)
    scale = geometry.make_scale(first, last, zoom)
    number, per_page = page_args(ROWS_PER_PAGE)
    elements = services.element_outline(session, project=project)
    # ?code= and ?group=: the activities holding a code value, under their WBS headings or grouped by a code type.
    query, codes_shown = code_pages.code_view(project, services.list_activities(session, project=project))
    if codes_shown.args:
        if codes_shown.group is None:
            query = portfolio.wbs_ordered(query, elements)
        listed = paginate(session, query, default_per_page=ROWS_PER_PAGE)
        items, total = listed.items, listed.total
    else:
        items, total = portfolio.wbs_ordered_page(session, project=project, offset=(number - 1) * per_page,
                                                  limit=per_page, elements=elements, counts=extent.counts)
    folded = _folded()
    fold_arg = ",".join(map(str, sorted(folded))) or None
    compare_arg = compared.id if compared else None
    page = Page(items=items, page=number, per_page=per_page, total=total,
                args={key: value for key, value in (("zoom", zoom), ("fold", fold_arg), ("compare", compare_arg),
                                                    ("baselines", baselines_arg),
                                                    ("baseline", None if show_baseline else "0"),
                                                    *codes_shown.args.items()) if value})
    # What the baselines drawn kept of this page's activities, one query for all of them (the primary's dates are
    # the activities' own when none is chosen).
    kept_by = baselines.kept_of_many(session, baselines=([compared] if compared else []) + added,
                                     activity_ids=[a.id for a in items])
    kept = kept_by[compared.id] if compared else None
    others = [(b.name, kept_by[b.id]) for b in added]
    drawn_name = drawn.name if drawn else None
    chains = portfolio.element_chain(elements, only={activity.wbs_element_id for activity in items})
    spans = geometry.roll_up_spans(extent.spans, {element.id: element.parent_id for element in elements})
    hpd = hours_per_day(plan)
    calendars = scheduling_service.project_calendars(session, project=project, exceptions=False)

    def days(activity) -> float:
        return activity.original_duration_hours / scheduling_service.calendar_of(activity, plan, calendars).hours_per_day

    fmt = _Formats()
    titles = _TitleTexts()

    def as_input(activity) -> geometry.ActivityInput:
        return _input(activity, hpd, days(activity), fmt.day, titles, kept, others, drawn_name)

    rows = []
    shown: list[int] = []
    grouped = code_pages.group_rows(codes_shown, items) if codes_shown.group is not None else None
    for index, (heading, activity) in enumerate(grouped or ()):
        if heading is not None:
            rows.append(("wbs", _group_heading(heading, grouped[index + 1:]), 0))
        else:
            rows.append(("activity", as_input(activity), 1))
    for activity in () if grouped is not None else items:
        chain = chains.get(activity.wbs_element_id, [])
        # Under a folded heading only the heading shows (with its summary bar).
        cut = next((level for level, element in enumerate(chain) if element.id in folded), None)
        heads = chain if cut is None else chain[:cut + 1]
        for level, element in enumerate(heads):
            if len(shown) > level and shown[level] == element.id:
                continue
            shown[level:] = [element.id]
            first, last = spans.get(element.id, (None, None))
            rows.append(("wbs", geometry.WbsInput(id=element.id, label=f"{element.code} · {element.name}",
                                                  start=first, finish=last, folded=element.id in folded), level))
        shown[len(heads):] = []
        if cut is None:
            rows.append(("activity", as_input(activity), len(chain)))
    chart = geometry.layout(scale, rows, data_date=plan.data_date, zoom=zoom,
                            month_label=lambda d: month(d, "LLL yy"), day_label=lambda d: date_(d, "dd.MM"))
    shown_ids = {row.activity_id for row in chart.rows if row.kind == "activity"}
    codes = {a.id: a.code for a in items if a.id in shown_ids}
    chart.links = geometry.link_lines(chart, [
        (pred, succ, kind, f"{codes[pred]} → {codes[succ]} {kind}" + (f" {lag / hpd:+g} d" if lag else ""))
        for pred, succ, kind, lag in portfolio.links_among(session, activity_ids=list(codes))])
    can_edit = may_edit(project)
    chosen = _chosen([a for a in items if a.id in shown_ids])
    texts = _row_texts(project, zoom=zoom, number=number, folded=folded, show_baseline=show_baseline,
                       compare=compare_arg, baselines_arg=baselines_arg, code_args=codes_shown.args)
    return render_template("projects/gantt.html", project=project, plan=plan, chart=chart, page=page, zoom=zoom,
                           zooms=geometry.ZOOMS, show_baseline=show_baseline, hpd=hpd, can_edit=can_edit,
                           relationship_types=RELATIONSHIP_TYPES, chosen=chosen, here=request.full_path.rstrip("?"),
                           fold_arg=fold_arg, chosen_days=days(chosen) if chosen else None,
                           compared=compared, compare_arg=compare_arg, baseline_choices=choices, drawn=drawn,
                           baselines_arg=baselines_arg, added=added, role_holders={b.role: b for b in choices if b.role},
                           codes_shown=codes_shown, code_args=codes_shown.args,
                           row_labels=gantt_rows.labels(chart, fmt=fmt, texts=texts),
                           row_shapes=gantt_rows.shapes(chart, fmt=fmt, texts=texts, can_edit=can_edit,
                                                        show_baseline=show_baseline))


ID_MARK = 2147483647  # stands for an id in the URL patterns below


def _row_texts(project, *, zoom: str, number: int, folded: set[int], show_baseline: bool,
               compare: int | None = None, baselines_arg: str | None = None, code_args: dict | None = None) -> dict:
    """What every row of the chart repeats, translated and built once (``gantt_rows`` puts each row's id and
    label in): with 200 rows, gettext and url_for per row were a good part of the page's time. A heading's fold
    link keeps this chart's other folds, so it is made per heading (a window shows a few)."""
    def fold_url(element_id: int) -> str:
        return url_for("pm.gantt", project_id=project.id, zoom=zoom, page=number if number > 1 else None,
                       fold=",".join(map(str, sorted(folded ^ {element_id}))) or None,
                       baseline=None if show_baseline else "0", compare=compare, baselines=baselines_arg,
                       **(code_args or {}))

    return {
        "id": str(ID_MARK), "fold_url": fold_url,
        "activity_url": url_for("pm.activity", project_id=project.id, activity_id=ID_MARK),
        "bar": _("Gantt bar"),
        # Unformatted (gettext without arguments), as Markup: "%" then escapes the label put in.
        "show": Markup(_("Show the activities of %(label)s")),
        "hide": Markup(_("Hide the activities of %(label)s")),
    }


def _group_heading(heading: str, following: list) -> geometry.WbsInput:
    """A code value's heading on the chart (no fold link): its label and the span of its activities on this page
    (``following``: the rows after the heading, up to the next one)."""
    members = []
    for label, item in following:
        if label is not None:
            break
        members.append(item)
    starts = [a.actual_start or a.early_start for a in members if (a.actual_start or a.early_start) is not None]
    finishes = [a.actual_finish or a.early_finish for a in members if (a.actual_finish or a.early_finish) is not None]
    return geometry.WbsInput(id=0, label=heading, start=min(starts, default=None), finish=max(finishes, default=None))


class _Formats:
    """The locale's dates and numbers for the chart's columns and titles, each value formatted once (Babel takes
    a few tenths of a millisecond a call, and a window of 200 rows repeats the same few days many times)."""

    def __init__(self):
        self._memo: dict = {}

    def _once(self, key, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def day(self, when) -> str:
        return "" if when is None else self._once(("medium", when.date()), lambda: date_(when))

    def short(self, when) -> str:
        return "" if when is None else self._once(("short", when.date()), lambda: date_(when, "short"))

    def number(self, value) -> str:
        return "" if value is None else self._once(("number", value), lambda: format_number(value))

    def percent(self, value) -> str:
        return "" if value is None else self._once(("percent", value), lambda: percent(value / 100))


def _folded() -> set[int]:
    """The WBS elements folded on this chart (``?fold=3,7``); anything else in the argument is ignored."""
    parts = (request.args.get("fold") or "").split(",")[:500]
    return {int(part) for part in parts if part.isascii() and part.isdigit() and 0 < int(part) < 2**31}


def _chosen(items):
    """The activity the editing forms act on without a script: ``?activity=`` if it is on the page, else the first
    one with dates (the script points the forms at whichever bar has the focus)."""
    wanted = request.args.get("activity", type=int)
    dated = [a for a in items if (a.actual_start or a.early_start) is not None]
    return next((a for a in items if a.id == wanted), dated[0] if dated else None)


class _TitleTexts:
    """The phrases of a bar's tooltip, translated once per page (``%``-formatted per row)."""

    def __init__(self):
        # gettext without arguments gives the translation unformatted: "%(percent)s%%" is still to be filled in.
        self.float = _("total float %(days)s d")
        self.percent = _("%(percent)s%% complete")
        self.critical = _("critical")
        self.baseline = _("Baseline %(name)s: %(start)s – %(finish)s")


def _input(activity, hpd: float, duration_days: float, day, texts: _TitleTexts,
           kept: dict | None = None, others=(), drawn_name: str | None = None) -> geometry.ActivityInput:
    """The chart's input for one activity; ``kept``: what the compared baseline kept, by activity id (None: the
    activity's own baseline dates, the primary's, ``drawn_name``); ``others``: (name, the same) of each other
    baseline shown."""
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
        parts.append(f"{day(start)} – {day(finish)}" if not milestone else day(finish))
    if float_days is not None:
        parts.append(texts.float % {"days": f"{float_days:g}"})
    if activity.percent_complete:
        parts.append(texts.percent % {"percent": f"{activity.percent_complete:g}"})
    if activity.critical:
        parts.append(texts.critical)
    baseline = ((activity.baseline_start, activity.baseline_finish) if kept is None
                else _kept_dates(kept.get(activity.id)))
    other_baselines = tuple(_kept_dates(other.get(activity.id)) for _name, other in others)
    if others:  # several baselines: each one's dates in the tooltip too (their thin bars are hard to point at)
        for name, (kept_start, kept_finish) in zip((drawn_name, *(name for name, _ in others)),
                                                   (baseline, *other_baselines)):
            if name is not None and kept_start is not None and kept_finish is not None:
                parts.append(texts.baseline % {"name": name, "start": day(kept_start), "finish": day(kept_finish)})
    return geometry.ActivityInput(
        id=activity.id, label=f"{activity.code} {activity.name}", start=start, finish=finish, milestone=milestone,
        code=activity.code, total_float_days=float_days, duration_days=round(duration_days, 3),
        critical=activity.critical, percent_complete=activity.percent_complete,
        total_float_end=activity.late_finish if (activity.total_float_hours or 0) > 0 else None,
        baseline_start=baseline[0], baseline_finish=baseline[1], other_baselines=other_baselines,
        title="\n".join(parts))


def _kept_dates(kept) -> tuple:
    """The start and finish a baseline kept of an activity (None, None when it does not hold it)."""
    return (None, None) if kept is None else (kept.start, kept.finish)


# Editing on the chart: what a drag (or its keyboard form) asks for, then a new schedule. The scripts send these
# with crmpm.request and get JSON (a refusal: 4xx with the translated reason); a plain form gets the chart back.

def _edited(project, message: str):
    """Reschedule after a change, as the Schedule button does (a big plan by a job); the answer for the script
    (JSON) or the form (back to the chart with the message)."""
    session = db.session
    job_url = None
    if runs_as_job(project):
        job = scheduling_jobs.start_schedule(session, actor=g.user, project=project)
        job_url = url_for("jobs.show", job_id=job.id)
        message = " ".join((message, _("The project is being scheduled in the background.")))
    else:
        summary = scheduling_service.schedule_project(session, actor=g.user, project=project)
        message = " ".join((message, _("Rescheduled: the project finishes on %(finish)s.",
                                       finish=date_(summary.finish) if summary.finish else "—")))
    if wants_json():
        return {"message": message, "job_url": job_url}
    flash(message, "info")
    return redirect(job_url or _chart_url(project), code=303)


def _chart_url(project) -> str:
    target = safe_next() if request.values.get("next") else None
    return target or url_for("pm.gantt", project_id=project.id)


@bp.route("/<int:project_id>/gantt/activities/<int:activity_id>/move", methods=["POST"])
def gantt_move(project_id: int, activity_id: int):
    """Move a bar: the activity gets a "start on or after" constraint at the date chosen, then a new schedule."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    when = parse_when(request.form.get("start"), _("Start on or after"), "start")
    if when is None:
        raise Invalid(_("Enter the date to start on or after."), errors={"start": ["required"]})
    services.update_activity(session, actor=g.user, project=project, activity=item,
                             constraint_type=START_ON_OR_AFTER, constraint_date=when)
    return _edited(project, _("%(code)s starts on or after %(date)s.", code=item.code, date=date_(when)))


@bp.route("/<int:project_id>/gantt/activities/<int:activity_id>/duration", methods=["POST"])
def gantt_duration(project_id: int, activity_id: int):
    """Stretch a bar: a new original duration, the work time of the activity's calendar from its start to the day
    its bar now ends (``finish``), or a number of its calendar's days (``days``); then a new schedule."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    form = request.form
    if form.get("finish", "").strip():
        last_day = parse_when(form["finish"], _("Finish"), "finish", hour=0)
        # The bar ends with the last day's work: count up to the next midnight.
        hours = scheduling_service.work_hours_until(
            session, project=project, activity=item,
            finish=last_day.replace(hour=0, minute=0) + timedelta(days=1))
    else:
        days = parse_nonnegative_days(form.get("days"), _("Duration"), "days")
        if days is None:
            raise Invalid(_("Enter the duration in days."), errors={"days": ["required"]})
        hours = scheduling_service.hours_of_days(session, project=project, activity=item, days=float(days))
    changes = {"original_duration_hours": hours}
    if item.actual_start is None:
        changes["remaining_duration_hours"] = None  # not started: the remaining work is the whole duration
    services.update_activity(session, actor=g.user, project=project, activity=item, **changes)
    return _edited(project, _("%(code)s now lasts %(hours)s h of work.", code=item.code, hours=format_number(round(hours, 2))))


@bp.route("/<int:project_id>/gantt/activities/<int:activity_id>/links", methods=["POST"])
def gantt_link(project_id: int, activity_id: int):
    """Draw a link: this activity → another one (``successor``: an id from the chart, or ``other``: a code or a
    name typed in), FS unless ``type`` says otherwise; a loop is refused by the service; then a new schedule."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    form = request.form
    kind = form.get("type", "FS")
    if kind not in RELATIONSHIP_TYPES:
        raise Invalid(_("Choose a relationship type: FS, SS, FF or SF."), errors={"type": ["choice"]})
    successor_id = form.get("successor", "").strip()
    if successor_id:
        if not successor_id.isascii() or not successor_id.isdigit() or not 0 < int(successor_id) < 2**31:
            raise Invalid(_("Choose the activity to link to."), errors={"successor": ["choice"]})
        other = services.get_activity_or_raise(session, project=project, activity_id=int(successor_id),
                                               field="successor")
    else:
        other = _named(project, form.get("other", "").strip()[:300])
    services.create_relationship(session, actor=g.user, project=project, predecessor=item, successor=other,
                                 type=kind)
    return _edited(project, _("%(pred)s → %(succ)s (%(type)s) linked.", pred=item.code, succ=other.code, type=kind))


def _named(project, text: str) -> Activity:
    """The project's activity whose code is ``text``, else the one whose name is (Invalid if none or several)."""
    if not text:
        raise Invalid(_("Enter the code or the name of the other activity."), errors={"other": ["required"]})
    query = services.list_activities(db.session, project=project)
    found = db.session.scalar(query.where(Activity.code == text))
    if found is not None:
        return found
    named = db.session.scalars(query.where(Activity.name == text).limit(2)).all()
    if len(named) == 1:
        return named[0]
    if named:
        raise Invalid(_("Several activities are named %(name)s; enter the code.", name=text),
                      errors={"other": ["ambiguous"]})
    raise Invalid(_("There is no activity %(code)s in this project.", code=text), errors={"other": ["unknown"]})
