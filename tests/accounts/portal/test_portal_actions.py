"""What a client does on the portal: decisions on milestones and acts, survey answers, questions (domain)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts import analytics
from accounts.models import Direction, Interaction, InteractionKind, SurveyAnswer, Task, TaskStatus
from accounts.portal import approvals, questions, surveys
from accounts.portal.models import PortalApproval, SurveyRequest
from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm import notifications
from crmpm.events import Event
from crmpm.notifications import Notification
from tests import factories
from tests.accounts.portal import world as portal_world
from tests.accounts.test_notifying import delivered, told


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():  # e-mails are jobs asked for with the app's settings, as in a worker
        yield


@pytest.fixture
def w(session):
    return portal_world.build(session)


def test_approving_a_milestone_records_who_and_when_audits_and_records_the_event(session, w):
    milestone = w["milestones"]["a1"]
    approval = approvals.decide(session, w["client_a"], "milestone", milestone.id, "approved", "")
    assert (approval.user_id, approval.contact_id, approval.project_id) == (
        w["client_a"].user_id, w["contact_a"].id, w["project_a"].id)
    assert approval.at is not None and approval.decision == "approved"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "portal_approvals",
                                                    AuditEntry.entity_id == approval.id))
    assert entry.actor_id == w["client_a"].user_id and entry.action == "approved"
    event = session.scalar(select(Event).where(Event.type == "portal.approval_decided"))
    assert (event.subject_type, event.subject_id, event.actor_id) == ("projects", w["project_a"].id,
                                                                      w["client_a"].user_id)
    assert event.payload["subject"] == "milestone" and event.payload["subject_id"] == milestone.id
    assert event.payload["decision"] == "approved" and event.payload["deal_id"] == w["deal_a"].id


def test_a_decision_tells_the_pm_and_the_deal_owner_and_nobody_else(session, w):
    approvals.decide(session, w["client_a"], "milestone", w["milestones"]["a1"].id, "rejected", "Not done yet")
    delivered(session)
    told_ids = {user_id for user_id, kind, *_ in told(session, kind="portal_approval")}
    assert told_ids == {w["pm"].id, w["owner"].id}
    assert told(session, user=w["viewer"]) == [] and told(session, user=w["outsider"]) == []
    note = session.scalar(select(Notification).where(Notification.user_id == w["pm"].id))
    assert notifications.url_of(note) == f"/eps/projects/{w['project_a'].id}"
    text = notifications.text_of(note, w["pm"])
    assert "Anna Clientova rejected the milestone Stage a1" in text and "Reason: Not done yet" in text
    w["pm"].locale = "ru"
    assert "Anna Clientova: отклонено — этап Stage a1" in notifications.text_of(note, w["pm"])


def test_a_rejection_needs_a_comment(session, w):
    with pytest.raises(Invalid) as refused:
        approvals.decide(session, w["client_a"], "milestone", w["milestones"]["a1"].id, "rejected", "  ")
    assert "comment" in refused.value.errors
    assert session.scalar(select(func.count()).select_from(PortalApproval)) == 0


def test_an_approved_act_is_final_and_a_rejection_may_be_followed_by_an_approval(session, w):
    act = w["act_a"]
    approvals.decide(session, w["client_a"], "act", act.id, "rejected", "Wrong amount")
    approvals.decide(session, w["client_a"], "act", act.id, "approved", "")
    with pytest.raises(Conflict):
        approvals.decide(session, w["client_a"], "act", act.id, "rejected", "Changed my mind")
    history = [row.decision for row in
               session.scalars(approvals.list_for_project(session, user=w["pm"], project=w["project_a"]))]
    assert history == ["approved", "rejected"]
    assert approvals.latest_decision(session, "act", act.id).decision == "approved"


@pytest.mark.parametrize("target", ["other_account_milestone", "unshared_milestone", "other_account_act",
                                    "invoice_without_act", "missing"])
def test_a_client_decides_nothing_beyond_their_shared_projects(session, w, target):
    subject, subject_id = {
        "other_account_milestone": ("milestone", w["milestones"]["b1"].id),
        "unshared_milestone": ("milestone", w["milestones"]["hidden"].id),
        "other_account_act": ("act", w["act_b"].id),
        "invoice_without_act": ("act", w["no_act"].id),
        "missing": ("milestone", 10**9),
    }[target]
    with pytest.raises(NotFound) as refused:
        approvals.decide(session, w["client_a"], subject, subject_id, "approved", "")
    assert "Beta" not in str(refused.value) and "HIDDEN" not in str(refused.value)
    assert session.scalar(select(func.count()).select_from(PortalApproval)) == 0


def test_the_portal_lists_show_only_the_shared_projects_items(session, w):
    project, items = approvals.milestones_of(session, w["client_a"], w["project_a"].id)
    assert [item.subject_id for item in items] == [w["milestones"]["a1"].id, w["milestones"]["a2"].id]
    _, acts = approvals.acts_of(session, w["client_a"], w["project_a"].id)
    assert [item.subject_id for item in acts] == [w["act_a"].id]
    for project_id in (w["project_b"].id, w["hidden"].id):
        with pytest.raises(NotFound):
            approvals.milestones_of(session, w["client_a"], project_id)


def test_staff_read_approvals_with_read_rights_only(session, w):
    approvals.decide(session, w["client_a"], "milestone", w["milestones"]["a1"].id, "approved", "")
    assert len(session.scalars(approvals.list_for_project(session, user=w["viewer"], project=w["project_a"])).all()) == 1
    with pytest.raises(NotFound):
        approvals.list_for_project(session, user=w["outsider"], project=w["project_a"])


def test_approving_a_milestone_asks_a_survey_whose_answer_counts_in_satisfaction(session, w):
    milestone = w["milestones"]["a1"]
    approvals.decide(session, w["client_a"], "milestone", milestone.id, "approved", "")
    [request] = surveys.open_requests(session, w["client_a"])
    assert (request.kind, request.milestone_id, request.account_id) == ("csat", milestone.id, w["account_a"].id)
    assert surveys.open_requests(session, w["client_b"]) == []
    with pytest.raises(NotFound):
        surveys.answer(session, client=w["client_b"], request_id=request.id, score=5)
    answer = surveys.answer(session, client=w["client_a"], request_id=request.id, score=4, comment="Good")
    stored = session.get(SurveyAnswer, answer.id)
    assert (stored.account_id, stored.contact_id, stored.deal_id, stored.score) == (
        w["account_a"].id, w["contact_a"].id, w["deal_a"].id, 4)
    months = analytics.satisfaction(session, user=w["owner"], account_id=w["account_a"].id)
    assert sum(month["csat_answers"] for month in months) == 1
    assert [month["csat"] for month in months if month["csat_answers"]] == [4.0]
    assert surveys.open_requests(session, w["client_a"]) == []
    with pytest.raises(Conflict):
        surveys.answer(session, client=w["client_a"], request_id=request.id, score=5)
    assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 1


def test_a_survey_score_out_of_range_is_refused_naming_the_score(session, w):
    request = surveys.ask(session, actor=w["pm"], project=w["project_a"], kind="nps")
    with pytest.raises(Invalid) as refused:
        surveys.answer(session, client=w["client_a"], request_id=request.id, score=11)
    assert "score" in refused.value.errors
    assert session.get(SurveyRequest, request.id).answered_at is None


def test_staff_ask_surveys_with_edit_rights_only(session, w):
    with pytest.raises(Forbidden):
        surveys.ask(session, actor=w["viewer"], project=w["project_a"], kind="csat")
    with pytest.raises(NotFound):
        surveys.ask(session, actor=w["outsider"], project=w["project_a"], kind="csat")
    with pytest.raises(Invalid) as refused:
        surveys.ask(session, actor=w["pm"], project=w["project_a"], kind="csat", contact_id=w["contact_b"].id)
    assert "contact_id" in refused.value.errors
    request = surveys.ask(session, actor=w["pm"], project=w["project_a"], kind="nps", contact_id=w["contact_a"].id)
    assert [r.id for r in surveys.open_requests(session, w["client_a"])] == [request.id]


def test_a_question_becomes_an_interaction_and_a_task_for_the_owner_who_is_told(session, w):
    interaction = questions.ask(session, client=w["client_a"], subject="When is the next stage?",
                                text="We would like to know the date.", project_id=w["project_a"].id)
    stored = session.get(Interaction, interaction.id)
    assert (stored.account_id, stored.contact_id, stored.deal_id) == (w["account_a"].id, w["contact_a"].id,
                                                                      w["deal_a"].id)
    assert (stored.kind, stored.direction) == (InteractionKind.web_form, Direction.inbound)
    assert stored.subject == "When is the next stage?" and stored.summary == "We would like to know the date."
    task = session.scalar(select(Task).where(Task.external_id == stored.external_id))
    assert task.assignee_id == w["owner"].id and task.account_id == w["account_a"].id
    assert task.status is TaskStatus.open and "When is the next stage?" in task.title
    assert task.due_at > stored.occurred_at
    from accounts import activities
    rows = session.execute(activities.timeline(session, account=w["account_a"], user=w["owner"])).all()
    assert ("interaction", interaction.id) in [(row[0], row[1]) for row in rows]
    assert ("task", task.id) in [(row[0], row[1]) for row in rows]
    [mine] = questions.questions_of(session, w["client_a"])
    assert mine.interaction.id == interaction.id and mine.status == "open"
    assert questions.questions_of(session, w["client_b"]) == []
    delivered(session)
    assert (w["owner"].id, "task_assigned", "tasks", task.id) in told(session)


@pytest.mark.parametrize("fields, named", [({"subject": "", "text": "x"}, "subject"),
                                           ({"subject": "x" * 201, "text": "x"}, "subject"),
                                           ({"subject": "Hi", "text": ""}, "text"),
                                           ({"subject": "Hi", "text": "x" * 5001}, "text")])
def test_a_question_out_of_bounds_is_refused_naming_the_field(session, w, fields, named):
    with pytest.raises(Invalid) as refused:
        questions.ask(session, client=w["client_a"], **fields)
    assert named in refused.value.errors
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_a_question_about_another_accounts_project_is_not_found(session, w):
    with pytest.raises(NotFound):
        questions.ask(session, client=w["client_a"], subject="Hi", text="Hello", project_id=w["project_b"].id)
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_a_done_task_shows_the_question_answered(session, w):
    from accounts import activities
    interaction = questions.ask(session, client=w["client_a"], subject="Hi", text="Hello")
    task = session.scalar(select(Task).where(Task.external_id == interaction.external_id))
    activities.update_task(session, actor=w["owner"], task=task, status=TaskStatus.done)
    [mine] = questions.questions_of(session, w["client_a"])
    assert mine.status == "done"


def test_a_survey_asked_e_mails_the_client_users_it_waits_for_in_their_language(session, w):
    from crmpm.jobs.models import Job

    w["client_a"].user.locale = "ru"
    other = portal_world.client_user(session, account=w["account_a"],
                                     contact=factories.contact(session, actor=w["admin"], account=w["account_a"]),
                                     name="Second Client", email="second@alpha.test")
    surveys.ask(session, actor=w["pm"], project=w["project_a"], kind="csat")
    mails = [job.params["message"] for job in session.scalars(select(Job).where(Job.kind == "mail.send")
                                                              .order_by(Job.id))]
    assert [m["to"] for m in mails] == [["anna@alpha.test"], ["second@alpha.test"]]
    assert mails[0]["subject"].startswith("Вас ждёт короткий опрос") and "портал" in mails[0]["text"]
    assert mails[1]["subject"].startswith("A short survey is waiting for you")
    surveys.ask(session, actor=w["pm"], project=w["project_a"], kind="nps", contact_id=other.contact_id)
    mails = [job.params["message"]["to"] for job in session.scalars(select(Job).where(Job.kind == "mail.send"))]
    assert mails.count(["second@alpha.test"]) == 2 and mails.count(["anna@alpha.test"]) == 1
