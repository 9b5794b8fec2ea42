"""What a client does on the portal: approve or reject billing milestones and acts, answer surveys, ask questions.

Pages of the blueprint ``portal_actions`` (``web.views.portal.common.portal_blueprint``: a client required, CSRF on
every POST, errors as pages). Every id comes from the client and goes through the portal's rights
(``accounts.portal.access``, inside the domain services): anything not theirs is "not found". A refused form
comes back with the reason in the client's language and nothing of it kept.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from flask_babel import gettext as _

from accounts.portal import approvals, questions, surveys
from accounts.portal.access import get_shared_project_or_raise, shared_projects
from accounts.portal.models import SurveyRequest
from crmpm.database import db
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.users.models import User
from eps.models import Project
from crmpm.ratelimit import throttle
from web.views.portal.common import portal_blueprint

bp = portal_blueprint("portal_actions", __name__)

@bp.context_processor
def _layout() -> dict:
    """The frame the pages extend: the portal's own (its login, menu, language)."""
    return {"portal_layout": "portal/base.html"}


def _text(name: str, limit: int) -> str:
    """A text field of the form, refused (named) when far longer than any field it fills."""
    value = request.form.get(name, "")
    if len(value) > limit:
        raise Invalid("{field} is at most {limit} characters", field=name, limit=limit,
                      errors={name: [f"at most {limit} characters"]})
    return value


def _optional_int(name: str, *, low: int, high: int) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise Invalid("{field} is a whole number from {low} to {high}", field=name, low=low, high=high,
                      errors={name: [f"{low} to {high}"]})
    return value


# Milestones and acts


@bp.get("/projects/<int:project_id>/milestones")
def milestones(project_id: int):
    project, items = approvals.milestones_of(db.session, g.client, project_id)
    return render_template("portal/actions/decisions.html", project=project, items=items, kind="milestone",
                           title=_("Billing milestones"))


@bp.get("/projects/<int:project_id>/acts")
def acts(project_id: int):
    project, items = approvals.acts_of(db.session, g.client, project_id)
    return render_template("portal/actions/decisions.html", project=project, items=items, kind="act",
                           title=_("Acts of completed work"))


def _decide(project_id: int, subject: str, subject_id: int, page: str):
    get_shared_project_or_raise(db.session, g.client, project_id)
    throttle().attempt("portal-action", g.client_user.id)
    decision = request.form.get("decision", "")
    approval = approvals.decide(db.session, g.client, subject, subject_id, decision,
                                _text("comment", approvals.COMMENT_LENGTH * 2), project_id=project_id)
    flash(_("Approved. Thank you.") if approval.decision == "approved" else
          _("Rejected. We have told the project team why."), "success")
    return redirect(url_for(page, project_id=project_id), code=303)


@bp.post("/projects/<int:project_id>/milestones/<int:milestone_id>/decision")
def decide_milestone(project_id: int, milestone_id: int):
    return _decide(project_id, "milestone", milestone_id, "portal_actions.milestones")


@bp.post("/projects/<int:project_id>/acts/<int:invoice_id>/decision")
def decide_act(project_id: int, invoice_id: int):
    return _decide(project_id, "act", invoice_id, "portal_actions.acts")


# Surveys


@bp.get("/surveys")
def survey_list():
    requests = surveys.open_requests(db.session, g.client)
    return render_template("portal/actions/surveys.html", requests=requests)


@bp.post("/surveys/<int:request_id>/answer")
def answer_survey(request_id: int):
    surveys.get_request_or_raise(db.session, g.client, request_id)
    throttle().attempt("portal-action", g.client_user.id)
    request_row = db.session.get(SurveyRequest, request_id)
    high = 10 if request_row.kind == "nps" else 5
    score = _optional_int("score", low=0, high=high)
    surveys.answer(db.session, client=g.client, request_id=request_id, score=score,
                   comment=_text("comment", surveys.COMMENT_LENGTH * 2))
    flash(_("Thank you for your answer."), "success")
    return redirect(url_for("portal_actions.survey_list"), code=303)


# Questions


@bp.get("/questions")
def question_list():
    return render_template("portal/actions/questions.html", questions=questions.questions_of(db.session, g.client),
                           projects=shared_projects(db.session, g.client),
                           subject_length=questions.SUBJECT_LENGTH, text_length=questions.TEXT_LENGTH)


@bp.post("/questions")
def ask_question():
    subject = _text("subject", questions.SUBJECT_LENGTH * 2)
    text = _text("text", questions.TEXT_LENGTH * 2)
    project_id = _optional_int("project_id", low=1, high=2**63 - 1)
    throttle().attempt("portal-question", g.client_user.id)
    questions.ask(db.session, client=g.client, subject=subject, text=text, project_id=project_id)
    flash(_("Your question is sent. We will answer soon."), "success")
    return redirect(url_for("portal_actions.question_list"), code=303)


# For staff: the clients' decisions on a deal's (project's) page, read-only


SECTION_LIMIT = 20


def portal_approvals_section(project_id: int) -> Markup:
    """The "Client portal" section of a staff page about ``project_id`` (a deal's): the clients' latest decisions
    and the open surveys; empty when there is none or the user may not read the project."""
    session = db.session
    project = session.get(Project, project_id)
    if project is None or g.get("user") is None:
        return Markup("")
    try:
        rows = session.scalars(approvals.list_for_project(session, user=g.user, project=project)
                               .limit(SECTION_LIMIT)).all()
    except (NotFound, Forbidden):
        return Markup("")
    if not rows:
        return Markup("")
    names = approvals.subject_names(session, rows)
    people = dict(session.execute(select(User.id, User.name).where(User.id.in_({row.user_id for row in rows})))
                  .all())
    return Markup(render_template("portal/actions/_staff_section.html", rows=rows, names=names, people=people))


@bp.app_context_processor
def _section_helper() -> dict:
    return {"portal_approvals_section": portal_approvals_section}
