"""CSV cells no spreadsheet runs as a formula, whichever list separator it splits the line on."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from crmpm.spreadsheet import csv_cell, safe_text

# How spreadsheets split a line: the comma crmpm writes with, and the separators of other locales and files.
DELIMITERS = [",", ";", "\t", "|"]


def pieces(content: str, delimiter: str) -> list[str]:
    """The cells a spreadsheet set to ``delimiter`` sees in a file crmpm wrote with commas."""
    return [cell for row in csv.reader(io.StringIO(content, newline=""), delimiter=delimiter) for cell in row]


def runs(cell: str) -> bool:
    """Whether a spreadsheet would evaluate ``cell``, even one that trims white space first."""
    return cell.lstrip(" \t\r\n")[:1] in tuple("=+-@")


def written(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


def test_a_semicolon_cell_is_no_formula_in_a_semicolon_spreadsheet():
    content = written([["id", "name"], [1, "x;=1+1"], [2, "a; +7 999"], [3, 'b;"=2+2'], [4, "c\n@SUM(A1)"]])
    for delimiter in DELIMITERS:
        assert not [cell for cell in pieces(content, delimiter) if runs(cell)], delimiter
    # Read back with the comma it was written with, the text is what was stored, apostrophes aside.
    assert [row[1] for row in csv.reader(io.StringIO(content, newline=""))][1:] == [
        "x;'=1+1", "a; '+7 999", 'b;"\'=2+2', "c\n'@SUM(A1)"]


def test_text_without_formula_characters_is_kept_as_it_is():
    for text in ["Ладога", "Straße 5, Berlin", "a;b", "10.5", "x = y"]:
        assert safe_text(text) == text


def test_numbers_stay_numbers_and_lists_become_safe_json():
    assert csv_cell(-5) == "-5" and csv_cell(None) == ""
    assert csv_cell(["x;=1"]) == "[\"x;'=1\"]"


ALPHABET = st.sampled_from(list("ab =+-@\t\r\n,;|\"'1") + ["Ж"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=4), min_size=1, max_size=3))
def test_no_separator_lets_a_cell_start_a_formula(rows):
    content = written(rows)
    for delimiter in DELIMITERS:
        assert not [cell for cell in pieces(content, delimiter) if runs(cell)], (delimiter, content)
