"""CRM refusals and queues on the pages: a second handover, unrouted leads, deputies, qualifying leads."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from accounts.models import Deal
from eps.models import Role
from tests import factories
from wbs import services as wbs_services
from wbs.models import Activity


def _flashes(page) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<div class="flash flash-[^"]*"[^>]*>(.*?)</div>',
                                                        page.get_data(as_text=True), re.S)]


@pytest.fixture
def sales(session, admin):
    """Branch A with an account, a pipeline, a template project and a Russian-speaking seller (editor on A)."""
    root = factories.node(session, actor=admin, code="ENT")
    branch = factories.node(session, actor=admin, parent=root, code="A")
    other = factories.node(session, actor=admin, parent=root, code="B")
    seller = factories.user(session, name="Sasha Seller")
    seller.locale = "ru"
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=seller)
    account = factories.account(session, actor=admin, region=branch, name="Alpha Works")
    template = factories.project(session, actor=admin, node=branch, code="TPL-WEB")
    wbs_services.create_activity(session, actor=admin, project=template, code="T1", name="T1",
                                 original_duration_hours=8.0)
    pipeline = factories.pipeline(session, name="Sales")
    session.commit()
    return {"root": root, "branch": branch, "other": other, "seller": seller, "account": account,
            "template": template, "pipeline": pipeline}


def test_a_second_win_with_a_template_is_refused_in_russian_and_changes_nothing(pages, session, admin, sales):
    deal = factories.deal(session, actor=admin, account=sales["account"], pipeline=sales["pipeline"],
                          stage="Negotiation")
    session.commit()
    stages = {stage.name: stage.id for stage in sales["pipeline"].stages}
    pages.log_in_as(sales["seller"])
    path = f"/crm/deals/{deal.id}/stage"
    template = str(sales["template"].id)
    assert pages.post(path, {"stage_id": stages["Won"], "template_project_id": template}).status_code == 303
    assert pages.post(path, {"stage_id": stages["Negotiation"]}).status_code == 303
    refused = pages.post(path, {"stage_id": stages["Won"], "template_project_id": template},
                         headers={"Referer": f"http://localhost/crm/deals/{deal.id}"})
    assert refused.status_code == 303
    shown = _flashes(pages.get(f"/crm/deals/{deal.id}"))
    assert any("передана в исполнение при первой победе" in text for text in shown), shown
    session.expire_all()
    assert session.get(Deal, deal.id).stage.name == "Negotiation"
    assert session.scalar(select(func.count()).select_from(Activity)
                          .where(Activity.project_id == deal.project_id)) == 1


def test_the_seller_a_lead_was_routed_to_qualifies_it_into_a_new_account(pages, session, admin, sales):
    from accounts import leads as lead_services
    from accounts import routing
    from accounts.models import Account, Lead, LeadStatus

    team = factories.team(session, members=[sales["seller"]])
    routing.create_rule(session, actor=admin, name="Desk A", team=team, members=[{"user_id": sales["seller"].id}])
    lead = lead_services.create_lead(session, actor=admin, region=sales["branch"], company="Gamma Foods",
                                     contact_name="Ivan Petrov", product="ERP")
    assert routing.route_lead(session, actor=None, lead=lead).user_id == sales["seller"].id
    session.commit()
    pages.log_in_as(sales["seller"])
    page = pages.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert 'data-action="qualify"' in page
    done = pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": sales["pipeline"].id,
                                                       "deal_name": "Gamma ERP", "amount": "1500",
                                                       "account_kind": "prospect"})
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    session.expire_all()
    qualified = session.get(Lead, lead.id)
    assert qualified.status is LeadStatus.qualified
    account = session.get(Account, qualified.account_id)
    assert account.name == "Gamma Foods" and account.region_node_id == sales["branch"].id


def test_a_refused_qualify_form_comes_back_as_typed_with_the_reason_in_russian(pages, session, admin, sales):
    from accounts import leads as lead_services
    from accounts.models import Lead, LeadStatus

    nameless = lead_services.create_lead(session, actor=admin, region=sales["branch"], email="someone@mail.example")
    # The lead comes from a client on branch B, which the seller may read but not change.
    factories.grant(session, actor=admin, role=Role.viewer, target=sales["other"], user=sales["seller"])
    factories.account(session, actor=admin, region=sales["other"], name="Beta Client", tax_id="7707083893")
    theirs = lead_services.create_lead(session, actor=admin, region=sales["branch"], company="Beta Client",
                                       tax_id="7707083893")
    session.commit()
    pages.log_in_as(sales["seller"])
    typed = {"pipeline_id": sales["pipeline"].id, "deal_name": "Typed deal name", "amount": "1234.50",
             "expected_close": "2027-03-15", "account_kind": "client"}
    for lead, status, reason in ((nameless, 422, "В лиде не указана компания"),
                                 (theirs, 403, "нужны права «правка»")):
        refused = pages.post(f"/crm/leads/{lead.id}/qualify", typed)
        assert refused.status_code == status
        body = refused.get_data(as_text=True)
        assert any(reason in text for text in _flashes(refused)), _flashes(refused)
        form = body.split('data-action="qualify"')[1].split("</form>")[0]
        assert 'value="Typed deal name"' in form and "1234" in form and 'value="2027-03-15"' in form
        session.expire_all()
        assert session.get(Lead, lead.id).status is LeadStatus.new


def test_the_inbox_shows_unassigned_leads_with_the_routing_reason(pages, session, admin, sales, api_client):
    from datetime import timedelta

    from accounts import routing
    from crmpm.database import utcnow

    away = factories.user(session, name="Absent Anna")
    team = factories.team(session, members=[away])
    routing.create_rule(session, actor=admin, name="Desk A", team=team, members=[{"user_id": away.id}])
    routing.create_absence(session, actor=admin, user=away, starts_at=utcnow() - timedelta(hours=1),
                           ends_at=utcnow() + timedelta(days=3))
    session.commit()
    created = api_client.post("/api/v1/leads", json={"region_node_id": sales["branch"].id, "company": "Queued Co",
                                                     "route": True},
                              headers={"Authorization": f"Bearer {factories.token(session, user=admin)}"})
    assert created.status_code == 201, created.get_json()
    lead_id = created.get_json()["id"]

    pages.log_in_as(sales["seller"])
    inbox = pages.get("/crm/leads?scope=queue").get_data(as_text=True)
    assert "Без исполнителя" in inbox  # the tab
    row = re.search(rf'<tr data-lead="{lead_id}">(.*?)</tr>', inbox, re.S).group(1)
    assert "Queued Co" in row and "data-queue-reason" in row
    assert "Desk A: подходят 1, доступны 0, ни у кого нет свободной ёмкости" in html.unescape(row)
    page = html.unescape(pages.get(f"/crm/leads/{lead_id}").get_data(as_text=True))
    assert "Ждёт исполнителя: Desk A: подходят 1" in page
    # Someone outside the branch sees neither the lead nor its reason.
    outsider = factories.user(session)
    session.commit()
    assert "Queued Co" not in pages.log_in_as(outsider).get("/crm/leads?scope=queue").get_data(as_text=True)


@pytest.fixture
def api_client(app):
    return app.test_client()


def test_after_a_handover_the_deputys_deal_list_shows_the_handed_over_deal(pages, session, admin, sales):
    from datetime import timedelta

    from accounts import routing
    from crmpm.database import utcnow

    deputy = factories.user(session, name="Dmitri Deputy")
    deal = factories.deal(session, actor=admin, account=sales["account"], pipeline=sales["pipeline"],
                          owner=sales["seller"])
    deal.project.name = "Alpha rollout"
    absence = routing.create_absence(session, actor=admin, user=sales["seller"], deputy=deputy,
                                     starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=2))
    session.commit()
    pages.log_in_as(deputy)
    assert "Alpha rollout" not in pages.get("/crm/deals").get_data(as_text=True)
    routing.process_handovers(session)
    session.commit()
    assert "Alpha rollout" in pages.get("/crm/deals").get_data(as_text=True)
    assert pages.get(f"/crm/deals/{deal.id}").status_code == 200
    routing.give_back(session, actor=None, absence=absence)
    session.commit()
    assert "Alpha rollout" not in pages.get("/crm/deals").get_data(as_text=True)
    assert pages.get(f"/crm/deals/{deal.id}").status_code == 404
