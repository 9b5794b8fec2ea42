"""Domain errors keep an English message and, apart from it, the template and parameters a translator needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crmpm.errors import Conflict, CrmpmError, Invalid, NotFound, Phrase


def test_the_message_is_the_template_formatted_in_english():
    exc = Conflict("the current budget of {target} would become negative ({amount})",
                   target=Phrase("project {code}", code="P-1"), amount=Decimal("-10.00"))
    assert exc.message == str(exc) == "the current budget of project P-1 would become negative (-10.00)"
    assert exc.template == "the current budget of {target} would become negative ({amount})"
    assert exc.params == {"target": Phrase("project {code}", code="P-1"), "amount": Decimal("-10.00")}
    assert exc.status == 409 and exc.errors == {}


def test_conversions_and_format_specs_work_as_in_an_f_string():
    month, code = date(2026, 3, 1), "A'1"
    exc = Invalid("plan amount for {month:%Y-%m} is negative; code {code!r}", month=month, code=code)
    assert exc.message == f"plan amount for {month:%Y-%m} is negative; code {code!r}"


def test_without_parameters_the_template_is_the_message_as_it_is():
    # A message built elsewhere (a parser's reason) may hold braces; it is not formatted.
    exc = Invalid("line 3: expected '{' here", errors={"file": ["bad"]})
    assert exc.message == "line 3: expected '{' here" and exc.params == {} and exc.errors == {"file": ["bad"]}


def test_a_phrase_reads_as_english_wherever_it_is_formatted():
    phrase = Phrase("EPS node {code}", code="ENG")
    assert str(phrase) == f"{phrase}" == "EPS node ENG"
    assert f"{phrase:>14}" == "  EPS node ENG"
    assert NotFound("{target} not found", target=phrase).message == "EPS node ENG not found"


def test_phrases_nest_and_join():
    problems = [Phrase("stage names must not be empty"), Phrase("stage {name}: probability is a percent", name="X")]
    joined = Phrase.joined("; ", problems)
    assert str(joined) == "stage names must not be empty; stage X: probability is a percent"
    assert joined.params == {"part0": problems[0], "part1": problems[1]}
    assert str(Phrase.joined(" {or} ", [Phrase("a"), Phrase("b")])) == "a {or} b"


def test_an_error_made_again_from_its_parts_says_the_same():
    first = Invalid("user {email} is inactive", email="a@b.test", errors={"owner_id": ["inactive user"]})
    again = type(first)(first.template, errors=first.errors, **first.params)
    assert (again.message, again.template, again.params, again.errors, again.status) == \
        (first.message, first.template, first.params, first.errors, first.status)


def _message_arguments_built_in_place():
    """Error and Phrase calls in the domain whose message is an f-string, a concatenation or a .format()."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    names = {"Invalid", "Conflict", "Forbidden", "NotFound", "Unauthenticated", "CrmpmError", "Phrase"}
    for package in ("eps", "wbs", "accounts", "crmpm"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
                        and node.args):
                    continue
                message = node.args[0]
                built = isinstance(message, (ast.JoinedStr, ast.BinOp)) or (
                    isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute)
                    and message.func.attr == "format")
                if built:
                    yield f"{path.relative_to(root)}:{node.lineno}"


def test_domain_messages_are_templates_with_parameters_not_formatted_strings():
    # An f-string message cannot be translated: write the template and pass the values as named parameters.
    assert list(_message_arguments_built_in_place()) == []
