"""Automation rules as settings: who may see and change them, creating, changing, deleting, listing their runs.

Pipelines are shared configuration that only administrators change (``accounts.pipelines``); the
rules of a pipeline are part of it, so only administrators read and change them (every user reads
the pipelines: anyone else gets a 403, a rule that does not exist a 404). Every change is audited.
A rule acts with the rights of the administrator who last saved it (``created_by_id``, see
``accounts.automation.engine``).
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import Team, User
from crmpm.webhooks.models import Webhook
from eps.models import EpsNode

from accounts.automation import rules
from accounts.automation.models import AutomationRule, AutomationRun
from accounts.models import Pipeline, PipelineStage

__all__ = ["create_rule", "deal_runs", "delete_rule", "get_rule_or_raise", "list_rules", "list_runs", "may_manage",
           "update_rule"]

EDITABLE = ("name", "trigger", "stage_id", "idle_days", "conditions", "actions", "active")


def may_manage(user: User) -> bool:
    """Whether ``user`` may read and change automation rules: those who may change pipelines (administrators)."""
    return user.is_admin


def _authorize(user: User) -> None:
    if not may_manage(user):
        raise Forbidden("only administrators manage automation rules")


def get_rule_or_raise(session: Session, *, user: User, rule_id: int,
                      pipeline_id: int | None = None) -> AutomationRule:
    """The rule (of ``pipeline_id`` if given), for someone who may manage rules; NotFound when absent or of
    another pipeline, Forbidden for anyone else."""
    rule = session.get(AutomationRule, rule_id)
    if rule is None or (pipeline_id is not None and rule.pipeline_id != pipeline_id):
        raise NotFound("automation rule {rule_id} not found", rule_id=rule_id)
    _authorize(user)
    return rule


def list_rules(session: Session, *, user: User, pipeline_id: int | None = None) -> Select:
    """A select of the rules (of one pipeline), by pipeline and id; Forbidden for those who may not manage them."""
    _authorize(user)
    query = select(AutomationRule).order_by(AutomationRule.pipeline_id, AutomationRule.id)
    if pipeline_id is not None:
        query = query.where(AutomationRule.pipeline_id == pipeline_id)
    return query


def list_runs(session: Session, *, rule: AutomationRule) -> Select:
    """A select of a rule's runs, newest first (the caller was authorized on the rule)."""
    return select(AutomationRun).where(AutomationRun.rule_id == rule.id).order_by(AutomationRun.id.desc())


def _checked(session: Session, *, pipeline: Pipeline, values: dict) -> dict:
    """The rule's values checked together: the trigger and its stage, the conditions, the actions and what
    they name (users, teams, stages of this pipeline, EPS nodes)."""
    name = (values.get("name") or "").strip()
    if not name or len(name) > 200:
        raise Invalid("{field}: {problem}", field="name", problem=Phrase("1 to 200 characters"),
                      errors={"name": ["1 to 200 characters"]})
    values["name"] = name
    rules.check_trigger(values["trigger"], stage_id=values.get("stage_id"), idle_days=values.get("idle_days"))
    if values.get("stage_id") is not None:
        stage = session.get(PipelineStage, values["stage_id"])
        if stage is None or stage.pipeline_id != pipeline.id:
            raise Invalid("stage {stage_id} is not a stage of this pipeline", stage_id=values["stage_id"],
                          errors={"stage_id": ["not a stage of this pipeline"]})
    values["conditions"] = rules.check_conditions(values.get("conditions"))
    node_id = values["conditions"].get("node_id")
    if node_id is not None and session.get(EpsNode, node_id) is None:
        raise Invalid("EPS node {node_id} not found", node_id=node_id, errors={"conditions.node_id": ["not found"]})
    values["actions"] = rules.check_actions(values.get("actions"), trigger=values["trigger"])
    for index, action in enumerate(values["actions"]):
        for key in ("assignee", "to"):
            if key in action:
                _check_target(session, action[key], field=f"actions.{index}.{key}")
        if action["type"] == "call_webhook":
            webhook = session.get(Webhook, action["webhook_id"])
            if webhook is None or not webhook.active:
                raise Invalid("webhook {webhook_id} not found or disabled", webhook_id=action["webhook_id"],
                              errors={f"actions.{index}.webhook_id": ["unknown or disabled webhook"]})
        if action["type"] == "move_stage":
            stage = session.get(PipelineStage, action["to_stage_id"])
            if stage is None or stage.pipeline_id != pipeline.id or stage.id == values.get("stage_id"):
                raise Invalid("stage {stage_id} is not another stage of this pipeline",
                              stage_id=action["to_stage_id"],
                              errors={f"actions.{index}.to_stage_id": ["not another stage of this pipeline"]})
    return values


def _check_target(session: Session, value: str, *, field: str) -> None:
    kind, number = rules.target_of(value)
    if kind == "user":
        user = session.get(User, number)
        if user is None or not user.is_active:
            raise Invalid("user {user_id} not found or inactive", user_id=number, errors={field: ["unknown user"]})
    elif kind == "team" and session.get(Team, number) is None:
        raise Invalid("team {team_id} not found", team_id=number, errors={field: ["unknown team"]})


def create_rule(session: Session, *, actor: User, pipeline: Pipeline, name: str, trigger: str,
                actions: list, stage_id: int | None = None, idle_days: int | None = None,
                conditions: dict | None = None, active: bool = True) -> AutomationRule:
    """A new rule of ``pipeline`` (those who may manage rules), checked whole before anything is written."""
    _authorize(actor)
    values = _checked(session, pipeline=pipeline, values={
        "name": name, "trigger": trigger, "stage_id": stage_id, "idle_days": idle_days, "conditions": conditions,
        "actions": actions, "active": active})
    rule = AutomationRule(pipeline_id=pipeline.id, created_by_id=actor.id, **values)
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=rule, after=rule.audit_state())
    return rule


def update_rule(session: Session, *, actor: User, rule: AutomationRule, **changes) -> AutomationRule:
    """Change a rule; the whole rule is checked again, and it acts from now on with ``actor``'s rights."""
    _authorize(actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Invalid("unknown rule fields {fields}", fields=", ".join(unknown),
                      errors={key: ["unknown field"] for key in unknown})
    before = rule.audit_state()
    values = {key: getattr(rule, key) for key in EDITABLE} | changes
    pipeline = session.get(Pipeline, rule.pipeline_id)
    values = _checked(session, pipeline=pipeline, values=values)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.created_by_id = actor.id
    session.flush()
    audit.record(session, actor=actor, action="update", entity=rule, before=before, after=rule.audit_state())
    return rule


def delete_rule(session: Session, *, actor: User, rule: AutomationRule) -> None:
    """Delete a rule and its runs (those who may manage rules); audited with what it was."""
    _authorize(actor)
    before = rule.audit_state()
    audit.record(session, actor=actor, action="delete", entity=rule, before=before)
    session.delete(rule)
    session.flush()


def deal_runs(session: Session, *, deal, limit: int = 20) -> list[tuple[AutomationRun, str]]:
    """The latest runs of rules on ``deal`` with their rule's name, newest first (the caller may read the deal)."""
    return [tuple(row) for row in session.execute(
        select(AutomationRun, AutomationRule.name).join(AutomationRule, AutomationRule.id == AutomationRun.rule_id)
        .where(AutomationRun.deal_id == deal.id).order_by(AutomationRun.id.desc()).limit(limit))]
