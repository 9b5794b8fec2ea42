"""Settings pages: pipelines and stages, lead routing rules, absences, users (edit, reset by link or temporary
password) and teams; each with the API's rights, CSRF, and bad input sent back naming the field."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from accounts.models import Absence, PipelineStage, RoutingRule
from crmpm.audit.models import AuditEntry
from crmpm.users import services as users
from crmpm.users.models import PasswordReset, Team, User
from tests import factories

PASSWORD = factories.PASSWORD
NEW_PASSWORD = "violet-harbour-tractor-seven"
ADMIN_EMAIL = "admin@example.test"


def _stages(session, pipeline):
    session.expire_all()
    return [(stage.name, stage.probability, stage.kind.value)
            for stage in session.scalars(select(PipelineStage).where(PipelineStage.pipeline_id == pipeline.id)
                                         .order_by(PipelineStage.position))]


def _flash(pages, response) -> str:
    assert response.status_code == 303, response.status_code
    return pages.get(response.headers["Location"]).get_data(as_text=True)


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def pipeline(session):
    made = factories.pipeline(session, name="Sales")
    session.commit()
    return made


@pytest.fixture
def person(session):
    made = factories.user(session, name="Person One", email="person@example.test")
    session.commit()
    return made


# --- pipelines and stages --------------------------------------------------------------------------------------

def test_admin_creates_a_pipeline_with_its_three_stages(pages, session, admin):
    pages.log_in_as(admin)
    response = pages.post("/settings/pipelines", {"name": "Partners", "first_stage": "Contact",
                                                  "won_stage": "Signed", "lost_stage": "Dropped"})
    from accounts.pipelines import get_by_name

    created = get_by_name(session, name="Partners")
    assert response.status_code == 303 and response.location == f"/settings/pipelines/{created.id}"
    assert _stages(session, created) == [("Contact", 10, "open"), ("Signed", 100, "won"), ("Dropped", 0, "lost")]


def test_admin_adds_renames_reweights_and_deletes_stages(pages, session, admin, pipeline):
    pages.log_in_as(admin)
    url = f"/settings/pipelines/{pipeline.id}"
    assert pages.post(f"{url}/stages", {"name": "Demo", "probability": "55", "kind": "open"}).status_code == 303
    # A new open stage comes after the other open ones, before won and lost.
    assert _stages(session, pipeline) == [("Qualification", 10, "open"), ("Proposal", 40, "open"),
                                          ("Negotiation", 70, "open"), ("Demo", 55, "open"), ("Won", 100, "won"),
                                          ("Lost", 0, "lost")]
    proposal = next(stage for stage in pipeline.stages if stage.name == "Proposal")
    prefix = f"s{proposal.id}-"
    response = pages.post(f"{url}/stages/{proposal.id}", {prefix + "name": "Offer", prefix + "probability": "45",
                                                          prefix + "kind": "open"})
    assert response.status_code == 303
    assert ("Offer", 45, "open") in _stages(session, pipeline)
    demo = session.scalar(select(PipelineStage).where(PipelineStage.name == "Demo"))
    assert pages.post(f"{url}/stages/{demo.id}/delete").status_code == 303
    assert [name for name, _p, _k in _stages(session, pipeline)] == ["Qualification", "Offer", "Negotiation", "Won",
                                                                     "Lost"]
    assert pages.post(url, {"name": "Direct sales", "is_active": "y"}).status_code == 303
    session.expire_all()
    assert pipeline.name == "Direct sales" and pipeline.is_active


def test_stages_move_up_and_down_among_the_open_ones_and_the_button_keeps_focus(pages, session, admin, pipeline):
    pages.log_in_as(admin)
    url = f"/settings/pipelines/{pipeline.id}"
    negotiation = next(stage for stage in pipeline.stages if stage.name == "Negotiation")
    response = pages.post(f"{url}/stages/{negotiation.id}/up")
    assert response.status_code == 303
    assert [n for n, _p, _k in _stages(session, pipeline)][:3] == ["Qualification", "Negotiation", "Proposal"]
    page = pages.get(response.headers["Location"]).get_data(as_text=True)
    # The moved stage's same button is focused again, so Enter moves it once more.
    focused = re.findall(r'<button[^>]*autofocus[^>]*>', page)
    assert len(focused) == 1 and "move-up" in focused[0] and "Negotiation" in focused[0]
    assert pages.post(f"{url}/stages/{negotiation.id}/up").status_code == 303
    assert [n for n, _p, _k in _stages(session, pipeline)][:3] == ["Negotiation", "Qualification", "Proposal"]
    # Already first: it stays; down moves it back, never past the won and lost stages.
    assert pages.post(f"{url}/stages/{negotiation.id}/up").status_code == 303
    assert [n for n, _p, _k in _stages(session, pipeline)][0] == "Negotiation"
    for _ in range(4):
        assert pages.post(f"{url}/stages/{negotiation.id}/down").status_code == 303
    assert [n for n, _p, _k in _stages(session, pipeline)] == ["Qualification", "Proposal", "Negotiation", "Won",
                                                               "Lost"]


def test_bad_stage_input_comes_back_naming_the_field_and_writes_nothing(pages, session, admin, pipeline):
    pages.log_in_as(admin)
    url = f"/settings/pipelines/{pipeline.id}"
    before = _stages(session, pipeline)
    headers = {"Referer": f"http://localhost{url}"}
    body = _flash(pages, pages.post(f"{url}/stages", {"name": "Demo", "probability": "150", "kind": "open"},
                                    headers=headers))
    assert "Probability, %" in body and "flash-error" in body
    won = next(stage for stage in pipeline.stages if stage.name == "Won")
    prefix = f"s{won.id}-"
    body = _flash(pages, pages.post(f"{url}/stages/{won.id}", {prefix + "name": "Won", prefix + "probability": "50",
                                                               prefix + "kind": "won"}, headers=headers))
    assert "won stage has probability 100" in body
    body = _flash(pages, pages.post(f"{url}/stages", {"name": "proposal", "probability": "20", "kind": "open"},
                                    headers=headers))
    assert "unique" in body
    assert _stages(session, pipeline) == before


def test_a_stage_holding_deals_is_not_deleted(pages, session, admin, pipeline, world):
    account = factories.account(session, actor=admin, region=world["A"])
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Proposal")
    session.commit()
    pages.log_in_as(admin)
    url = f"/settings/pipelines/{pipeline.id}"
    body = _flash(pages, pages.post(f"{url}/stages/{deal.stage_id}/delete", headers={"Referer": f"http://localhost{url}"}))
    assert "holds deals" in body
    assert "Proposal" in [n for n, _p, _k in _stages(session, pipeline)]


def test_a_stage_of_another_pipeline_is_not_found(pages, session, admin, pipeline):
    other = factories.pipeline(session, name="Other")
    session.commit()
    pages.log_in_as(admin)
    stage = other.stages[0]
    assert pages.post(f"/settings/pipelines/{pipeline.id}/stages/{stage.id}/delete").status_code == 404


def test_non_admins_read_pipelines_but_change_nothing_as_in_the_api(pages, session, person, pipeline):
    pages.log_in_as(person)
    listing = pages.get("/settings/pipelines")
    assert listing.status_code == 200 and "Sales" in listing.get_data(as_text=True)
    assert "/settings/pipelines/" not in listing.get_data(as_text=True)  # no edit links
    url = f"/settings/pipelines/{pipeline.id}"
    stage = pipeline.stages[0]
    before = _stages(session, pipeline)
    assert pages.get(url).status_code == 403
    for path, data in ((url, {"name": "X"}), (f"{url}/stages", {"name": "X", "probability": "5", "kind": "open"}),
                       (f"{url}/stages/{stage.id}/up", {}), (f"{url}/stages/{stage.id}/delete", {}),
                       ("/settings/pipelines", {"name": "Mine", "first_stage": "a", "won_stage": "b",
                                                "lost_stage": "c"})):
        assert pages.post(path, data).status_code == 403, path
    assert _stages(session, pipeline) == before
    # The API refuses the same person the same way.
    token = users.create_token(session, actor=person, user=person)[1]
    session.commit()
    api = pages.client.patch(f"/api/v1/pipelines/{pipeline.id}", json={"name": "X"},
                             headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403


def test_pipeline_posts_need_the_csrf_token(pages, session, admin, pipeline):
    pages.log_in_as(admin)
    url = f"/settings/pipelines/{pipeline.id}"
    assert pages.post(f"{url}/stages", {"name": "Demo", "probability": "5", "kind": "open"}, csrf=False).status_code == 400
    assert pages.post(f"{url}/stages/{pipeline.stages[1].id}/up", csrf=False).status_code == 400
    assert len(_stages(session, pipeline)) == 5


# --- lead routing rules ----------------------------------------------------------------------------------------

@pytest.fixture
def sales(session, admin):
    one = factories.user(session, name="Seller One")
    two = factories.user(session, name="Seller Two")
    team = factories.team(session, members=[one, two], name="Sales team")
    session.commit()
    return {"team": team, "one": one, "two": two}


def _rule_form(team, **changes):
    return {"name": "Inbound", "team_id": str(team.id), "priority": "100", "fairness": "round_robin",
            "capacity": "", "capacity_period": "day", "prefer_account_owner": "y", "is_active": "y", **changes}


def test_admin_creates_edits_orders_and_deletes_routing_rules(pages, session, admin, sales):
    pages.log_in_as(admin)
    response = pages.post("/settings/routing", _rule_form(sales["team"]))
    rule = session.scalar(select(RoutingRule).where(RoutingRule.name == "Inbound"))
    assert response.status_code == 303 and response.location == f"/settings/routing/{rule.id}"
    page = pages.get(f"/settings/routing/{rule.id}").get_data(as_text=True)
    assert "Seller One" in page and "Seller Two" in page
    data = _rule_form(sales["team"], capacity="5", fairness="least_load") | {"member_ids": [str(sales["one"].id)]}
    assert pages.post(f"/settings/routing/{rule.id}", data).status_code == 303
    session.expire_all()
    assert [m.user_id for m in rule.members] == [sales["one"].id]
    assert rule.capacity == 5 and rule.fairness.value == "least_load"
    # Members kept keep what was set for them (by the API): the page does not reset it.
    rule.members[0].products = ["pumps"]
    session.commit()
    data["member_ids"] = [str(sales["one"].id), str(sales["two"].id)]
    assert pages.post(f"/settings/routing/{rule.id}", data).status_code == 303
    session.expire_all()
    assert [(m.user_id, m.products) for m in rule.members] == [(sales["one"].id, ["pumps"]), (sales["two"].id, [])]
    # A second rule, then the order: "up" puts it first; priorities are renumbered 10, 20.
    pages.post("/settings/routing", _rule_form(sales["team"], name="Fallback", priority="200"))
    fallback = session.scalar(select(RoutingRule).where(RoutingRule.name == "Fallback"))
    response = pages.post(f"/settings/routing/{fallback.id}/up")
    assert response.status_code == 303
    session.expire_all()
    assert [(r.name, r.priority) for r in session.scalars(select(RoutingRule).order_by(RoutingRule.priority))] == [
        ("Fallback", 10), ("Inbound", 20)]
    assert "autofocus" in pages.get(response.headers["Location"]).get_data(as_text=True)
    assert pages.post(f"/settings/routing/{fallback.id}/delete").status_code == 303
    assert [r.name for r in session.scalars(select(RoutingRule))] == ["Inbound"]


def test_bad_rule_input_names_the_field_and_writes_nothing(pages, session, admin, sales):
    pages.log_in_as(admin)
    headers = {"Referer": "http://localhost/settings/routing"}
    body = _flash(pages, pages.post("/settings/routing", _rule_form(sales["team"], priority="soon"), headers=headers))
    assert "Priority" in body
    # A team that is not there is a 404, as in the API.
    assert pages.post("/settings/routing", _rule_form(sales["team"], team_id="999999")).status_code == 404
    outsider = factories.user(session, name="Not In Team")
    pages.post("/settings/routing", _rule_form(sales["team"]))
    rule = session.scalar(select(RoutingRule))
    session.commit()
    body = _flash(pages, pages.post(f"/settings/routing/{rule.id}",
                                    _rule_form(sales["team"]) | {"member_ids": [str(outsider.id)]}, headers=headers))
    assert "is not in team" in body
    session.expire_all()
    assert _count(session, RoutingRule) == 1 and rule.members == []


def test_non_admins_read_the_rules_but_change_nothing(pages, session, admin, sales):
    pages.log_in_as(admin)
    pages.post("/settings/routing", _rule_form(sales["team"]))
    rule = session.scalar(select(RoutingRule))
    pages.log_in_as(sales["one"])
    assert "Inbound" in pages.get("/settings/routing").get_data(as_text=True)
    assert pages.get(f"/settings/routing/{rule.id}").status_code == 403
    for path in ("/settings/routing", f"/settings/routing/{rule.id}", f"/settings/routing/{rule.id}/delete",
                 f"/settings/routing/{rule.id}/up"):
        assert pages.post(path, _rule_form(sales["team"], name="Changed")).status_code == 403, path
    session.expire_all()
    assert [r.name for r in session.scalars(select(RoutingRule))] == ["Inbound"]
    assert pages.post("/settings/routing", _rule_form(sales["team"]), csrf=False).status_code == 400


# --- absences --------------------------------------------------------------------------------------------------

def _absence_form(**changes):
    return {"starts_at": "2026-12-20T09:00", "ends_at": "2026-12-27T18:00", "deputy_id": "0", "reason": "Leave",
            **changes}


def test_a_user_records_and_cancels_their_own_absence_with_a_deputy(pages, session, person, admin):
    deputy = factories.user(session, name="Deputy Dee")
    session.commit()
    pages.log_in_as(person)
    response = pages.post("/settings/absences", _absence_form(user_id=str(person.id), deputy_id=str(deputy.id)))
    assert response.status_code == 303
    absence = session.scalar(select(Absence))
    # Typed on the user's clock (Europe/Moscow, UTC+3), kept in UTC.
    assert absence.user_id == person.id and absence.deputy_id == deputy.id
    assert absence.starts_at == datetime(2026, 12, 20, 6, 0, tzinfo=timezone.utc)
    # The deputy sees it but may not cancel it (as in the API); someone else does not find it.
    pages.log_in_as(deputy)
    assert f'data-absence="{absence.id}"' in pages.get("/settings/absences").get_data(as_text=True)
    assert pages.post(f"/settings/absences/{absence.id}/delete").status_code == 403
    other = factories.user(session)
    session.commit()
    pages.log_in_as(other)
    assert "data-absence=" not in pages.get("/settings/absences").get_data(as_text=True)
    assert pages.post(f"/settings/absences/{absence.id}/delete").status_code == 404
    assert _count(session, Absence) == 1
    pages.log_in_as(person)
    assert pages.post(f"/settings/absences/{absence.id}/delete", csrf=False).status_code == 400
    assert pages.post(f"/settings/absences/{absence.id}/delete").status_code == 303
    assert _count(session, Absence) == 0


def test_an_ongoing_absence_is_ended_now_from_the_page_by_the_absent_person(pages, session, person, admin):
    """The list offers "End now" (in English and Russian) on an absence under way, not on one to come; the deputy may not end
    it (403), someone else does not find it (404), a post without its CSRF token is refused (400)."""
    from accounts import routing
    from crmpm.database import utcnow

    deputy = factories.user(session, name="Deputy Dee")
    now = utcnow()
    ongoing = routing.create_absence(session, actor=person, user=person, deputy=deputy,
                                     starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=6))
    later = routing.create_absence(session, actor=person, user=person, starts_at=now + timedelta(days=10),
                                   ends_at=now + timedelta(days=12))
    session.commit()
    pages.log_in_as(person)
    html = pages.get("/settings/absences").get_data(as_text=True)
    assert f"/settings/absences/{ongoing.id}/end" in html and f"/settings/absences/{later.id}/end" not in html
    assert "End now" in html
    person.locale = "ru"
    session.commit()
    assert "Завершить сейчас" in pages.get("/settings/absences").get_data(as_text=True)
    pages.log_in_as(deputy)
    assert pages.post(f"/settings/absences/{ongoing.id}/end").status_code == 403
    other = factories.user(session)
    session.commit()
    pages.log_in_as(other)
    assert pages.post(f"/settings/absences/{ongoing.id}/end").status_code == 404
    pages.log_in_as(person)
    assert pages.post(f"/settings/absences/{ongoing.id}/end", csrf=False).status_code == 400
    session.expire_all()
    assert session.get(Absence, ongoing.id).ends_at == ongoing.ends_at
    before = utcnow()
    assert "Отсутствие завершено." in _flash(pages, pages.post(f"/settings/absences/{ongoing.id}/end"))
    session.expire_all()
    assert before <= session.get(Absence, ongoing.id).ends_at <= utcnow()


def test_only_admins_record_absences_of_others(pages, session, person, admin):
    other = factories.user(session, name="Other Person")
    session.commit()
    pages.log_in_as(person)
    assert pages.post("/settings/absences", _absence_form(user_id=str(other.id))).status_code == 403
    assert _count(session, Absence) == 0
    pages.log_in_as(admin)
    assert 'name="user_id"' in pages.get("/settings/absences").get_data(as_text=True)
    assert pages.post("/settings/absences", _absence_form(user_id=str(other.id))).status_code == 303
    assert session.scalar(select(Absence)).user_id == other.id


def test_an_absence_ending_before_it_starts_comes_back_naming_the_field(pages, session, person):
    pages.log_in_as(person)
    body = _flash(pages, pages.post("/settings/absences", _absence_form(user_id=str(person.id), ends_at="2026-12-19T09:00"),
                                    headers={"Referer": "http://localhost/settings/absences"}))
    assert "ends after it starts" in body
    body = _flash(pages, pages.post("/settings/absences", _absence_form(user_id=str(person.id), starts_at="soon"),
                                    headers={"Referer": "http://localhost/settings/absences"}))
    assert "From" in body
    assert _count(session, Absence) == 0


# --- users -----------------------------------------------------------------------------------------------------

def test_admin_edits_a_users_name_email_rights_and_teams(pages, session, admin, person):
    team = factories.team(session, members=[], name="Support")
    old_team = factories.team(session, members=[person], name="Old")
    session.commit()
    pages.log_in_as(admin)
    page = pages.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "person@example.test" in page and "Support" in page
    response = pages.post(f"/admin/users/{person.id}", {"name": "Person Renamed", "email": "Renamed@Example.test",
                                                         "locale": "ru", "is_admin": "y",
                                                         "team_ids": [str(team.id)]})
    assert response.status_code == 303
    session.expire_all()
    changed = session.get(User, person.id)
    assert (changed.name, changed.email, changed.locale, changed.is_admin) == (
        "Person Renamed", "renamed@example.test", "ru", True)
    assert [t.name for t in changed.teams] == ["Support"] and session.get(Team, old_team.id).members == []


def test_a_taken_email_comes_back_and_nothing_is_written(pages, session, admin, person):
    pages.log_in_as(admin)
    body = _flash(pages, pages.post(f"/admin/users/{person.id}", {"name": "New Name", "email": admin.email,
                                                                   "locale": "en"},
                                    headers={"Referer": f"http://localhost/admin/users/{person.id}"}))
    assert "already exists" in body
    body = _flash(pages, pages.post(f"/admin/users/{person.id}", {"name": "New Name", "email": "not-an-address",
                                                                   "locale": "en"},
                                    headers={"Referer": f"http://localhost/admin/users/{person.id}"}))
    assert "Email" in body
    session.expire_all()
    assert session.get(User, person.id).name == "Person One"


def test_non_admins_get_403_on_every_user_action(pages, session, person, admin):
    pages.log_in_as(person)
    before = _count(session, AuditEntry)
    assert pages.get(f"/admin/users/{admin.id}").status_code == 403
    for path, data in ((f"/admin/users/{admin.id}", {"name": "x", "email": "x@example.test", "locale": "en"}),
                       (f"/admin/users/{admin.id}/reset-link", {}),
                       (f"/admin/users/{admin.id}/temporary-password", {"password": NEW_PASSWORD}),
                       (f"/admin/users/{admin.id}/deactivate", {})):
        assert pages.post(path, data).status_code == 403, path
    assert _count(session, AuditEntry) == before
    assert pages.post(f"/admin/users/{person.id}/reset-link", csrf=False).status_code == 400


def test_deactivating_a_user_ends_their_sessions_and_nobody_deactivates_themselves(app, pages, session, admin, person):
    theirs = type(pages)(app.test_client())
    assert theirs.post("/login", {"email": person.email, "password": PASSWORD}).status_code == 303
    assert theirs.get("/").status_code == 200
    pages.log_in_as(admin)
    assert pages.post(f"/admin/users/{person.id}/deactivate").status_code == 303
    assert theirs.get("/").status_code == 302
    body = _flash(pages, pages.post(f"/admin/users/{admin.id}/deactivate",
                                    headers={"Referer": "http://localhost/admin/users"}))
    assert "cannot deactivate yourself" in body
    session.expire_all()
    assert session.get(User, admin.id).is_active


def _reset_link(pages, user) -> str:
    response = pages.post(f"/admin/users/{user.id}/reset-link")
    assert response.status_code == 201
    link = re.search(r'id="reset-link" type="text" readonly value="([^"]+)"', response.get_data(as_text=True)).group(1)
    return link.removeprefix("http://localhost")


def test_a_reset_link_works_once_ends_the_old_sessions_and_the_new_password_logs_in(app, pages, session, admin,
                                                                                     person):
    theirs = type(pages)(app.test_client())
    assert theirs.post("/login", {"email": person.email, "password": PASSWORD}).status_code == 303
    pages.log_in_as(admin)
    path = _reset_link(pages, person)
    token = path.rsplit("/", 1)[1]
    stored = session.scalar(select(PasswordReset))
    assert token not in stored.token_hash and stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash
    assert stored.expires_at - stored.created_at == timedelta(hours=24)
    visitor = type(pages)(app.test_client())
    page = visitor.get(path)
    assert page.status_code == 200 and "person@example.test" in page.get_data(as_text=True)
    # Bad input: the form comes back naming the field, the link still unused.
    body = _flash(visitor, visitor.post(path, {"password": NEW_PASSWORD, "confirm": "other"},
                                        headers={"Referer": f"http://localhost{path}"}))
    assert "differ" in body
    body = _flash(visitor, visitor.post(path, {"password": "password1", "confirm": "password1"},
                                        headers={"Referer": f"http://localhost{path}"}))
    assert "too common" in body
    session.expire_all()
    assert session.get(PasswordReset, stored.id).used_at is None
    assert visitor.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, csrf=False).status_code == 400
    response = visitor.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.location == "/login"
    assert theirs.get("/").status_code == 302  # the session from before the reset has ended
    assert visitor.post("/login", {"email": person.email, "password": PASSWORD}).status_code == 401
    assert visitor.post("/login", {"email": person.email, "password": NEW_PASSWORD}).status_code == 303
    # Used: the link says so, and does nothing more.
    other = type(pages)(app.test_client())
    used = other.get(path)
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)
    assert other.post(path, {"password": "another-long-phrase-42", "confirm": "another-long-phrase-42"}).status_code == 410


def test_an_expired_or_wrong_link_says_so(app, pages, session, admin, person):
    pages.log_in_as(admin)
    path = _reset_link(pages, person)
    visitor = type(pages)(app.test_client())
    session.execute(PasswordReset.__table__.update().values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    session.commit()
    expired = visitor.get(path)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    response = visitor.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    wrong = visitor.get("/reset/" + "x" * 43)
    assert wrong.status_code == 404 and "nothing here" in wrong.get_data(as_text=True)
    assert visitor.post("/login", {"email": person.email, "password": PASSWORD}).status_code == 303


def test_a_newer_link_voids_the_older_one_and_a_logged_in_user_cannot_use_one(app, pages, session, admin, person):
    pages.log_in_as(admin)
    first = _reset_link(pages, person)
    second = _reset_link(pages, person)
    visitor = type(pages)(app.test_client())
    assert visitor.get(first).status_code == 410
    assert visitor.get(second).status_code == 200
    other = factories.user(session)
    session.commit()
    visitor.log_in_as(other)
    page = visitor.get(second).get_data(as_text=True)
    assert "Log out first" in page and "disabled" in page
    assert visitor.post(second, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 403
    session.expire_all()
    assert session.scalar(select(PasswordReset).where(PasswordReset.used_at.is_(None))) is not None


def test_wrong_links_are_rate_limited(app, pages, session):
    visitor = type(pages)(app.test_client())
    statuses = [visitor.get("/reset/" + f"{n:0>43}").status_code for n in range(25)]
    assert statuses[0] == 404 and statuses[-1] == 429


def test_a_temporary_password_must_be_changed_at_the_next_login(app, pages, session, admin, person):
    before = type(pages)(app.test_client())
    assert before.post("/login", {"email": person.email, "password": PASSWORD}).status_code == 303
    pages.log_in_as(admin)
    body = _flash(pages, pages.post(f"/admin/users/{person.id}/temporary-password", {"password": "short"},
                                    headers={"Referer": f"http://localhost/admin/users/{person.id}"}))
    assert "Temporary password" in body
    temporary = "maple-window-seventeen-x"
    assert pages.post(f"/admin/users/{person.id}/temporary-password", {"password": temporary}).status_code == 303
    session.expire_all()
    assert session.get(User, person.id).must_change_password
    assert before.get("/").status_code == 302  # the session from before the reset has ended
    theirs = type(pages)(app.test_client())
    assert theirs.post("/login", {"email": person.email, "password": temporary}).status_code == 303
    blocked = theirs.get("/crm/deals")
    assert blocked.status_code == 303 and blocked.location == "/profile/"
    assert "temporary" in theirs.get("/profile/").get_data(as_text=True)
    response = theirs.post("/profile/", {"name": "Person One", "locale": "en", "password": NEW_PASSWORD,
                                         "current_password": temporary})
    assert response.status_code == 303
    session.expire_all()
    assert not session.get(User, person.id).must_change_password
    assert theirs.get("/").status_code == 200


# --- teams -----------------------------------------------------------------------------------------------------

def test_admin_renames_a_team_and_others_may_not(pages, session, admin, person):
    team = factories.team(session, members=[], name="Old name")
    session.commit()
    pages.log_in_as(person)
    assert pages.post(f"/admin/teams/{team.id}/rename", {"name": "Mine"}).status_code == 403
    pages.log_in_as(admin)
    assert pages.post(f"/admin/teams/{team.id}/rename", {"name": "New name"}, csrf=False).status_code == 400
    assert pages.post(f"/admin/teams/{team.id}/rename", {"name": "New name"}).status_code == 303
    session.expire_all()
    assert session.get(Team, team.id).name == "New name"
    body = _flash(pages, pages.post(f"/admin/teams/{team.id}/rename", {"name": ""},
                                    headers={"Referer": f"http://localhost/admin/teams/{team.id}"}))
    assert "Name" in body and session.get(Team, team.id).name == "New name"


def test_the_settings_menu_shows_admin_entries_to_admins_only(pages, session, admin, person):
    pages.log_in_as(admin)
    page = pages.get("/").get_data(as_text=True)
    assert "/settings/pipelines" in page and "/settings/routing" in page and "/settings/absences" in page
    pages.log_in_as(person)
    page = pages.get("/").get_data(as_text=True)
    assert "/settings/pipelines" not in page and "/settings/absences" in page
