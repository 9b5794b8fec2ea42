"""Web-to-lead forms: the public form over real HTTP, its checks, honeypot, rate limit and framing; staff pages."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from accounts import routing
from accounts.marketing import forms
from accounts.marketing.models import Campaign, CampaignResponse, WebForm
from accounts.models import Lead, LeadStatus
from crmpm.events import Event
from eps.models import Role
from tests import factories

FIELDS = [{"name": "contact_name", "required": True, "label": ""},
          {"name": "email", "required": True, "label": "Work e-mail"},
          {"name": "phone", "required": False, "label": ""},
          {"name": "message", "required": False, "label": ""}]


@pytest.fixture
def desk(session, admin, world):
    """A seller on branch A under a routing rule, an editor of A who makes forms, and a campaign."""
    seller = factories.user(session, name="Sara Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=seller)
    team = factories.team(session, members=[seller])
    routing.create_rule(session, actor=admin, name="Branch A desk", team=team, members=[{"user_id": seller.id}])
    marketer = factories.user(session, name="Mia Marketer")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=marketer)
    spring = Campaign(name="Spring offer", code="SPRING-OFFER")
    autumn = Campaign(name="Autumn offer", code="AUTUMN-OFFER")
    session.add_all([spring, autumn])
    session.flush()
    form = forms.create_form(session, actor=marketer, name="Contact us", fields=FIELDS, region_node_id=world["A"].id,
                             campaign_id=spring.id, source="site contact form", product="ERP", language="en",
                             thank_you="Thanks, we will call you.")
    session.commit()
    return {"seller": seller, "marketer": marketer, "spring": spring, "autumn": autumn, "form": form}


@pytest.fixture
def http(app):
    """The test's app served over real HTTP on a free port (one request at a time: it shares the test's
    connection); ``post(path, data, headers)`` answers (status, headers, body)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def call(method, path, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(base + path, data=body, method=method, headers={
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    yield call
    server.shutdown()
    thread.join(timeout=10)


def _leads(session):
    session.expire_all()
    return session.scalars(select(Lead).order_by(Lead.id)).all()


def test_a_real_http_post_creates_one_routed_lead_with_source_campaign_and_form(http, session, desk):
    form = desk["form"]
    status, headers, body = http("POST", f"/forms/{form.key}", {
        "contact_name": "Olga Petrova", "email": " Olga@Acme.Example ", "phone": "8 (916) 123-45-67",
        "message": "Call me"})
    assert status == 200, body
    assert "Thanks, we will call you." in body
    assert "set-cookie" not in {key.lower() for key in headers.keys()}
    [lead] = _leads(session)
    assert (lead.contact_name, lead.email, lead.phone, lead.message) == (
        "Olga Petrova", "olga@acme.example", "+79161234567", "Call me")
    assert (lead.source, lead.product, lead.web_form_id, lead.campaign_id) == (
        "site contact form", "ERP", form.id, desk["spring"].id)
    assert lead.region_node_id == form.region_node_id
    assert (lead.status, lead.owner_id) == (LeadStatus.assigned, desk["seller"].id)  # routed by the rule
    [response] = session.scalars(select(CampaignResponse)).all()
    assert (response.campaign_id, response.kind, response.lead_id) == (desk["spring"].id, "form", lead.id)
    assert session.get(WebForm, form.id).submissions == 1
    assert session.scalar(select(func.count()).select_from(Event).where(
        Event.type == "lead.created", Event.subject_id == lead.id)) == 1


def test_a_campaign_code_in_the_submission_or_the_query_counts_for_that_campaign(http, session, desk):
    key = desk["form"].key
    assert http("POST", f"/forms/{key}", {"contact_name": "A", "email": "a@example.com",
                                          "campaign": "AUTUMN-OFFER"})[0] == 200
    assert http("POST", f"/forms/{key}?utm_campaign=AUTUMN-OFFER", {"contact_name": "B",
                                                                    "email": "b@example.com"})[0] == 200
    # An unknown code: the form's own campaign.
    assert http("POST", f"/forms/{key}", {"contact_name": "C", "email": "c@example.com", "campaign": "NOPE"})[0] == 200
    assert [lead.campaign_id for lead in _leads(session)] == [desk["autumn"].id, desk["autumn"].id, desk["spring"].id]
    assert session.scalar(select(func.count()).select_from(CampaignResponse).where(
        CampaignResponse.campaign_id == desk["autumn"].id)) == 2


def test_the_form_page_carries_the_query_campaign_code(http, desk):
    status, headers, body = http("GET", f"/forms/{desk['form'].key}?utm_campaign=AUTUMN-OFFER")
    assert status == 200
    assert 'name="campaign" value="AUTUMN-OFFER"' in body
    assert 'lang="en"' in body and "Work e-mail" in body and 'name="website"' in body


def test_required_fields_and_a_bad_email_are_named_and_nothing_is_stored(http, session, desk):
    form = desk["form"]
    status, _headers, body = http("POST", f"/forms/{form.key}", {"contact_name": "", "email": "not-an-address",
                                                                 "phone": "12"})
    assert status == 422
    assert 'id="e-contact_name">Please fill in this field.' in body
    assert 'id="e-email">This is not a valid e-mail address.' in body
    assert 'id="e-phone">This is not a valid phone number.' in body
    assert 'value="not-an-address"' in body  # what was typed stays
    assert _leads(session) == [] and session.get(WebForm, form.id).submissions == 0
    status, _headers, body = http("POST", f"/forms/{form.key}", {"email": "x"}, {"Accept": "application/json"})
    answer = json.loads(body)
    assert status == 422 and answer["status"] == "invalid"
    assert set(answer["errors"]) == {"contact_name", "email"}
    assert _leads(session) == []


def test_errors_are_in_the_forms_language(http, session, admin, world, desk):
    form = forms.update_form(session, actor=desk["marketer"], form=desk["form"], language="ru")
    session.commit()
    status, _headers, body = http("POST", f"/forms/{form.key}", {"email": "bad"},
                                  {"Accept-Language": "en"})
    assert status == 422 and 'lang="ru"' in body
    assert "Заполните это поле." in body


def test_the_honeypot_answers_thanks_stores_nothing_and_counts_the_bot(http, session, desk):
    form = desk["form"]
    status, _headers, body = http("POST", f"/forms/{form.key}", {"contact_name": "Bot", "email": "bot@example.com",
                                                                 "website": "http://spam.example"})
    assert status == 200 and "Thanks, we will call you." in body
    assert _leads(session) == []
    assert session.scalar(select(func.count()).select_from(CampaignResponse)) == 0
    assert session.get(WebForm, form.id).submissions == 0
    assert forms.spam_caught(session, form=form) == 1


def test_submissions_past_the_limit_per_address_get_429(http, session, desk):
    key = desk["form"].key
    answers = [http("POST", f"/forms/{key}", {"contact_name": f"P{i}", "email": f"p{i}@example.com"})[0]
               for i in range(6)]
    assert answers == [200] * 5 + [429]
    assert len(_leads(session)) == 5
    status, headers, _body = http("POST", f"/forms/{key}", {"contact_name": "Q", "email": "q@example.com"},
                                  {"Accept": "application/json"})
    assert status == 429 and int(headers["Retry-After"]) > 0


def test_an_inactive_or_unknown_form_is_404(http, session, desk):
    form = forms.update_form(session, actor=desk["marketer"], form=desk["form"], is_active=False)
    session.commit()
    for method in ("GET", "POST"):
        assert http(method, f"/forms/{form.key}", {"contact_name": "A", "email": "a@example.com"}
                    if method == "POST" else None)[0] == 404
        assert http(method, "/forms/fNoSuchKey", {"contact_name": "A"} if method == "POST" else None)[0] == 404
    assert _leads(session) == []


def test_only_the_public_form_may_be_framed(http, pages, desk, admin):
    _status, headers, _body = http("GET", f"/forms/{desk['form'].key}")
    assert "frame-ancestors *" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers
    assert "script-src" not in headers["Content-Security-Policy"]  # no scripts at all (default-src 'none')
    _status, headers, _body = http("POST", f"/forms/{desk['form'].key}", {"contact_name": "A", "email": "a@b.example"},
                                   {"Accept": "application/json"})
    assert headers["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in headers
    pages.log_in_as(admin)
    for path in ("/forms/", f"/forms/{desk['form'].id}", "/login", "/crm/leads"):
        response = pages.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_a_form_whose_user_lost_the_rights_refuses_politely_and_tells_staff(http, pages, session, admin, world, desk):
    from eps.models import Grant

    form = desk["form"]
    for grant in session.scalars(select(Grant).where(Grant.user_id == desk["marketer"].id)):
        session.delete(grant)
    session.commit()
    status, _headers, body = http("POST", f"/forms/{form.key}", {"contact_name": "A", "email": "a@example.com"})
    assert status == 503 and "not taking requests" in body and "403" not in body
    assert _leads(session) == []
    page = pages.log_in_as(desk["seller"]).get(f"/forms/{form.id}").get_data(as_text=True)
    assert "refuses submissions" in page and "may no longer change its branch" in page
    # Someone who may change the branch takes it over by saving it.
    forms.update_form(session, actor=desk["seller"], form=form, name="Contact us")
    session.commit()
    assert http("POST", f"/forms/{form.key}", {"contact_name": "A", "email": "a@example.com"})[0] == 200
    assert len(_leads(session)) == 1


def test_a_large_body_is_refused(http, session, desk):
    status, _headers, _body = http("POST", f"/forms/{desk['form'].key}",
                                   {"contact_name": "A", "email": "a@example.com", "message": "x" * 40000})
    assert status == 413 and _leads(session) == []


# --- staff pages ---------------------------------------------------------------------------------------------

def test_staff_create_a_form_choosing_fields_and_see_its_embed_code(pages, session, world, desk):
    pages.log_in_as(desk["marketer"])
    assert "Contact us" in pages.get("/forms/").get_data(as_text=True)
    assert pages.get("/forms/new").status_code == 200
    response = pages.post("/forms/new", {"name": "Price request", "region_node_id": str(world["A"].id),
                                         "campaign_id": str(desk["autumn"].id), "source": "price page",
                                         "language": "ru", "is_active": "on", "ask_company": "on",
                                         "required_company": "on", "ask_phone": "on", "label_phone": "Телефон"})
    assert response.status_code == 303
    form = session.scalar(select(WebForm).where(WebForm.name == "Price request"))
    assert form.fields == [{"name": "company", "required": True, "label": ""},
                           {"name": "phone", "required": False, "label": "Телефон"}]
    assert (form.campaign_id, form.source, form.language, form.created_by_id) == (
        desk["autumn"].id, "price page", "ru", desk["marketer"].id)
    page = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert f"&lt;iframe src=&#34;http://localhost/forms/{form.key}&#34;" in page or \
        re.search(rf"&lt;iframe src=\S+/forms/{form.key}", page)


def test_a_form_without_a_required_way_to_reach_someone_is_refused(pages, session, world, desk):
    pages.log_in_as(desk["marketer"])
    response = pages.post("/forms/new", {"name": "Bad", "region_node_id": str(world["A"].id), "language": "en",
                                         "ask_message": "on", "required_message": "on"})
    assert response.status_code == 303
    assert session.scalar(select(WebForm).where(WebForm.name == "Bad")) is None


def test_the_forms_page_lists_only_readable_leads(http, pages, session, admin, world, desk):
    form = desk["form"]
    http("POST", f"/forms/{form.key}", {"contact_name": "Visible Person", "email": "v@example.com"})
    other = factories.user(session, name="Bob Branchless")
    session.commit()
    body = pages.log_in_as(desk["seller"]).get(f"/forms/{form.id}").get_data(as_text=True)
    assert "Visible Person" in body and 'id="submissions">1<' in body
    body = pages.log_in_as(other).get(f"/forms/{form.id}").get_data(as_text=True)
    assert "Contact us" in body and "Visible Person" not in body
    assert "Edit" not in body  # read-only


@pytest.mark.parametrize("who, expected", [("editor", 303), ("viewer", 403), ("nobody", 403)])
def test_who_may_change_a_form_on_the_pages(pages, session, admin, world, desk, who, expected):
    user = factories.user(session)
    if who != "nobody":
        factories.grant(session, actor=admin, role=Role(who), target=world["A"], user=user)
    session.commit()
    pages.log_in_as(user)
    form_id = desk["form"].id
    response = pages.post(f"/forms/{form_id}/edit", {"name": "Renamed", "region_node_id": str(world["A"].id),
                                                     "language": "en", "ask_email": "on", "required_email": "on"})
    assert response.status_code == expected
    session.expire_all()
    assert (session.get(WebForm, form_id).name == "Renamed") == (expected == 303)
    response = pages.post(f"/forms/{form_id}/delete")
    assert response.status_code == expected
    session.expire_all()
    assert (session.get(WebForm, form_id) is None) == (expected == 303)
