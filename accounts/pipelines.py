"""Sales pipelines: ordered open stages with default probabilities, then the terminal won and lost stages.

Pipelines are shared configuration: every user reads them, administrators change them.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User

from accounts.models import Deal, DealStageChange, Pipeline, PipelineStage, StageKind

# Terminal stages as CRMs name them, recognised as won or lost in any pipeline (the import's stage column):
# crmpm's own words, amoCRM's and Bitrix24's. Lower case.
TERMINAL_NAMES = {
    "won": StageKind.won, "lost": StageKind.lost,
    "успешно реализовано": StageKind.won, "закрыто и не реализовано": StageKind.lost,  # amoCRM
    "сделка успешна": StageKind.won, "сделка провалена": StageKind.lost,  # Bitrix24
}
# The won and lost stages of a new pipeline, in its language (Russian when its names are in Cyrillic).
TERMINAL_STAGES = {"ru": ("Успешно реализовано", "Закрыто и не реализовано"), "en": ("Won", "Lost")}


def terminal_kind(name: str) -> StageKind | None:
    """Won or lost when ``name`` is a terminal stage's name in one of ``TERMINAL_NAMES``, else None."""
    return TERMINAL_NAMES.get(" ".join(name.split()).casefold())


def language_of(names) -> str:
    """"ru" when any of ``names`` (a pipeline's and its stages') is written in Cyrillic, else "en"."""
    return "ru" if any(any("\u0400" <= char <= "\u04ff" for char in name) for name in names) else "en"


def get_pipeline_or_raise(session: Session, *, pipeline_id: int, field: str | None = None) -> Pipeline:
    """The pipeline with this id, or NotFound (naming ``field``)."""
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound("pipeline {pipeline_id} not found",
                       pipeline_id=pipeline_id, errors={field: ["not found"]} if field else None)
    return pipeline


def get_by_name(session: Session, *, name: str) -> Pipeline | None:
    """The pipeline with this name, or None."""
    return session.scalar(select(Pipeline).where(Pipeline.name == name))


def list_pipelines(session: Session, *, active_only: bool = False):
    """A select of pipelines by name."""
    query = select(Pipeline).order_by(Pipeline.name, Pipeline.id)
    return query.where(Pipeline.is_active.is_(True)) if active_only else query


def _check_stages(stages: list[dict]) -> None:
    names = [stage["name"].strip() for stage in stages]
    problems: list[Phrase] = []
    if len(set(n.lower() for n in names)) != len(names):
        problems.append(Phrase("stage names must be unique within a pipeline"))
    kinds = [StageKind(stage.get("kind", StageKind.open)) for stage in stages]
    if kinds.count(StageKind.won) != 1 or kinds.count(StageKind.lost) != 1:
        problems.append(Phrase("a pipeline has exactly one won and one lost stage"))
    if StageKind.open not in kinds:
        problems.append(Phrase("a pipeline needs at least one open stage"))
    for stage, kind in zip(stages, kinds):
        probability = stage.get("probability")
        if probability is None or not 0 <= probability <= 100:
            problems.append(Phrase("stage {name}: probability is a percent, 0 to 100", name=stage["name"]))
        elif kind is StageKind.won and probability != 100:
            problems.append(Phrase("the won stage has probability 100"))
        elif kind is StageKind.lost and probability != 0:
            problems.append(Phrase("the lost stage has probability 0"))
        if not stage["name"].strip():
            problems.append(Phrase("stage names must not be empty"))
    if problems:
        raise Invalid("{problems}", problems=Phrase.joined("; ", problems),
                      errors={"stages": [str(problem) for problem in problems]})


def _ordered(stages: list[dict]) -> list[dict]:
    # Open stages keep the order given; the terminal ones come last, won before lost.
    rank = {StageKind.open: 0, StageKind.won: 1, StageKind.lost: 2}
    return sorted(stages, key=lambda stage: rank[StageKind(stage.get("kind", StageKind.open))])


