"""The codes crmpm makes up for an account's node and a deal's project read as the name (``crmpm.codes``)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from accounts import deals, services
from accounts.models import Deal
from eps import services as eps_services
from eps.models import EpsNode, Project
from tests import factories


def _world(session):
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="BR")
    return admin, branch, factories.pipeline(session)


def test_an_account_without_a_code_gets_its_node_code_from_the_name(session):
    admin, branch, _pipeline = _world(session)
    first = services.create_account(session, actor=admin, name="Ладога Порт", region=branch)
    second = services.create_account(session, actor=admin, name="ООО «Ладога Порт»", region=branch)
    assert first.eps_node.code == "LADOGA-PORT"
    assert second.eps_node.code == "LADOGA-PORT-2"


def test_a_deal_without_a_code_gets_its_project_code_from_the_name(session):
    admin, branch, pipeline = _world(session)
    account = factories.account(session, actor=admin, region=branch, name="Client")
    factories.project(session, actor=admin, node=branch, code="POSTAVKA-KRANOV")
    deal = deals.create_deal(session, actor=admin, account=account, name="Поставка кранов", pipeline=pipeline,
                             amount=Decimal("10.00"))
    assert session.get(Project, deal.project_id).code == "POSTAVKA-KRANOV-2"


def test_deals_created_in_bulk_get_distinct_codes_from_their_names(session):
    admin, branch, pipeline = _world(session)
    account = factories.account(session, actor=admin, region=branch, name="Client")
    factories.project(session, actor=admin, node=branch, code="KHIMPROM")
    new = [deals.check_new_deal(session, actor=admin, account=account, name=name, pipeline=pipeline,
                                amount=Decimal("1.00"))
           for name in ("Химпром", "Химпром", "Жилстрой-Юг")]
    ids = deals.create_deals(session, actor=admin, pipeline=pipeline, new=new)
    codes = session.scalars(select(Project.code).join(Deal, Deal.project_id == Project.id)
                            .where(Deal.id.in_(ids)).order_by(Deal.id)).all()
    assert codes == ["KHIMPROM-2", "KHIMPROM-3", "ZHILSTROY-YUG"]


def test_many_names_at_once_read_the_table_once_and_stay_distinct(session):
    admin, branch, _pipeline = _world(session)
    factories.node(session, actor=admin, parent=branch, code="CHAYKA")
    names = ["Чайка"] * (eps_services.BULK_CODES + 1)
    codes = eps_services.unused_codes(session, model=EpsNode, names=names)
    assert codes[:3] == ["CHAYKA-2", "CHAYKA-3", "CHAYKA-4"] and len(set(codes)) == len(names)


def test_past_the_first_ten_candidates_the_next_free_suffix_is_still_found(session):
    admin, branch, _pipeline = _world(session)
    for code in ["LADOGA"] + [f"LADOGA-{n}" for n in range(2, 12)]:
        factories.node(session, actor=admin, parent=branch, code=code)
    assert eps_services.unused_code(session, model=EpsNode, name="Ладога") == "LADOGA-12"
    assert eps_services.unused_code(session, model=Project, name="Ладога") == "LADOGA"  # each table its own
