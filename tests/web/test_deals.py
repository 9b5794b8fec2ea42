"""The deal list (filters, sorting, pages, CSV) and the deal page (history, edits, rights)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from accounts.models import Deal
from tests import factories
from tests.web.test_pipeline import crm_world  # noqa: F401 - fixture

D = Decimal


def _row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-deal="(\d+)"', html)]


def test_the_list_filters_and_sorts(pages, crm_world):
    pages.log_in_as(crm_world["editor"])
    made = crm_world["deals"]
    everything = _row_ids(pages.get("/crm/deals").get_data(as_text=True))
    assert everything == sorted((d.id for d in made), reverse=True)  # newest first; B's deal is not readable
    won = _row_ids(pages.get("/crm/deals?status=won").get_data(as_text=True))
    assert won == [d.id for d in made if d.stage.name == "Won"]
    proposal = made[1].stage_id
    assert set(_row_ids(pages.get(f"/crm/deals?stage={proposal}").get_data(as_text=True))) == {
        d.id for d in made if d.stage_id == proposal}
    viewer_id = crm_world["viewer"].id
    assert _row_ids(pages.get(f"/crm/deals?owner={viewer_id}").get_data(as_text=True)) == [
        d.id for d in made if d.owner_id == viewer_id]
    assert _row_ids(pages.get(f"/crm/deals?q={made[4].project.code}").get_data(as_text=True)) == [made[4].id]
    by_amount = _row_ids(pages.get("/crm/deals?sort=-amount").get_data(as_text=True))
    assert by_amount == [d.id for d in sorted(made, key=lambda d: (-d.amount, -d.id))]
    account = crm_world["account_a"].id
    assert len(_row_ids(pages.get(f"/crm/deals?account={account}").get_data(as_text=True))) == len(made)
    # Nonsense in the query string is ignored, never an error.
    assert pages.get("/crm/deals?status=nope&sort=drop&stage=x&owner=99999999999").status_code == 200


def test_the_list_comes_in_pages(pages, session, crm_world, admin):
    for _n in range(55):
        factories.deal(session, actor=admin, account=crm_world["account_a"], pipeline=crm_world["pipeline"])
    session.commit()
    pages.log_in_as(admin)
    total = len(crm_world["deals"]) + 1 + 55
    first = pages.get("/crm/deals").get_data(as_text=True)
    assert len(_row_ids(first)) == 50 and f"of {total}" in first
    second = pages.get("/crm/deals?page=2").get_data(as_text=True)
    assert len(_row_ids(second)) == total - 50
    assert not set(_row_ids(first)) & set(_row_ids(second))


def test_csv_holds_the_filtered_list(pages, session, crm_world, admin):
    crm_world["deals"][0].project.name = "=HYPERLINK(1)"
    session.commit()
    response = pages.log_in_as(crm_world["editor"]).get("/crm/deals.csv?status=open&sort=amount")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = sorted((d for d in crm_world["deals"] if d.stage.kind.value == "open"), key=lambda d: (d.amount, -d.id))
    assert [int(row["id"]) for row in rows] == [d.id for d in expected]
    first = next(row for row in rows if int(row["id"]) == crm_world["deals"][0].id)
    assert first["name"] == "'=HYPERLINK(1)" and first["account"] == "Alpha Works"
    proposal = next(row for row in rows if int(row["id"]) == crm_world["deals"][2].id)
    assert D(proposal["weighted_amount"]) == D("360.00")  # 400 × its own 90 %
    assert "Secret turbine deal" not in response.get_data(as_text=True)


def test_the_deal_page_shows_the_deal_its_history_and_edit_controls(pages, session, crm_world, admin):
    deal = crm_world["deals"][1]
    factories.move(session, actor=crm_world["editor"], deal=deal, stage="Negotiation")
    session.commit()
    body = pages.log_in_as(crm_world["editor"]).get(f"/crm/deals/{deal.id}").get_data(as_text=True)
    assert deal.project.name in body and "Alpha Works" in body and "Eda Editor" in body
    assert "2,500.50" in body and "1,750.35" in body  # weighted at Negotiation's 70 %
    history = body.split("Stage history")[1]
    assert history.index("Negotiation") < history.index("Proposal")  # newest first
    assert "Admin" in history and "Eda Editor" in history
    assert f'action="/crm/deals/{deal.id}"' in body and f'action="/crm/deals/{deal.id}/stage"' in body


def test_a_read_only_user_sees_the_deal_without_controls_and_cannot_edit(pages, session, crm_world):
    deal = crm_world["deals"][2]
    pages.log_in_as(crm_world["viewer"])
    body = pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True)
    assert deal.project.name in body
    assert f'action="/crm/deals/{deal.id}"' not in body and f'action="/crm/deals/{deal.id}/stage"' not in body
    response = pages.post(f"/crm/deals/{deal.id}", {"name": "Mine now", "amount": "1"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Deal, deal.id).amount == D("400.00")


def test_someone_without_rights_gets_404_and_no_data(pages, crm_world):
    secret = crm_world["secret"]
    for user in (crm_world["outsider"], crm_world["editor"]):
        pages.log_in_as(user)
        response = pages.get(f"/crm/deals/{secret.id}")
        assert response.status_code == 404 and "Secret turbine deal" not in response.get_data(as_text=True)
        assert secret.id not in _row_ids(pages.get("/crm/deals").get_data(as_text=True))
        assert pages.post(f"/crm/deals/{secret.id}", {"name": "x", "amount": "1"}).status_code == 404
    assert pages.get("/crm/deals/999999").status_code == 404


def test_editing_a_deal(pages, session, crm_world):
    deal = crm_world["deals"][0]
    viewer = crm_world["viewer"]
    pages.log_in_as(crm_world["editor"])
    response = pages.post(f"/crm/deals/{deal.id}", {"name": "Alpha: new plant", "amount": "1 234 567,89",
                                                    "expected_close": "2027-03-31", "owner_id": str(viewer.id)})
    assert response.status_code == 303 and response.location == f"/crm/deals/{deal.id}"
    session.expire_all()
    changed = session.get(Deal, deal.id)
    assert (changed.project.name, changed.amount, changed.expected_close, changed.owner_id) == (
        "Alpha: new plant", D("1234567.89"), date(2027, 3, 31), viewer.id)


def test_bad_input_on_the_deal_form_changes_nothing(pages, session, crm_world):
    deal = crm_world["deals"][0]
    pages.log_in_as(crm_world["editor"])
    origin = {"Referer": f"http://localhost/crm/deals/{deal.id}"}
    for data in ({"name": "x", "amount": "-5"}, {"name": "", "amount": "5"}, {"name": "x", "amount": "abc"},
                 {"name": "x", "amount": "5", "expected_close": "31.02.2027"},
                 {"name": "x", "amount": "5", "owner_id": "999999"}, {"name": "x", "amount": "5", "owner_id": "zz"}):
        response = pages.post(f"/crm/deals/{deal.id}", data, headers=origin)
        assert response.status_code == 303 and response.location == f"/crm/deals/{deal.id}"
        assert "flash-error" in pages.get(response.location).get_data(as_text=True)
    assert pages.post(f"/crm/deals/{deal.id}", {"name": "x", "amount": "5"}, csrf=False).status_code == 400
    session.expire_all()
    unchanged = session.get(Deal, deal.id)
    assert unchanged.amount == D("1000.00") and unchanged.project.name != "x"


def test_a_deal_won_from_its_page_takes_its_plan_from_the_chosen_template(pages, session, crm_world, admin):
    from sqlalchemy import func, select

    from wbs import services as wbs_services
    from wbs.models import Activity

    template = factories.project(session, actor=admin, node=crm_world["A"], code="TPL-ERP")
    element = wbs_services.create_element(session, actor=admin, project=template, code="1", name="Rollout")
    for code in ("T1", "T2", "T3"):
        wbs_services.create_activity(session, actor=admin, project=template, code=code, name=code,
                                     wbs_element_id=element.id, original_duration_hours=16.0)
    hidden = factories.project(session, actor=admin, node=crm_world["B"], code="TPL-SECRET")
    wbs_services.create_activity(session, actor=admin, project=hidden, code="S1", name="S1",
                                 original_duration_hours=8.0)
    session.commit()
    deal = crm_world["deals"][3]  # Negotiation, editable by the editor
    pages.log_in_as(crm_world["editor"])
    page = pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True)
    offered = re.findall(r'<option value="(\d+)">([A-Z0-9-]+) ·', page.split('name="template_project_id"')[1])
    assert [code for _id, code in offered] == ["TPL-ERP"]  # readable, with a plan; not the secret one

    def activities_of(project_id):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project_id))

    def stage_of(deal_id):
        session.expire_all()
        return session.get(Deal, deal_id).stage.name

    won = {s.name: s.id for s in crm_world["pipeline"].stages}["Won"]
    # A template is for a win only: moving elsewhere with one is refused and changes nothing.
    refused = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": {s.name: s.id for s in
                                                                     crm_world["pipeline"].stages}["Proposal"],
                                                        "template_project_id": str(template.id)},
                         headers={"Referer": f"http://localhost/crm/deals/{deal.id}"})
    assert refused.status_code == 303 and activities_of(deal.project_id) == 0
    assert stage_of(deal.id) == "Negotiation"
    # A project the editor may not read is no template: 404, and the deal stays as it was.
    assert pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": won,
                                                      "template_project_id": str(hidden.id)}).status_code == 404
    assert stage_of(deal.id) == "Negotiation"
    assert pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": won, "template_project_id": "x1"},
                      headers={"Referer": "http://localhost/"}).status_code == 303
    assert stage_of(deal.id) == "Negotiation"
    moved = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": won, "template_project_id": str(template.id)})
    assert moved.status_code == 303
    assert stage_of(deal.id) == "Won"
    assert activities_of(deal.project_id) == 3
    # Won, with a plan: no template offered any more.
    assert 'name="template_project_id"' not in pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True)
