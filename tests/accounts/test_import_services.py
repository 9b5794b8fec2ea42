"""The service functions the CSV import relies on: accounts found by name, leads qualified into imported deals."""

from datetime import datetime, timezone

from sqlalchemy import select

from accounts import leads, services
from accounts.models import LeadStatus
from crmpm.audit.models import AuditEntry
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixtures

WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=timezone.utc)


def test_an_account_is_found_by_its_exact_name_oldest_first_and_only_where_the_user_may_read(session, crm):
    admin = crm["admin"]
    older = crm["A"]["account"]
    factories.account(session, actor=admin, region=crm["A"]["branch"], name="Client A")
    seller = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=seller)
    session.commit()

    assert services.find_account_named(session, user=admin, name="Client A") == older
    assert services.find_account_named(session, user=admin, name="client a") is None
    assert services.find_account_named(session, user=seller, name="Client A") == older
    assert services.find_account_named(session, user=seller, name="Client B") is None
    assert services.find_account_named(session, user=admin, name="Client B") == crm["B"]["account"]


def test_leads_are_marked_qualified_into_the_deals_made_for_them_with_one_audit_entry_each(session, crm):
    admin, account, contact = crm["admin"], crm["A"]["account"], crm["A"]["contact"]
    first, second = (leads.create_lead(session, actor=admin, region=crm["A"]["branch"], company=f"Lead {n}")
                     for n in (1, 2))
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"])

    leads.record_qualified_many(session, actor=admin, qualified=[(first, deal.id, account, contact, WHEN),
                                                                  (second, deal.id, account, None, WHEN)])

    for lead, contact_id in ((first, contact.id), (second, None)):
        assert (lead.status, lead.deal_id, lead.account_id, lead.contact_id) == (
            LeadStatus.qualified, deal.id, account.id, contact_id)
        assert lead.qualified_at.replace(tzinfo=timezone.utc) == WHEN
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "leads",
                                                         AuditEntry.entity_id == lead.id,
                                                         AuditEntry.action == "qualify")).one()
        assert entry.before["status"] == "new" and entry.after["deal_id"] == deal.id


def test_an_inactive_lead_owner_is_refused_on_its_line_and_column(session, crm, tmp_path):
    from accounts.imports import import_csv
    from crmpm.users import services as users

    admin = crm["admin"]
    gone = factories.user(session, email="gone@example.test")
    users.update(session, actor=admin, user=gone, is_active=False)
    session.commit()
    csv_path, mapping_path = tmp_path / "leads.csv", tmp_path / "leads.json"
    csv_path.write_text("id,company,owner\nL1,Pumps Ltd,gone@example.test\n", encoding="utf-8")
    mapping_path.write_text('{"columns": {"id": "external_id", "company": "company", "owner": "owner"}, '
                            '"defaults": {"region": "A"}}', encoding="utf-8")

    report = import_csv(session, actor=admin, kind="leads", path=csv_path, mapping=mapping_path)

    assert [(error.line, error.column, error.reason) for error in report.errors] == [
        (2, "owner", "user gone@example.test is inactive")]
    assert not report.committed
