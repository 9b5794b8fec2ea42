"""A won deal is handed over to execution once: winning it again after a reopening repeats nothing."""

from decimal import Decimal

from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from eps import budgets
from eps.models import Project
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures
from wbs import services as wbs_services
from wbs.models import Activity

D = Decimal


def _template(session, admin, node):
    template = factories.project(session, actor=admin, node=node, code="TPL-ONCE")
    for code in ("DESIGN", "BUILD"):
        wbs_services.create_activity(session, actor=admin, project=template, code=code, name=code,
                                     original_duration_hours=8.0)
    return template


def test_winning_a_deal_again_keeps_the_plan_and_budget_of_its_first_win(api, session, admin, crm):
    account = crm["A"]["account"]
    for node in (crm["root"], crm["A"]["branch"], account.eps_node):
        budgets.set_original(session, actor=admin, obj=node, amount=D("10000.00"))
    template = _template(session, admin, crm["A"]["branch"])
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], amount="2500.00")
    session.commit()
    path = f"/api/v1/deals/{deal.id}/stage"

    def activities():
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == deal.project_id))

    def budget():
        session.expire_all()
        return session.get(Project, deal.project_id).original_budget

    first = api.post(path, user=admin, json={"stage": "Won", "template_project_id": template.id})
    assert first.status_code == 200, first.json
    assert activities() == 2 and budget() == D("2500.00")
    # Finance settles the budget after the win; the deal is reopened and won again.
    budgets.set_original(session, actor=admin, obj=session.get(Project, deal.project_id), amount=D("3100.00"))
    session.commit()
    assert api.post(path, user=admin, json={"stage": "Negotiation"}).status_code == 200
    again = api.post(path, user=admin, json={"stage": "Won"})
    assert again.status_code == 200, again.json
    assert budget() == D("3100.00") and activities() == 2
    notes = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "won", AuditEntry.entity_id == deal.id,
                                                           AuditEntry.entity_type == "deals")
                            .order_by(AuditEntry.id)).all()
    assert [note["budget_set"] for note in notes] == [True, False]
    assert "first win" in notes[1]["note"]

    # A template with a second win would be a second plan: refused, and the deal stays where it was.
    assert api.post(path, user=admin, json={"stage": "Negotiation"}).status_code == 200
    refused = api.post(path, user=admin, json={"stage": "Won", "template_project_id": template.id})
    assert refused.status_code == 409
    assert refused.json["errors"] == {"template_project_id": ["already handed over"]}
    assert "first won" in refused.json["message"]
    assert api.get(f"/api/v1/deals/{deal.id}", user=admin).json["stage"] == "Negotiation"
    assert activities() == 2
