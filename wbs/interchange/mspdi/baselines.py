"""A project's named baselines in an MSPDI file, and back.

How MS Project keeps baselines (Microsoft's Project XML schema, the ``Baseline`` element): not as copies of
the project but as eleven numbered slots of values on each task, resource and assignment. A task holds one
``Project/Tasks/Task/Baseline`` element per slot it has values in: ``Number`` (0 to 10, required; 0 is the
slot Project calls "Baseline", 1 to 10 are "Baseline 1" … "Baseline 10"), ``Start``, ``Finish`` (the
scheduled dates when the baseline was saved), ``Duration`` (``PT#H#M#S``) with ``DurationFormat``,
``EstimatedDuration``, ``Work``, ``Cost`` (in cents, as the task's own ``Cost``), ``BCWS``/``BCWP``,
``Interim`` and timephased data. Slot 0 is the one Project's own variance columns and Gantt bars use. The
slots have no names in the file (MPP files keep the date each was saved; MSPDI files not even that).

crmpm reads slot 0 as the baseline named "Baseline", its primary, and slots 1 to 10 as "Baseline 1" to
"Baseline 10" (no role), each holding the tasks that have values in it. It writes the primary as slot 0 and
up to ten others in order (primary first, then oldest first, as :func:`wbs.baselines.baselines_with_values`
lists them) as 1 to 10; an eleventh and later ones have no slot left and stay out. Per task only what crmpm
keeps goes in: Number, Start, Finish, Duration and Cost. A baseline's own name and a secondary or tertiary
role, which Project has no place for, ride in the crmpm text field of the project's summary task
(``baseline3=Contract; baseline3_role=secondary``), so crmpm → file → crmpm keeps them and Project shows the
slots as usual.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wbs.interchange.model import ExchangeBaseline, ExchangeBaselineActivity, ExchangeProject
from wbs.interchange.mspdi.common import DAYS_DURATION_FORMAT, MspdiError, format_date, format_duration, format_money

__all__ = ["SLOTS", "numbered_baselines", "baseline_plan_values", "write_task_baselines", "read_baselines"]

SLOTS = range(0, 11)
_ROLES_KEPT = ("secondary", "tertiary")  # the primary is slot 0


def _slot_name(number: int) -> str:
    return "Baseline" if number == 0 else f"Baseline {number}"


def numbered_baselines(project: ExchangeProject) -> list[tuple[int, ExchangeBaseline]]:
    """``(slot, baseline)``: the primary in slot 0, the others in 1 to 10 in order; more have no slot."""
    primary = [b for b in project.baselines if b.role == "primary"][:1]
    others = [b for b in project.baselines if b.role != "primary"][:len(SLOTS) - 1]
    return [(0, b) for b in primary] + [(number, b) for number, b in enumerate(others, 1)]


def baseline_plan_values(numbered: list[tuple[int, ExchangeBaseline]]) -> dict[str, str]:
    """The crmpm field's entries of the project summary task naming the slots' baselines and roles."""
    values = {}
    for number, baseline in numbered:
        if baseline.name != _slot_name(number):
            values[f"baseline{number}"] = baseline.name
        if baseline.role in _ROLES_KEPT:
            values[f"baseline{number}_role"] = baseline.role
    return values


def write_task_baselines(task: ET.Element, activity_id: str, numbered: list[tuple[int, ExchangeBaseline]]) -> None:
    """A ``Baseline`` element under ``task`` for each slot whose baseline holds the activity."""
    for number, baseline in numbered:
        kept = baseline.activities.get(activity_id)
        if kept is None:
            continue
        element = ET.SubElement(task, "Baseline")
        _text(element, "Number", number)
        if kept.start is not None:
            _text(element, "Start", format_date(kept.start))
        if kept.finish is not None:
            _text(element, "Finish", format_date(kept.finish))
        _text(element, "Duration", format_duration(kept.duration_hours))
        _text(element, "DurationFormat", DAYS_DURATION_FORMAT)
        _text(element, "Cost", format_money(kept.budgeted_cost))


def _text(parent: ET.Element, name: str, value) -> None:
    ET.SubElement(parent, name).text = str(value)


def read_baselines(doc, reader, tasks: list[tuple[str, int, ET.Element]], project_values: dict[str, str]
                   ) -> list[ExchangeBaseline]:
    """The baselines the activities' tasks hold (``tasks``: activity id, UID and element), slot by slot;
    MspdiError naming the task on a slot number outside 0-10, a slot given twice, or a value that cannot be
    read."""
    slots: dict[int, dict[str, ExchangeBaselineActivity]] = {}
    for activity_id, uid, task in tasks:
        for element in doc.children(task, "Baseline"):
            number = reader.int(element, "Number", "Task", uid)
            if number is None or number not in SLOTS:
                raise MspdiError(f"Baseline Number {number} is not 0-10", element="Task", uid=uid,
                                 line=doc.line(element))
            kept = slots.setdefault(number, {})
            if activity_id in kept:
                raise MspdiError(f"Baseline {number} is given twice", element="Task", uid=uid, line=doc.line(element))
            cost = reader.money(element, "Cost", "Task", uid)
            kept[activity_id] = ExchangeBaselineActivity(
                start=reader.date(element, "Start", "Task", uid), finish=reader.date(element, "Finish", "Task", uid),
                duration_hours=round(reader.duration(element, "Duration", "Task", uid, 0.0), 6),
                budgeted_cost=cost if cost is not None else ExchangeBaselineActivity.budgeted_cost)
    baselines = []
    for number in sorted(slots):
        role = "primary" if number == 0 else project_values.get(f"baseline{number}_role")
        baselines.append(ExchangeBaseline(name=project_values.get(f"baseline{number}") or _slot_name(number),
                                          role=role if role in ("primary", *_ROLES_KEPT) else None,
                                          activities=slots[number]))
    return baselines