def create_pipeline(session: Session, *, actor: User | None, name: str, stages: list[dict],
                    is_active: bool = True) -> Pipeline:
    """A new pipeline with its stages (administrators only)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("only administrators create pipelines")
    name = name.strip()
    if get_by_name(session, name=name) is not None:
        raise Conflict("a pipeline named {name!r} exists", name=name, errors={"name": ["already in use"]})
    _check_stages(stages)
    pipeline = Pipeline(name=name, is_active=is_active)
    session.add(pipeline)
    session.flush()
    for position, stage in enumerate(_ordered(stages), start=1):
        session.add(PipelineStage(pipeline_id=pipeline.id, name=stage["name"].strip(), position=position,
                                  probability=stage["probability"], kind=StageKind(stage.get("kind", "open"))))
    session.flush()
    session.refresh(pipeline)
    audit.record(session, actor=actor, action="create", entity=pipeline, after=pipeline.audit_state())
    return pipeline


def update_pipeline(session: Session, *, actor: User, pipeline: Pipeline, name: str | None = None,
                    is_active: bool | None = None, stages: list[dict] | None = None) -> Pipeline:
    """Rename, (de)activate, or replace the stages of a pipeline (administrators only).

    Stages given with an ``id`` are kept (renamed, re-weighted, re-ordered); stages
    left out are removed, which is refused while a deal is or was in them.
    """
    if not actor.is_admin:
        raise Forbidden("only administrators change pipelines")
    before = pipeline.audit_state()
    if name is not None and name.strip() != pipeline.name:
        if get_by_name(session, name=name.strip()) is not None:
            raise Conflict("a pipeline named {name!r} exists", name=name, errors={"name": ["already in use"]})
        pipeline.name = name.strip()
    if is_active is not None:
        pipeline.is_active = is_active
    if stages is not None:
        _check_stages(stages)
        existing = {stage.id: stage for stage in pipeline.stages}
        unknown = [stage["id"] for stage in stages if stage.get("id") is not None and stage["id"] not in existing]
        if unknown:
            raise Invalid("stages {unknown} are not in this pipeline",
                          unknown=unknown, errors={"stages": [f"unknown ids {unknown}"]})
        kept = {stage["id"] for stage in stages if stage.get("id") is not None}
        for stage_id in set(existing) - kept:
            used = session.scalar(select(func.count()).select_from(DealStageChange)
                                  .where(DealStageChange.to_stage_id == stage_id))
            used += session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage_id))
            if used:
                raise Conflict("stage {name} holds deals or their history; it cannot be removed",
                               name=existing[stage_id].name,
                               errors={"stages": [f"stage {stage_id} in use"]})
            session.delete(existing[stage_id])
        # Positions are rewritten after a shift, so the unique order never clashes midway.
        for stage in existing.values():
            stage.position += 1000
        session.flush()
        for position, data in enumerate(_ordered(stages), start=1):
            stage = existing.get(data.get("id")) or PipelineStage(pipeline_id=pipeline.id)
            stage.name, stage.position, stage.probability = data["name"].strip(), position, data["probability"]
            new_kind = StageKind(data.get("kind", "open"))
            if stage.id is not None and stage.kind is not new_kind and stage.id in kept:
                deals_in = session.scalar(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id))
                if deals_in:
                    raise Conflict("stage {name} holds deals; its kind cannot change", name=stage.name,
                                   errors={"stages": [f"stage {stage.id} in use"]})
            stage.kind = new_kind
            session.add(stage)
        session.flush()
        recompute_reached(session, pipeline=pipeline)
    session.flush()
    session.refresh(pipeline)
    audit.record(session, actor=actor, action="update", entity=pipeline, before=before,
                 after=pipeline.audit_state())
    return pipeline


def stage_in(pipeline: Pipeline, *, stage_id: int | None = None, name: str | None = None,
             field: str = "stage_id") -> PipelineStage:
    """The stage of ``pipeline`` with this id or name; Invalid naming ``field`` when it is not one of them."""
    for stage in pipeline.stages:
        if (stage_id is not None and stage.id == stage_id) or (name is not None and stage.name == name):
            return stage
    wanted = stage_id if stage_id is not None else name
    raise Invalid("stage {wanted!r} is not a stage of pipeline {name}", wanted=wanted, name=pipeline.name,
                  errors={field: [f"not a stage of pipeline {pipeline.name}"]})


def first_open_stage(pipeline: Pipeline) -> PipelineStage:
    """The first open stage: where new deals start."""
    return next(stage for stage in pipeline.stages if stage.kind is StageKind.open)


def recompute_reached(session: Session, *, pipeline: Pipeline) -> None:
    """Rebuild each deal's furthest reached stage from its history (after the stages were reordered)."""
    furthest = (select(DealStageChange.to_stage_id)
                .join(PipelineStage, PipelineStage.id == DealStageChange.to_stage_id)
                .where(DealStageChange.deal_id == Deal.id, PipelineStage.kind != StageKind.lost)
                .order_by(PipelineStage.position.desc()).limit(1).scalar_subquery())
    first = session.scalar(select(PipelineStage.id).where(PipelineStage.pipeline_id == pipeline.id,
                                                          PipelineStage.kind == StageKind.open)
                           .order_by(PipelineStage.position).limit(1))
    session.execute(update(Deal).where(Deal.pipeline_id == pipeline.id)
                    .values(reached_stage_id=func.coalesce(furthest, first))
                    .execution_options(synchronize_session=False))


