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
    return [html.unescape(text) for text in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>',
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
