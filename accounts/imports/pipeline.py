"""The pipeline a deals file lands in: found or created, with every stage the file uses.

The pipeline named by the mapping (else the first active one) is created when
missing, with the stages of the mapping's ``values`` table in its order (and any
other the file uses), probabilities spread from 10 % to 90 %; stages the file
uses that an existing pipeline lacks are added before its terminal ones, with the
probability of its last open stage. ``won`` and ``lost`` are the pipeline's
terminal stages whatever they are called. Creating a pipeline or adding stages
needs an administrator (the rights of ``accounts.pipelines``).
"""

from __future__ import annotations

from crmpm.errors import Invalid

from accounts import pipelines
from accounts.csvio import Record
from accounts.imports.job import ImportJob
from accounts.models import Pipeline, PipelineStage, StageKind

_PROBABILITY_LOW, _PROBABILITY_HIGH = 10, 90


def prepare_pipeline(job: ImportJob, records: list[Record]) -> tuple[Pipeline, dict[str, PipelineStage]]:
    """The pipeline, and its stages by lower-case name (terminal ones also as ``won`` / ``lost``)."""
    name = job.mapping.pipeline
    if name is None:
        pipeline = job.session.scalars(pipelines.list_pipelines(job.session, active_only=True)).first()
        if pipeline is None:
            raise Invalid("there is no active pipeline; name one in the mapping (\"pipeline\")",
                          errors={"pipeline": ["none active"]})
    else:
        pipeline = pipelines.get_by_name(job.session, name=name)
    table = job.mapping.values.get("stage", {})
    listed = [value for value in table.values() if isinstance(value, str) and value != "*"]
    used = {record.fields.get("stage") for record in records if record.fields.get("stage")}
    if pipeline is not None:
        listed = [value for value in listed if value in used]  # an existing funnel only gets what is used
    wanted = list(dict.fromkeys(listed + sorted(used - set(listed))))
    opened = [value for value in wanted if value.casefold() not in ("won", "lost")]
    if pipeline is None:
        pipeline = _create(job, name, opened)
    else:
        _add_stages(job, pipeline, opened)
    stages: dict[str, PipelineStage] = {}
    for stage in pipeline.stages:
        stages[stage.name.casefold()] = stage
        if stage.kind is not StageKind.open:
            stages[stage.kind.value] = stage
    return pipeline, stages


def _spread(index: int, count: int) -> int:
    """Default probabilities of new open stages: evenly from 10 % to 90 % in funnel order."""
    if count <= 1:
        return _PROBABILITY_LOW
    return round(_PROBABILITY_LOW + (_PROBABILITY_HIGH - _PROBABILITY_LOW) * index / (count - 1))


def _create(job: ImportJob, name: str, opened: list[str]) -> Pipeline:
    stages = [{"name": value, "probability": _spread(index, len(opened))} for index, value in
              enumerate(opened)] or [{"name": "Open", "probability": 10}]
    stages += [{"name": "Won", "probability": 100, "kind": "won"},
               {"name": "Lost", "probability": 0, "kind": "lost"}]
    pipeline = pipelines.create_pipeline(job.session, actor=job.actor, name=name, stages=stages)
    job.report.notes.append(f"pipeline {name!r} created with stages "
                            f"{', '.join(stage['name'] for stage in stages)}")
    return pipeline


def _add_stages(job: ImportJob, pipeline: Pipeline, opened: list[str]) -> None:
    known = {stage.name.casefold() for stage in pipeline.stages}
    missing = [value for value in opened if value.casefold() not in known]
    if not missing:
        return
    current = [{"id": stage.id, "name": stage.name, "probability": stage.probability,
                "kind": stage.kind.value} for stage in pipeline.stages]
    last_open = [stage for stage in current if stage["kind"] == "open"]
    probability = last_open[-1]["probability"] if last_open else 50
    pipelines.update_pipeline(job.session, actor=job.actor, pipeline=pipeline, stages=(
        [stage for stage in current if stage["kind"] == "open"]
        + [{"name": value, "probability": probability} for value in missing]
        + [stage for stage in current if stage["kind"] != "open"]))
    job.report.notes.append(f"stages added to pipeline {pipeline.name!r}: {', '.join(missing)}")
