"""Changing deals: their sales fields, owner, contact, name and lines; and the import's update-or-create."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.errors import Invalid
from crmpm.users.models import User
from eps import services as eps_services
from eps.permissions import Permission

from accounts.deals import rules
from accounts.deals.create import create_deal
from accounts.deals.stages import move_stage
from accounts.models import Account, Deal, Pipeline, PipelineStage
from accounts.permissions import authorize_on

def update_deal(session: Session, *, actor: User, deal: Deal, **changes) -> Deal:
    """Change a deal's sales fields, owner, contact, name, lines or planned template (edit rights on its project;
    read rights on the template, a ``Project`` or None)."""
    authorize_on(session, user=actor, obj=deal, governed_by=deal.project, label="deal", permission=Permission.edit)
    before = deal.audit_state()
    previous_owner_id = deal.owner_id
    if "name" in changes:
        name = changes.pop("name").strip()
        if name != deal.project.name:
            eps_services.update_project(session, actor=actor, project=deal.project, name=name)
    if "owner" in changes:
        owner = changes.pop("owner")
        rules.check_values(owner=owner)
        deal.owner_id = owner.id if owner else None
    if "contact" in changes:
        contact = changes.pop("contact")
        rules.check_values(contact=contact, account=deal.account)
        deal.contact_id = contact.id if contact else None
    if "template" in changes:
        # The planned WBS template (the pipeline's demand for resources): a project the actor may read.
        template = changes.pop("template")
        if template is not None:
            authorize_on(session, user=actor, obj=template, governed_by=template, label="project",
                         permission=Permission.read)
            if template.id == deal.project_id:
                raise Invalid("a deal cannot be its own template", errors={"template_project_id": ["same project"]})
        deal.template_project_id = template.id if template is not None else None
    if "lines" in changes:
        deal.lines = rules.make_lines(changes.pop("lines") or [])
        if "amount" not in changes:
            deal.amount = rules.lines_total(deal.lines)
    unknown = set(changes) - set(rules.DEAL_FIELDS)
    if unknown:
        raise Invalid("unknown deal fields {fields}",
                      fields=sorted(unknown), errors={key: ["unknown field"] for key in unknown})
    rules.check_values(amount=changes.get("amount"), currency=changes.get("currency"),
                  probability=changes.get("probability"))
    for key, value in changes.items():
        setattr(deal, key, value.strip() if isinstance(value, str) and key != "currency" else value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=deal, before=before, after=deal.audit_state())
    if deal.owner_id != previous_owner_id:
        events.record(session, "deal.owner_changed", deal, {"owner_id": deal.owner_id,
                                                            "previous_owner_id": previous_owner_id,
                                                            "reason": "manual"}, actor=actor)
    return deal


def upsert_deal(session: Session, *, actor: User, external_id: str, account: Account, name: str,
                pipeline: Pipeline, stage: PipelineStage | None = None, **fields) -> tuple[Deal, bool]:
    """The deal with ``external_id``, updated (and moved to ``stage``), or a new one; True when created."""
    deal = session.scalar(select(Deal).where(Deal.external_id == external_id))
    if deal is None:
        return create_deal(session, actor=actor, account=account, name=name, pipeline=pipeline, stage=stage,
                           external_id=external_id, **fields), True
    fields.pop("created_at", None)
    closed_at = fields.pop("closed_at", None)
    lost_reason = fields.get("lost_reason", "")
    changed = {key: value for key, value in fields.items()
               if key in rules.DEAL_FIELDS and getattr(deal, key) != value}
    if name.strip() != deal.project.name:
        changed["name"] = name
    if changed:
        update_deal(session, actor=actor, deal=deal, **changed)
    if stage is not None and stage.id != deal.stage_id:
        move_stage(session, actor=actor, deal=deal, stage=stage, lost_reason=lost_reason or None, at=closed_at)
    return deal, False

