"""The pipelines a deals file lands in: found or created, with every stage the file uses.

A row's pipeline is its ``pipeline`` column (amoCRM's pipelines, Bitrix24's
directions: one file, several pipelines), else the one the mapping names, else
the first active one. A pipeline that does not exist is created, with the stages
of the mapping's ``values`` table in its order (only those its rows use when the
file has a pipeline column) and any other its rows use, probabilities spread from
10 % to 90 %; stages an existing pipeline lacks are added before its terminal
ones, with the probability of its last open stage.

Terminal stages: ``won`` and ``lost``, and the names CRMs give them
(``accounts.pipelines.TERMINAL_NAMES``: "Успешно реализовано" / "Закрыто и не
реализовано" of amoCRM, "Сделка успешна" / "Сделка провалена" of Bitrix24), are
a pipeline's won and lost stages whatever that pipeline calls them. A new
pipeline's terminal stages take the name its rows use, else the pipeline's
language (``accounts.pipelines.TERMINAL_STAGES``: Russian when its names are in
Cyrillic). Creating a pipeline or adding stages needs an administrator (the
rights of ``accounts.pipelines``).
"""

from __future__ import annotations

from crmpm.errors import Invalid

from accounts import pipelines
from accounts.csvio import Record
from accounts.imports.job import ImportJob
from accounts.models import Pipeline, PipelineStage, StageKind

_PROBABILITY_LOW, _PROBABILITY_HIGH = 10, 90

Stages = dict[str, PipelineStage]


def pipeline_name(job: ImportJob, record: Record) -> str | None:
    """The name of the pipeline a row lands in (None: the first active one)."""
    return record.fields.get("pipeline") or job.mapping.pipeline


def prepare_pipelines(job: ImportJob, records: list[Record]) -> dict[str | None, tuple[Pipeline, Stages]]:
    """Each pipeline the rows land in (by ``pipeline_name``), with its stages by lower-case name (terminal
    ones also as ``won`` / ``lost`` and by the names of ``TERMINAL_NAMES``)."""
    groups: dict[str | None, list[Record]] = {}
    for record in records:
        groups.setdefault(pipeline_name(job, record), []).append(record)
    if not groups:
        groups[job.mapping.pipeline] = []
    return {name: prepare_pipeline(job, name, rows) for name, rows in groups.items()}


def prepare_pipeline(job: ImportJob, name: str | None, records: list[Record]) -> tuple[Pipeline, Stages]:
    """One pipeline (named ``name``, None: the first active one) with the stages ``records`` use."""
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
    if pipeline is not None or "pipeline" in job.mapped:
        listed = [value for value in listed if value in used]  # only what this pipeline's rows use
    wanted = list(dict.fromkeys(listed + sorted(used - set(listed))))
    opened = [value for value in wanted if _terminal(value) is None]
    if pipeline is None:
        pipeline = _create(job, name, opened, [value for value in wanted if _terminal(value) is not None])
    else:
        _add_stages(job, pipeline, opened)
    stages: Stages = {}
    terminal: dict[StageKind, PipelineStage] = {}
    for stage in pipeline.stages:
        stages[stage.name.casefold()] = stage
        if stage.kind is not StageKind.open:
            terminal[stage.kind] = stage
    for word, kind in pipelines.TERMINAL_NAMES.items():
        if kind in terminal:
            stages.setdefault(word, terminal[kind])
    return pipeline, stages


def _terminal(value: str) -> StageKind | None:
    return pipelines.terminal_kind(value)


def _spread(index: int, count: int) -> int:
    """Default probabilities of new open stages: evenly from 10 % to 90 % in funnel order."""
    if count <= 1:
        return _PROBABILITY_LOW
    return round(_PROBABILITY_LOW + (_PROBABILITY_HIGH - _PROBABILITY_LOW) * index / (count - 1))


def _create(job: ImportJob, name: str, opened: list[str], terminal: list[str]) -> Pipeline:
    won, lost = pipelines.TERMINAL_STAGES[pipelines.language_of([name, *opened, *terminal])]
    # The file's own name for a terminal stage ("Сделка успешна"), when it uses one other than won/lost.
    named = {_terminal(value): value for value in reversed(terminal) if value.casefold() not in ("won", "lost")}
    stages = [{"name": value, "probability": _spread(index, len(opened))} for index, value in
              enumerate(opened)] or [{"name": "Open", "probability": 10}]
    stages += [{"name": named.get(StageKind.won, won), "probability": 100, "kind": "won"},
               {"name": named.get(StageKind.lost, lost), "probability": 0, "kind": "lost"}]
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
