"""Importing deals: new ones checked row by row and written a thousand at a time, known ones through the service.

The deal's contact is the ``contact`` column (an external id), else the contact
named ``contact_name`` with the phone ``contact_phone`` or the e-mail
``contact_email`` among theirs (``services.find_contact_named``: every word of the
name in the contact's name, so "Иванов Иван" finds "Иван Иванович Иванов").

The account of a deal is the ``account`` column, else the contact's account (a
company, or a private client's own account), else through the ``lead``: the
account it was qualified into, the account of the contact with the lead's email
or phone, the oldest account named like the lead's company, or a new (prospect)
account of that name on the lead's branch; else, for a row naming a person
(``contact_name``) but no company, a new private client (B2C) on the row's
``region`` (``services.create_private_client``: the contact with a person
account of their own, named after them). With none of these the row is an error.
A deal imported from a lead qualifies that lead (``accounts.leads.record_qualified``:
links account, contact and deal).

Each row lands in its pipeline (``accounts.imports.pipeline``: a ``pipeline``
column splits a file into several). Rows repeating a deal are folded into its
first row before (``accounts.imports.repeats``); their product lines become the
deal's ``lines`` (its amount, when the file gives none, is their total). A new
deal's stage history opens at the file's stage (``rules.opening_history``): the
funnel counts it from there, not through stages the file does not show.

New deals, the bulk of a large import, are checked with ``deals.check_new_deal``
(the rules of ``create_deal``) and written ``DEAL_CHUNK`` at a time by
``deals.create_deals``; if a batch breaks a database rule, it is redone row by row
through ``upsert_deal`` to name the row. A known deal whose row holds nothing new
is counted unchanged without a service call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crmpm.database import roll_back_savepoint
from crmpm.errors import CrmpmError
from eps.models import EpsNode, Project

from accounts import deals as deal_services
from accounts import leads, services
from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.pipeline import pipeline_name, prepare_pipelines
from accounts.imports.report import RowRefused
from accounts.models import Account, Contact, Deal, Lead, Pipeline, PipelineStage, StageKind
from accounts.names import split_full_name

PRELOAD = [(Deal, "external_id"), (Account, "account"), (Contact, "contact"), (Lead, "lead")]
NOT_STORED: set[str] = set()
DEAL_CHUNK = 1000  # new deals written per batch of statements
# Row fields a deal takes as they are (row field -> deal field).
_PLAIN = (("amount", "amount"), ("currency", "currency"), ("expected_close", "expected_close"),
          ("engaged_at", "created_at"), ("closed_at", "closed_at"))


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the deal rows: the pipeline first, then the rows a chunk at a time."""
    _DealRows(job, records).run(records, progress)


