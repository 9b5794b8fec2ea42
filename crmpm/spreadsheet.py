"""Cells for files a spreadsheet opens: text that no spreadsheet takes for a formula (CSV injection).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return. Which characters start a cell depends on how the spreadsheet
splits a line: crmpm writes CSV with commas, but a spreadsheet set to a ``;``
list separator (Russian and German locales) splits ``x;=1+1`` into ``x`` and
``=1+1``, and one that does not honour the commas' quotes splits at line breaks
too. So ``safe_text`` puts an apostrophe (which a spreadsheet shows as "this is
text" and hides) before a formula character at the start of the text *and* after
every character any spreadsheet may split on (``,`` ``;`` tab ``|`` and line
breaks; spaces and double quotes between them skipped, since a reader that splits
a line at the wrong separator unquotes ``""=1`` to ``=1``): whichever separator
opens the file, no piece starts a formula.

Every CSV crmpm writes (the API's ``?format=csv`` and the pages' exports) goes
through ``csv_cell``. XLSX needs no rewriting: ``web.xlsx`` stores text as typed
strings, which a spreadsheet never evaluates.
"""

from __future__ import annotations

import json
import re

__all__ = ["FORMULA_START", "SEPARATORS", "csv_cell", "safe_text"]

FORMULA_START = "=+-@\t\r"
SEPARATORS = ",;\t|\r\n"
# A formula character at the start of the text or of any piece a separator begins (after spaces or quotes).
_RISKY = re.compile(r"(^|[" + re.escape(SEPARATORS) + r"])([ \"]*)(?=[" + re.escape(FORMULA_START) + r"])")


def safe_text(text: str) -> str:
    """``text`` with an apostrophe before each formula character that could start a spreadsheet cell.

    >>> safe_text("=1+1"), safe_text("x;=1+1"), safe_text("a, -b"), safe_text("Ладога")
    ("'=1+1", "x;'=1+1", "a, '-b", 'Ладога')
    """
    if not _RISKY.search(text):
        return text
    return _RISKY.sub(lambda match: f"{match.group(1)}{match.group(2)}'", text)


def csv_cell(value) -> str:
    """One CSV cell: empty for None, JSON for lists and dicts, text made safe; numbers and dates as they are."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return safe_text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return safe_text(value)
    return str(value)