# One stage at a time (the settings pages): each builds the full stage list and goes through update_pipeline,
# so its checks (one won and one lost stage, probabilities, stages in use) hold whichever way a change comes.


def _stage_dicts(pipeline: Pipeline) -> list[dict]:
    return [{"id": stage.id, "name": stage.name, "probability": stage.probability, "kind": stage.kind}
            for stage in pipeline.stages]


def _stage_index(pipeline: Pipeline, stage: PipelineStage) -> int:
    if stage.pipeline_id != pipeline.id:
        raise NotFound("stage {stage_id} not found", stage_id=stage.id)
    return next(index for index, item in enumerate(pipeline.stages) if item.id == stage.id)


def get_stage_or_raise(session: Session, *, pipeline: Pipeline, stage_id: int) -> PipelineStage:
    """The stage of ``pipeline`` with this id, or NotFound."""
    stage = session.get(PipelineStage, stage_id)
    if stage is None or stage.pipeline_id != pipeline.id:
        raise NotFound("stage {stage_id} not found", stage_id=stage_id)
    return stage


def add_stage(session: Session, *, actor: User, pipeline: Pipeline, name: str, probability: int,
              kind: StageKind = StageKind.open) -> Pipeline:
    """Add a stage; an open one goes after the other open stages (administrators)."""
    stages = _stage_dicts(pipeline) + [{"name": name, "probability": probability, "kind": StageKind(kind)}]
    return update_pipeline(session, actor=actor, pipeline=pipeline, stages=stages)


def change_stage(session: Session, *, actor: User, pipeline: Pipeline, stage: PipelineStage, name: str,
                 probability: int, kind: StageKind) -> Pipeline:
    """Rename a stage, change its probability or kind (administrators)."""
    stages = _stage_dicts(pipeline)
    stages[_stage_index(pipeline, stage)].update(name=name, probability=probability, kind=StageKind(kind))
    return update_pipeline(session, actor=actor, pipeline=pipeline, stages=stages)


def remove_stage(session: Session, *, actor: User, pipeline: Pipeline, stage: PipelineStage) -> Pipeline:
    """Remove a stage no deal is or was in (administrators)."""
    stages = _stage_dicts(pipeline)
    del stages[_stage_index(pipeline, stage)]
    return update_pipeline(session, actor=actor, pipeline=pipeline, stages=stages)


def shift_stage(session: Session, *, actor: User, pipeline: Pipeline, stage: PipelineStage, by: int) -> Pipeline:
    """Move an open stage ``by`` places (-1 earlier, +1 later) among the open stages (administrators).

    Won and lost stages always come last; an open stage already first or last stays where it is.
    """
    stages = _stage_dicts(pipeline)
    index = _stage_index(pipeline, stage)
    if stage.kind is not StageKind.open:
        raise Invalid("the won and lost stages always come last", errors={"stage_id": ["not an open stage"]})
    target = index + by
    if 0 <= target < len(stages) and stages[target]["kind"] is StageKind.open:
        stages[index], stages[target] = stages[target], stages[index]
    return update_pipeline(session, actor=actor, pipeline=pipeline, stages=stages)
