"""What an automation rule may hold, checked when it is saved: its trigger, conditions and typed actions.

Pure: no database. The references a rule makes (users, teams, stages, nodes) are checked by
``accounts.automation.services``, which has the session.

Templates (a task's title, an e-mail's subject and body, a notification's text) are Jinja in the
sandbox (``crmpm.mail.check_user_template``) over the fields of ``DEAL_FIELDS`` (deal rules) or
``LEAD_FIELDS`` (``lead.created`` rules); a field outside them is refused on save, naming it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from crmpm.errors import Invalid, Phrase
from crmpm.mail import check_user_template

from accounts.automation.models import TRIGGERS

# The fields a deal rule's templates may use (``accounts.automation.engine.deal_fields`` fills them).
DEAL_FIELDS = frozenset({
    "deal_id", "deal_name", "amount", "currency", "stage", "previous_stage", "pipeline", "probability", "product",
    "next_step", "expected_close", "owner_name", "owner_email", "account_name", "contact_name", "contact_email",
})
# The fields of a ``lead.created`` rule's templates (``engine.lead_fields``).
LEAD_FIELDS = frozenset({"lead_id", "company", "contact_name", "email", "phone", "source", "product", "message",
                         "owner_name", "owner_email"})

ACTION_TYPES = ("create_task", "send_email", "notify", "set_field", "call_webhook", "move_stage")
# The keys each action type takes (``type`` aside); all are required.
ACTION_KEYS = {
    "create_task": ("title", "due_in_working_days", "assignee"),
    "send_email": ("to", "subject", "body"),
    "notify": ("to", "text"),
    "set_field": ("field", "value"),
    "call_webhook": ("webhook_id",),
    "move_stage": ("to_stage_id",),
}
SETTABLE_FIELDS = ("probability", "next_step")
MAX_ACTIONS = 10
MAX_WORKING_DAYS = 365
MAX_IDLE_DAYS = 365
MAX_LIST = 100
# Whom an action addresses: a role relative to the deal, or a named user or team.
_PERSON = re.compile(r"^(owner|owner_manager|contact|user:[1-9][0-9]{0,9}|team:[1-9][0-9]{0,9})$")
TARGETS = {
    "create_task": ("owner", "owner_manager", "user", "team"),
    "send_email": ("contact", "owner", "user"),
    "notify": ("owner", "owner_manager", "user"),
}
# Which actions a trigger allows: a lead has no stage or fields of a deal, and only an idle deal is moved.
LEAD_ACTIONS = ("create_task", "send_email", "notify", "call_webhook")
DEAL_ACTIONS = ("create_task", "send_email", "notify", "set_field", "call_webhook")
# The stage a deal reached on its own: a rule moves only an idle deal (a move on entering would chain rules).
WORKDAY_END = time(18, 0)


def _invalid(field: str, problem: Phrase) -> Invalid:
    """A refusal naming the field (``actions.0.title``) and what is wrong with it."""
    return Invalid("{field}: {problem}", field=field, problem=problem, errors={field: [str(problem)]})


def check_trigger(trigger: str, *, stage_id: int | None, idle_days: int | None) -> None:
    """A known trigger, with a stage when it needs one and a number of days for an idle rule."""
    if trigger not in TRIGGERS:
        raise _invalid("trigger", Phrase("unknown trigger {value}", value=trigger))
    if trigger in ("deal.entered_stage", "deal.idle") and stage_id is None:
        raise _invalid("stage_id", Phrase("this trigger needs a stage"))
    if trigger not in ("deal.entered_stage", "deal.idle") and stage_id is not None:
        raise _invalid("stage_id", Phrase("only stage triggers have a stage"))
    if trigger == "deal.idle":
        if idle_days is None or not 1 <= idle_days <= MAX_IDLE_DAYS:
            raise _invalid("idle_days", Phrase("an idle rule needs 1 to {count} days", count=MAX_IDLE_DAYS))
    elif idle_days is not None:
        raise _invalid("idle_days", Phrase("only idle rules have days"))


def check_conditions(conditions: dict | None) -> dict:
    """Conditions normalized: ``min_amount`` (an exact decimal string), ``products`` (names), ``node_id``."""
    conditions = dict(conditions or {})
    unknown = sorted(set(conditions) - {"min_amount", "products", "node_id"})
    if unknown:
        raise _invalid(f"conditions.{unknown[0]}", Phrase("unknown condition {value}", value=unknown[0]))
    result = {}
    if conditions.get("min_amount") not in (None, ""):
        try:
            amount = Decimal(str(conditions["min_amount"]))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e15"):
            raise _invalid("conditions.min_amount", Phrase("not an amount"))
        result["min_amount"] = str(amount)
    products = conditions.get("products")
    if products:
        if not isinstance(products, list) or len(products) > MAX_LIST or not all(
                isinstance(p, str) and 0 < len(p.strip()) <= 100 for p in products):
            raise _invalid("conditions.products", Phrase("a list of product names"))
        result["products"] = sorted({p.strip() for p in products})
    node_id = conditions.get("node_id")
    if node_id is not None:
        if not isinstance(node_id, int) or isinstance(node_id, bool) or node_id < 1:
            raise _invalid("conditions.node_id", Phrase("an EPS node id"))
        result["node_id"] = node_id
    return result


def target_of(value: str) -> tuple[str, int | None]:
    """``("user", 7)`` for "user:7", ``("owner", None)`` for "owner"."""
    kind, _, number = value.partition(":")
    return kind, int(number) if number else None


def check_actions(actions, *, trigger: str) -> list[dict]:
    """The actions normalized, each of a known type with exactly its keys and templates over known fields."""
    if not isinstance(actions, list) or not actions:
        raise _invalid("actions", Phrase("at least one action"))
    if len(actions) > MAX_ACTIONS:
        raise _invalid("actions", Phrase("at most {count} actions", count=MAX_ACTIONS))
    fields = LEAD_FIELDS if trigger == "lead.created" else DEAL_FIELDS
    allowed = LEAD_ACTIONS if trigger == "lead.created" else (
        (*DEAL_ACTIONS, "move_stage") if trigger == "deal.idle" else DEAL_ACTIONS)
    return [_check_action(action, index, fields=fields, allowed=allowed) for index, action in enumerate(actions)]


def _check_action(action, index: int, *, fields, allowed) -> dict:
    where = f"actions.{index}"
    if not isinstance(action, dict):
        raise _invalid(where, Phrase("an action is an object with a type"))
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise _invalid(f"{where}.type", Phrase("unknown action type {value}", value=str(kind)[:50]))
    if kind not in allowed:
        raise _invalid(f"{where}.type", Phrase("action {value} does not fit this trigger", value=kind))
    keys = ACTION_KEYS[kind]
    unknown = sorted(set(action) - {"type", *keys})
    if unknown:
        raise _invalid(f"{where}.{unknown[0]}", Phrase("unknown field {value}", value=unknown[0][:50]))
    missing = [key for key in keys if action.get(key) in (None, "")]
    if missing:
        raise _invalid(f"{where}.{missing[0]}", Phrase("required"))
    result = {"type": kind}

    def template(key: str, limit: int) -> str:
        value = action[key]
        if not isinstance(value, str) or len(value) > limit:
            raise _invalid(f"{where}.{key}", Phrase("text of at most {count} characters", count=limit))
        try:
            check_user_template(value, set(fields), what=key)
        except Invalid as exc:
            raise _invalid(f"{where}.{key}", Phrase(exc.template, **exc.params)) from None
        return value

    def person(key: str) -> str:
        value = action[key]
        if not isinstance(value, str) or not _PERSON.match(value) or target_of(value)[0] not in TARGETS[kind]:
            raise _invalid(f"{where}.{key}", Phrase("one of {value}", value=", ".join(
                f"{name}:<id>" if name in ("user", "team") else name for name in TARGETS[kind])))
        return value

    if kind == "create_task":
        result["title"] = template("title", 500)
        days = action["due_in_working_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_WORKING_DAYS:
            raise _invalid(f"{where}.due_in_working_days", Phrase("0 to {count}", count=MAX_WORKING_DAYS))
        result["due_in_working_days"] = days
        result["assignee"] = person("assignee")
    elif kind == "send_email":
        result["to"] = person("to")
        result["subject"] = template("subject", 500)
        result["body"] = template("body", 10_000)
    elif kind == "notify":
        result["to"] = person("to")
        result["text"] = template("text", 1000)
    elif kind == "set_field":
        field = action["field"]
        if field not in SETTABLE_FIELDS:
            raise _invalid(f"{where}.field", Phrase("one of {value}", value=", ".join(SETTABLE_FIELDS)))
        value = action["value"]
        if field == "probability":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                raise _invalid(f"{where}.value", Phrase("a percent, 0 to 100"))
        else:
            value = template("value", 500)
        result["field"], result["value"] = field, value
    elif kind == "call_webhook":
        webhook_id = action["webhook_id"]
        if not isinstance(webhook_id, int) or isinstance(webhook_id, bool) or webhook_id < 1:
            raise _invalid(f"{where}.webhook_id", Phrase("a webhook id"))
        result["webhook_id"] = webhook_id
    elif kind == "move_stage":
        stage_id = action["to_stage_id"]
        if not isinstance(stage_id, int) or isinstance(stage_id, bool) or stage_id < 1:
            raise _invalid(f"{where}.to_stage_id", Phrase("a stage id"))
        result["to_stage_id"] = stage_id
    return result


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th Monday-to-Friday day after ``start``; 0: ``start`` itself, or the next working day.

    >>> add_working_days(date(2026, 12, 4), 1)  # a Friday
    datetime.date(2026, 12, 7)
    >>> add_working_days(date(2026, 12, 5), 0)  # a Saturday
    datetime.date(2026, 12, 7)
    """
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def due_at(when: datetime, days: int, zone) -> datetime:
    """A task's due time: the end of the working day (18:00) ``days`` working days after ``when``, in ``zone``."""
    local = when.astimezone(zone)
    return datetime.combine(add_working_days(local.date(), days), WORKDAY_END, tzinfo=zone)
