"""The portal's action pages: a logged-in client approves and rejects, answers a survey, asks a question; nothing
of another account's or of an unshared project is reachable; refusals come back in the client's language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from accounts.models import Interaction, SurveyAnswer, Task
from accounts.portal.models import PortalApproval, SurveyRequest
from tests.accounts.portal import world as portal_world
from web.views.portal.common import PORTAL_STAMP_KEY, PORTAL_USER_KEY

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Portal:
    def __init__(self, client):
        self.client = client

    def log_in(self, portal_user):
        with self.client.session_transaction() as cookie:
            cookie.clear()
            cookie[PORTAL_USER_KEY] = portal_user.user.id
            cookie[PORTAL_STAMP_KEY] = portal_user.user.session_stamp
        return self

    def token(self) -> str:
        return CSRF_META.search(self.client.get("/portal/surveys").get_data(as_text=True)).group(1)

    def post(self, path, data, *, csrf=True, **kwargs):
        data = dict(data)
        if csrf:
            data["csrf_token"] = self.token()
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def w(session):
    built = portal_world.build(session)
    session.commit()
    return built


@pytest.fixture
def portal(app, w):
    return Portal(app.test_client()).log_in(w["client_a"])


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_the_client_sees_and_approves_a_milestone_of_their_shared_project(portal, session, w):
    project, milestone = w["project_a"], w["milestones"]["a1"]
    page = portal.client.get(f"/portal/projects/{project.id}/milestones")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Stage a1" in body and "Stage b1" not in body and "Stage hidden" not in body
    answer = portal.post(f"/portal/projects/{project.id}/milestones/{milestone.id}/decision",
                         {"decision": "approved", "comment": ""})
    assert answer.status_code == 303
    approval = session.scalar(select(PortalApproval))
    assert (approval.subject_id, approval.decision, approval.user_id) == (milestone.id, "approved",
                                                                          w["client_a"].user_id)
    after = portal.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Approved" in after


def test_a_rejection_without_a_comment_comes_back_with_the_reason_in_russian(portal, session, w):
    project, milestone = w["project_a"], w["milestones"]["a1"]
    w["client_a"].user.locale = "ru"  # the client's own language (web.i18n: a client's saved locale comes first)
    session.commit()
    answer = portal.post(f"/portal/projects/{project.id}/milestones/{milestone.id}/decision",
                         {"decision": "rejected", "comment": " ", "next": f"/portal/projects/{project.id}/milestones"})
    assert answer.status_code == 303
    shown = portal.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert '<html lang="ru">' in shown
    assert "причину" in shown.lower() or "почему" in shown.lower()
    assert count(session, PortalApproval) == 0


def test_the_client_approves_an_act(portal, session, w):
    project, act = w["project_a"], w["act_a"]
    body = portal.client.get(f"/portal/projects/{project.id}/acts").get_data(as_text=True)
    assert f"act-{act.id}" in body and f"act-{w['no_act'].id}" not in body
    answer = portal.post(f"/portal/projects/{project.id}/acts/{act.id}/decision", {"decision": "approved"})
    assert answer.status_code == 303
    assert session.scalar(select(PortalApproval.subject)) == "act"


@pytest.mark.parametrize("path", [
    "/portal/projects/{b}/milestones", "/portal/projects/{hidden}/milestones", "/portal/projects/{b}/acts",
    "/portal/projects/999999999/acts"])
def test_another_accounts_or_an_unshared_project_is_not_found(portal, w, path):
    url = path.format(b=w["project_b"].id, hidden=w["hidden"].id)
    response = portal.client.get(url)
    assert response.status_code == 404
    assert "Beta" not in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["other_milestone", "milestone_in_other_url", "other_act", "survey"])
def test_posts_on_what_is_not_the_clients_are_not_found_and_change_nothing(portal, session, w, target):
    a, b = w["project_a"].id, w["project_b"].id
    survey = SurveyRequest(account_id=w["account_b"].id, kind="csat")
    session.add(survey)
    session.commit()
    url, data = {
        "other_milestone": (f"/portal/projects/{b}/milestones/{w['milestones']['b1'].id}/decision",
                            {"decision": "approved"}),
        "milestone_in_other_url": (f"/portal/projects/{a}/milestones/{w['milestones']['b1'].id}/decision",
                                   {"decision": "approved"}),
        "other_act": (f"/portal/projects/{a}/acts/{w['act_b'].id}/decision", {"decision": "approved"}),
        "survey": (f"/portal/surveys/{survey.id}/answer", {"score": "5"}),
    }[target]
    response = portal.post(url, data)
    assert response.status_code == 404
    assert count(session, PortalApproval) == 0 and count(session, SurveyAnswer) == 0


def test_posts_need_the_csrf_token(portal, session, w):
    project, milestone = w["project_a"], w["milestones"]["a1"]
    response = portal.post(f"/portal/projects/{project.id}/milestones/{milestone.id}/decision",
                           {"decision": "approved"}, csrf=False)
    assert response.status_code == 400
    assert count(session, PortalApproval) == 0


def test_staff_sessions_reach_no_portal_page(app, session, w):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = w["admin"].id
        cookie["stamp"] = w["admin"].session_stamp
    if "portal_auth.login" not in app.view_functions:
        pytest.skip("the portal's login page is not in this build")
    response = client.get("/portal/surveys")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]


def test_the_client_answers_a_survey_once(portal, session, w):
    milestone = w["milestones"]["a1"]
    portal.post(f"/portal/projects/{w['project_a'].id}/milestones/{milestone.id}/decision", {"decision": "approved"})
    request_id = session.scalar(select(SurveyRequest.id))
    page = portal.client.get("/portal/surveys").get_data(as_text=True)
    assert f"survey-{request_id}" in page
    answer = portal.post(f"/portal/surveys/{request_id}/answer", {"score": "5", "comment": "Great"})
    assert answer.status_code == 303
    assert session.scalar(select(SurveyAnswer.score)) == 5
    assert f"survey-{request_id}" not in portal.client.get("/portal/surveys").get_data(as_text=True)
    again = portal.post(f"/portal/surveys/{request_id}/answer", {"score": "4"})
    assert again.status_code in (303, 409)
    assert count(session, SurveyAnswer) == 1


@pytest.mark.parametrize("score", ["", "abc", "6", "-1", "1e9"])
def test_a_bad_score_is_refused_and_nothing_is_kept(portal, session, w, score):
    survey = SurveyRequest(account_id=w["account_a"].id, kind="csat")
    session.add(survey)
    session.commit()
    response = portal.post(f"/portal/surveys/{survey.id}/answer", {"score": score, "next": "/portal/surveys"})
    assert response.status_code == 303
    shown = portal.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in shown
    assert count(session, SurveyAnswer) == 0


def test_the_client_asks_a_question_and_sees_it_with_its_status(portal, session, w):
    response = portal.post("/portal/questions", {"subject": "Invoice copy", "text": "Please send a copy.",
                                                 "project_id": str(w["project_a"].id)})
    assert response.status_code == 303
    interaction = session.scalar(select(Interaction))
    assert interaction.account_id == w["account_a"].id and interaction.subject == "Invoice copy"
    assert session.scalar(select(Task.assignee_id)) == w["owner"].id
    page = portal.client.get("/portal/questions").get_data(as_text=True)
    assert "Invoice copy" in page and "Awaiting an answer" in page


@pytest.mark.parametrize("data", [{"subject": "", "text": "x"}, {"subject": "x" * 201, "text": "x"},
                                  {"subject": "x", "text": "x" * 20000}, {"subject": "x", "text": "y",
                                                                          "project_id": "abc"}])
def test_a_bad_question_is_refused_and_nothing_is_kept(portal, session, w, data):
    response = portal.post("/portal/questions", data)
    assert response.status_code in (303, 404)
    assert count(session, Interaction) == 0 and count(session, Task) == 0


def test_questions_are_rate_limited(portal, session, w):
    statuses = [portal.post("/portal/questions", {"subject": f"Q{n}", "text": "x"}).status_code for n in range(7)]
    assert statuses[:5] == [303] * 5 and 429 in statuses[5:]
    assert count(session, Interaction) == 5


# --- every route of the blueprint, swept (the staff page sweep leaves the portal to its own tests) ------------

FILL = {"project_id": "project_b", "milestone_id": ("milestones", "b1"), "invoice_id": "act_b",
        "request_id": "survey_b"}


def _routes(app, w):
    """Every portal_actions route with the ids of account B's objects, and the method to call it with."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal_actions."):
            continue
        values = {}
        for name in rule.arguments:
            key = FILL[name]  # a new parameter fails here until the sweep knows it
            values[name] = (w[key[0]][key[1]] if isinstance(key, tuple) else w[key]).id
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, bool(rule.arguments)


