"""The deal rules, as pure functions: what a new deal must satisfy, how its history opens, what a move changes.

No database here: every writer of deals (``create_deal``, the bulk ``create_deals``,
``move_stage``, the importer and the pages through them) asks these functions, so a
rule is stated once. The deal's effective probability has its homes on the model:
``Deal.effective_probability`` (Python) and ``accounts.models.effective_probability()``
(SQL); the furthest reached stage rebuilt in SQL is ``accounts.pipelines.recompute_reached``.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from crmpm.errors import Invalid
from crmpm.users.models import User

from accounts.models import Account, Contact, DealLine, Pipeline, PipelineStage, StageKind

__all__ = [
    "CURRENCY_RE", "DEAL_FIELDS", "ZERO", "History", "check_lost_reason", "check_stage_of", "check_values",
    "closed_at", "furthest", "lines_total", "make_lines", "opening_history", "reached_after", "reached_at_opening",
    "weighted_amount",
]

ZERO = Decimal("0.00")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# The sales fields ``update_deal`` changes directly.
DEAL_FIELDS = ("amount", "currency", "probability", "expected_close", "product", "next_step", "lost_reason")

# A deal's stage moves: (from stage or None at the opening, to stage, when).
History = list[tuple[PipelineStage | None, PipelineStage, datetime]]


def check_values(*, amount: Decimal | None = None, currency: str | None = None, probability: int | None = None,
                 owner: User | None = None, contact: Contact | None = None, account: Account | None = None) -> None:
    """Invalid unless the given values may stand on a deal (None: not checked)."""
    if amount is not None and amount < ZERO:
        raise Invalid("a deal amount cannot be negative", errors={"amount": ["must not be negative"]})
    if currency is not None and not CURRENCY_RE.match(currency):
        raise Invalid("{currency!r} is not an ISO 4217 currency code",
                      currency=currency, errors={"currency": ["three capital letters"]})
    if probability is not None and not 0 <= probability <= 100:
        raise Invalid("probability is a percent", errors={"probability": ["between 0 and 100"]})
    if owner is not None and not owner.is_active:
        raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
    if contact is not None and account is not None and contact.account_id != account.id:
        raise Invalid("contact {contact_id} is not at account {name}",
                      contact_id=contact.id, name=account.name,
                      errors={"contact_id": ["belongs to another account"]})


def check_stage_of(stage: PipelineStage, pipeline: Pipeline) -> None:
    """Invalid unless a new deal may open in ``stage`` of ``pipeline`` (an active pipeline, its own stage)."""
    if not pipeline.is_active:
        raise Invalid("pipeline {name} is inactive",
                      name=pipeline.name, errors={"pipeline_id": ["inactive pipeline"]})
    if stage.pipeline_id != pipeline.id:
        raise Invalid("stage {stage_name} is not a stage of pipeline {pipeline_name}",
                      stage_name=stage.name, pipeline_name=pipeline.name,
                      errors={"stage_id": [f"not a stage of pipeline {pipeline.name}"]})


def check_lost_reason(stage: PipelineStage, reason: str | None) -> None:
    """A deal in the lost stage needs a reason: Invalid when ``stage`` is lost and ``reason`` blank."""
    if stage.kind is StageKind.lost and not (reason or "").strip():
        raise Invalid("a lost deal needs a reason", errors={"lost_reason": ["required for the lost stage"]})


def make_lines(lines: list[dict]) -> list[DealLine]:
    """Product lines from their data; Invalid naming the first line with no positive quantity or a negative price."""
    made = []
    for index, line in enumerate(lines):
        quantity, price = Decimal(line.get("quantity", 1)), Decimal(line["unit_price"])
        if quantity <= 0 or price < ZERO:
            raise Invalid("line {number}: quantity must be positive and price not negative", number=index + 1,
                          errors={"lines": {index: ["positive quantity, price not negative"]}})
        made.append(DealLine(product=str(line["product"]).strip()[:100], quantity=quantity, unit_price=price))
    return made


def lines_total(lines: list[DealLine]) -> Decimal:
    """The sum of the lines, to the cent: a deal's amount when none is given."""
    return sum((line.quantity * line.unit_price for line in lines), ZERO).quantize(Decimal("0.01"))


def opening_history(*, stage: PipelineStage, opened: datetime, closed: datetime | None) -> History:
    """The stage history a new deal starts with: one step, into ``stage``, the stage it is known to be in.

    A deal that comes in already closed (an import keeping history) with a close time
    after its opening entered its terminal stage when it closed. Nothing is made up
    about the stages before it: the deal opened where the record says it is
    (``Deal.opened_stage_id``), and the funnel counts it only from there.
    """
    if stage.kind is not StageKind.open and closed is not None and closed > opened:
        return [(None, stage, closed)]
    return [(None, stage, opened)]


def furthest(stages) -> PipelineStage | None:
    """The furthest non-lost stage among ``stages`` (None entries ignored), or None."""
    candidates = [stage for stage in stages if stage is not None and stage.kind is not StageKind.lost]
    return max(candidates, key=lambda stage: stage.position) if candidates else None


def reached_at_opening(history: History, *, first: PipelineStage) -> PipelineStage:
    """The furthest stage a new deal has reached: along its opening history, else the first open stage."""
    return furthest(to_stage for _from, to_stage, _at in history) or first


def reached_after(reached: PipelineStage | None, stage: PipelineStage) -> PipelineStage | None:
    """The furthest reached stage after a move to ``stage`` (a lost stage is never "reached")."""
    return furthest([reached, stage])


def closed_at(stage: PipelineStage, when: datetime) -> datetime | None:
    """When a deal entering ``stage`` at ``when`` is closed: then for won and lost, never for an open stage."""
    return None if stage.kind is StageKind.open else when


def weighted_amount(deal) -> Decimal:
    """A deal's amount times its effective probability (``Deal.effective_probability``), to the amount's places."""
    return (deal.amount * deal.effective_probability / 100).quantize(deal.amount)