class _DealRows:
    """The pipeline and stages of a deals file, and the edit rights checked so far (per account)."""

    def __init__(self, job: ImportJob, records: list[Record]) -> None:
        self.job = job
        self.refs = job.refs
        self.pipelines = prepare_pipelines(job, records)
        self.rights: dict[int, CrmpmError | None] = {}
        # The accounts' nodes (rights checks, new projects) and the deals' projects (names), read up front.
        self.refs.hold(EpsNode, (account.eps_node_id for account in self.refs.found(Account)))
        self.refs.hold(Project, (deal.project_id for deal in self.refs.found(Deal)))

    def run(self, records: list[Record], progress: Progress) -> None:
        """New deals are checked row by row, then written a chunk at a time; known ones go through upsert_deal."""
        job = self.job
        for start in range(0, len(records), DEAL_CHUNK):
            pending: list[tuple[Record, deal_services.NewDeal, Lead | None, Pipeline]] = []
            for record in records[start:start + DEAL_CHUNK]:
                fields = record.fields
                if record.external_id is not None and self.refs.external(Deal, record.external_id) is None:
                    # Only a placeholder account (found through a lead) or a new private client is written
                    # before the chunk.
                    writes = fields.get("account") is None and fields.get("contact") is None
                    job.run_row(record, lambda row: self.plan(row, pending), savepoint=writes)
                elif self.unchanged(record):
                    job.report.unchanged += 1  # the common re-import: nothing to check or write
                else:
                    job.run_row(record, self.import_deal)
                if progress is not None:
                    progress(1)
            self.write(pending)

    def pipeline(self, record: Record) -> tuple[Pipeline, dict[str, PipelineStage]]:
        """The pipeline the row lands in, and its stages by lower-case name."""
        return self.pipelines[pipeline_name(self.job, record)]

    def stage(self, record: Record) -> tuple[Pipeline, PipelineStage]:
        """The row's pipeline and its stage named in the row; refused when there is none."""
        pipeline, stages = self.pipeline(record)
        value = record.fields["stage"]
        stage = stages.get(" ".join(value.split()).casefold())
        if stage is None:
            raise RowRefused("stage", f"{value!r} is not a stage of pipeline {pipeline.name}")
        return pipeline, stage

    def unchanged(self, record: Record) -> bool:
        """Whether a known deal already holds every value of the row (then the row needs no service call)."""
        fields = record.fields
        deal = self.refs.external(Deal, record.external_id) if record.external_id is not None else None
        pipeline, stages = self.pipeline(record)
        stage = stages.get(" ".join((fields.get("stage") or "").split()).casefold())
        if deal is None or stage is None or deal.stage_id != stage.id or deal.project.name != fields["title"]:
            return False
        if deal.pipeline_id != pipeline.id:
            return False
        if "lines" in fields and _lines_of(deal) != fields["lines"]:
            return False
        for name in ("amount", "currency", "expected_close"):
            if fields.get(name) is not None and getattr(deal, name) != fields[name]:
                return False
        if self.job.given(fields, "product") and deal.product != (fields["product"] or ""):
            return False
        if self.job.given(fields, "owner"):
            try:
                owner = self.refs.user(fields["owner"])
            except RowRefused:
                return False
            if (owner.id if owner else None) != deal.owner_id:
                return False
        if fields.get("lead") is not None:
            lead = self.refs.external(Lead, fields["lead"])
            if lead is None or lead.deal_id is None:
                return False
        return True

    @staticmethod
    def values(fields: dict, stage: PipelineStage) -> dict[str, Any]:
        """The plain deal fields the row gives, and the reason of a lost deal."""
        values = {key: fields[name] for name, key in _PLAIN if fields.get(name) is not None}
        if stage.kind is StageKind.lost and fields.get("lost_reason"):
            values["lost_reason"] = fields["lost_reason"]
        return values

    def plan(self, record: Record, pending: list) -> None:
        """Check a new deal (the rules of ``create_deal``) and queue it for the chunk's ``write``."""
        fields = record.fields
        pipeline, stage = self.stage(record)
        owner = self.refs.user(fields["owner"]) if self.job.given(fields, "owner") else None
        account, contact, lead = self.account_of(fields, owner)
        new = deal_services.check_new_deal(
            self.job.session, actor=self.job.actor, account=account, name=fields["title"], pipeline=pipeline,
            stage=stage, owner=owner, contact=contact, product=fields.get("product") or "",
            lines=fields.get("lines"), external_id=record.external_id, rights=self.rights,
            **self.values(fields, stage))
        pending.append((record, new, lead, pipeline))

    def write(self, pending: list) -> None:
        """Write the chunk's new deals and qualify their leads; on a database refusal, redo it row by row."""
        if not pending:
            return
        job = self.job
        savepoint = job.session.begin_nested()
        try:
            # create_deals writes one pipeline's deals at a time; a file with a pipeline column has several.
            by_pipeline: dict[int, list] = {}
            for item in pending:
                by_pipeline.setdefault(item[3].id, []).append(item)
            pending = [item for items in by_pipeline.values() for item in items]
            ids = [deal_id for items in by_pipeline.values() for deal_id in deal_services.create_deals(
                job.session, actor=job.actor, pipeline=items[0][3], new=[item[1] for item in items])]
            qualified, leads_seen = [], set()
            for (_record, new, lead, _pipeline), deal_id in zip(pending, ids):
                # A lead named by two rows qualifies into the first of them.
                if lead is not None and lead.deal_id is None and lead.id not in leads_seen:
                    leads_seen.add(lead.id)
                    qualified.append((lead, deal_id, new.account, new.contact, new.created_at))
            leads.record_qualified_many(job.session, actor=job.actor, qualified=qualified)
            job.session.flush()
        except (CrmpmError, SQLAlchemyError):
            # Some row breaks a database rule the checks do not see: redo the chunk row by row to name it.
            roll_back_savepoint(savepoint)  # create_deals wrote its rows by Core statements
            for record, *_planned in pending:
                job.run_row(record, self.import_deal)
            return
        savepoint.commit()
        job.report.created += len(pending)

    def import_deal(self, record: Record) -> str:
        """Create or update one deal through ``upsert_deal``, and qualify the lead it came from."""
        fields = record.fields
        external_id = self.job.need_external_id(record)
        pipeline, stage = self.stage(record)
        existing = self.refs.own(Deal, external_id, "deal")
        owner = self.refs.user(fields["owner"]) if self.job.given(fields, "owner") else None
        account, contact, lead = (existing.account, None, None) if existing is not None and not (
            fields.get("lead")) else self.account_of(fields, owner)
        values = self.values(fields, stage)
        if self.job.given(fields, "product"):
            values["product"] = fields["product"] or ""
        if self.job.given(fields, "owner"):
            values["owner"] = owner
        if "lines" in fields:
            values["lines"] = fields["lines"]
        if existing is None:
            deal = self._create(external_id, account, contact, fields["title"], pipeline, stage, values)
            outcome = "created"
        else:
            deal, outcome = existing, self._update(existing, account, fields["title"], pipeline, stage, values)
        if lead is not None and lead.deal_id is None:
            leads.record_qualified(self.job.session, actor=self.job.actor, lead=lead, deal_id=deal.id,
                                   account=account, contact=contact, at=deal.created_at)
        return outcome

    def _create(self, external_id: str, account: Account, contact: Contact | None, name: str,
                pipeline: Pipeline, stage: PipelineStage, values: dict) -> Deal:
        if contact is not None:
            values["contact"] = contact
        deal, _created = deal_services.upsert_deal(self.job.session, actor=self.job.actor, external_id=external_id,
                                                   account=account, name=name, pipeline=pipeline, stage=stage,
                                                   **values)
        self.job.remember(Deal, external_id, deal)
        return deal

    def _update(self, deal: Deal, account: Account, name: str, pipeline: Pipeline, stage: PipelineStage,
                values: dict) -> str:
        before = (deal.audit_state(), deal.project.name, _lines_of(deal))
        owner = values.pop("owner", None)
        if owner is not None and owner.id != deal.owner_id:
            deal_services.update_deal(self.job.session, actor=self.job.actor, deal=deal, owner=owner)
        lines = values.pop("lines", None)
        if lines is not None and lines != _lines_of(deal):
            deal_services.update_deal(self.job.session, actor=self.job.actor, deal=deal, lines=lines)
        deal_services.upsert_deal(self.job.session, actor=self.job.actor, external_id=deal.external_id,
                                  account=account, name=name, pipeline=pipeline, stage=stage, **values)
        after = (deal.audit_state(), deal.project.name, _lines_of(deal))
        return "unchanged" if after == before else "updated"

    def account_of(self, fields: dict, owner=None) -> tuple[Account, Contact | None, Lead | None]:
        """The deal's account, with the row's contact (if at that account) and lead; refused when none is found."""
        contact = self.refs.referenced(Contact, "contact", fields.get("contact"), "contact")
        if contact is None:
            contact = self._contact_named(fields)
        lead = self.refs.referenced(Lead, "lead", fields.get("lead"), "lead")
        account = self.refs.account(fields.get("account"))
        if account is None and contact is not None:
            account = contact.account
        if account is None and lead is not None:
            account, contact = self._lead_account(lead, fields)
        if account is None and fields.get("contact_name") and lead is None:
            contact = self._private_client(fields, owner)
            account = contact.account
        if account is None:
            which = "lead" if lead is not None else "account"
            raise RowRefused(which, "no account: name one (account), a contact (contact, or contact_name with "
                                    "its phone or e-mail), a lead it can be found through, or a person "
                                    "(contact_name) with a region for a private client")
        if contact is not None and contact.account_id != account.id:
            contact = None
        return account, contact, lead

    def _contact_named(self, fields: dict) -> Contact | None:
        """The readable contact named ``contact_name`` with the row's phone or e-mail, if any."""
        name, phone, email = fields.get("contact_name"), fields.get("contact_phone"), fields.get("contact_email")
        if not name or not (phone or email):
            return None
        return services.find_contact_named(self.job.session, user=self.job.actor, name=name, email=email,
                                           phone=phone.e164 if phone else None)

    def _private_client(self, fields: dict, owner) -> Contact:
        """A new private client for the row's person (``contact_name``), on the row's branch (``region``)."""
        if fields.get("region") is None:
            raise RowRefused("contact_name", f"{fields['contact_name']!r} is no contact you may read (looked up by "
                                             "name with the row's phone or e-mail); to make a private client of "
                                             "the person, give the branch (a region column or default)")
        person = split_full_name(fields["contact_name"])
        phone = fields.get("contact_phone")
        return services.create_private_client(
            self.job.session, actor=self.job.actor, region=self.refs.node(fields["region"]), first_name=person.first,
            last_name=person.last, patronymic=person.patronymic, owner=owner, email=fields.get("contact_email"),
            phone=phone.e164 if phone else None)

    def _lead_account(self, lead: Lead, fields: dict) -> tuple[Account | None, Contact | None]:
        """The account a lead leads to (see the module docstring), made when only its company is known;
        with the contact it was found through, if any."""
        session, refs = self.job.session, self.refs
        account = contact = None
        if lead.account_id is not None:
            account = session.get(Account, lead.account_id)
            account = account if account is not None and refs.readable(account) else None
        if account is None and (lead.email or lead.phone):
            contact = services.find_contact(session, email=lead.email, phone=lead.phone)
            contact = contact if contact is not None and refs.readable(contact.account) else None
            account = contact.account if contact is not None else None
        if account is None and lead.company:
            account = refs.account_named(lead.company)
        if account is None and lead.company:
            account = services.create_account(session, actor=self.job.actor, name=lead.company,
                                              region=lead.region_node, owner=refs.user(fields.get("owner")))
            # Findable at once, so the company's next deal finds it; forgotten if this row fails.
            refs.name_account(account, lead.company)
            self.job.on_undo(lambda: refs.forget_name(lead.company))
        return account, contact


def _lines_of(deal: Deal) -> list[dict]:
    """A deal's product lines as an import row gives them (``repeats.fold_repeats``)."""
    return [{"product": line.product, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in deal.lines]
