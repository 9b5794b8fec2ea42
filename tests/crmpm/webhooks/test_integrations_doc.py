"""docs/integrations.md lists exactly the event types of ``crmpm.events.TYPES``, with what their payloads hold."""

from pathlib import Path

from crmpm.events import TYPES

DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"
BEGIN, END = "<!-- event types: begin (kept equal to crmpm.events.TYPES by a test) -->", "<!-- event types: end -->"


def expected_block() -> str:
    return "\n".join(f"- `{name}` — {facts}" for name, facts in TYPES.items())


def test_the_documented_event_types_are_exactly_the_recorded_ones():
    text = DOC.read_text(encoding="utf-8")
    assert "## Outbound webhooks" in text
    listed = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert listed == expected_block(), f"replace the list in {DOC.name} with:\n{expected_block()}"