def test_every_portal_action_route_refuses_another_accounts_ids_and_posts_without_the_token(app, portal, session,
                                                                                               w):
    w["survey_b"] = SurveyRequest(account_id=w["account_b"].id, kind="csat")
    session.add(w["survey_b"])
    session.commit()
    swept = list(_routes(app, w))
    assert len(swept) >= 8
    for method, url, has_ids in swept:
        if method == "GET":
            response = portal.client.get(url)
            assert response.status_code == (404 if has_ids else 200), url
        else:
            assert portal.post(url, {"decision": "approved", "score": "5", "subject": "s", "text": "t"},
                               csrf=False).status_code == 400, url
            response = portal.post(url, {"decision": "approved", "score": "5", "subject": "s", "text": "t"})
            assert response.status_code in ((404,) if has_ids else (303,)), url
        body = response.get_data(as_text=True)
        assert "Beta" not in body and "Stage b1" not in body and "Traceback" not in body, url
    assert count(session, PortalApproval) == 0 and count(session, SurveyAnswer) == 0


def test_garbage_in_every_field_never_gives_a_500(portal, session, w):
    project, milestone, act = w["project_a"].id, w["milestones"]["a1"].id, w["act_a"].id
    survey = SurveyRequest(account_id=w["account_a"].id, kind="nps")
    session.add(survey)
    session.commit()
    garbage = ["", " ", "\x00", "<script>alert(1)</script>", "9" * 40, "-1", "1.5", "ümlaut", "x" * 30000]
    for value in garbage:
        for url, fields in ((f"/portal/projects/{project}/milestones/{milestone}/decision", ("decision", "comment")),
                            (f"/portal/projects/{project}/acts/{act}/decision", ("decision", "comment")),
                            (f"/portal/surveys/{survey.id}/answer", ("score", "comment")),
                            ("/portal/questions", ("subject", "text", "project_id"))):
            for field in fields:
                data = {"decision": "rejected", "comment": "why", "score": "7", "subject": "s", "text": "t",
                        field: value}
                response = portal.post(url, data)
                assert response.status_code < 500, (url, field, value)
                assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_staff_see_the_clients_decisions_on_the_deal_page(app, portal, session, w):
    milestone = w["milestones"]["a1"]
    portal.post(f"/portal/projects/{w['project_a'].id}/milestones/{milestone.id}/decision",
                {"decision": "rejected", "comment": "Not finished"})
    staff = app.test_client()
    with staff.session_transaction() as cookie:
        cookie["user_id"] = w["owner"].id
        cookie["stamp"] = w["owner"].session_stamp
    page = staff.get(f"/crm/deals/{w['deal_a'].id}").get_data(as_text=True)
    assert 'id="portal-approvals"' in page and "Stage a1" in page and "Not finished" in page
    assert "Anna Clientova" in page
    other = staff.get(f"/crm/deals/{w['deal_b'].id}").get_data(as_text=True)
    assert 'id="portal-approvals"' not in other


@pytest.mark.parametrize("path", ["/crm/deals/{deal}", "/finance/projects/{project}/milestones", "/crm/tasks",
                                  "/api/v1/projects/{project}/portal-approvals"])
def test_a_client_session_reaches_no_staff_page_or_api(portal, w, path):
    response = portal.client.get(path.format(deal=w["deal_a"].id, project=w["project_a"].id))
    assert response.status_code in (302, 401), response.status_code
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    assert "Stage a1" not in response.get_data(as_text=True)
