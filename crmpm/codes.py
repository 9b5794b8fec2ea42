"""Readable codes made from names: "Ладога Порт" → ``LADOGA-PORT``, then ``LADOGA-PORT-2`` when taken.

The one home of the rule for every code crmpm makes up (an account's EPS node, a deal's project, the code a
new project's form suggests). Cyrillic is transliterated with the Wikipedia romanization of Russian
(``iuliia.WIKIPEDIA``: Щ → shch, Ж → zh, Х → kh, Ц → ts, Ю → yu, Я → ya, ё → yo, -ий/-ый → y, е after a
vowel or a sign or at a word's start → ye; see docs/decisions/0006-transliteration.md); other letters lose
their accents. What remains is the name's letters and digits, upper case, words joined by hyphens, at most
``BASE_LENGTH`` characters (cut between words where it can), and a suffix ``-2``, ``-3``… keeps it unique.

Pure: what is taken is the caller's to say (``taken``), so the rule knows no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

import iuliia

CODE_LENGTH = 40  # eps.models.CODE_LENGTH: no code may be longer
BASE_LENGTH = 30  # the part made from the name; room is left for a suffix
# Legal forms say nothing about which client or project it is: "ООО «Ладога Порт»" is LADOGA-PORT.
LEGAL_FORMS = frozenset({"OOO", "OAO", "ZAO", "PAO", "AO", "IP", "NKO", "LLC", "LTD", "INC", "GMBH", "JSC"})
_WORD = re.compile(r"[A-Za-z0-9]+")


def base_code(name: str, *, fallback: str = "X", length: int = BASE_LENGTH) -> str:
    """The code ``name`` reads as, before any suffix: ``"Жилстрой-Юг"`` → ``ZHILSTROY-YUG``.

    ``fallback`` (already a code) when the name holds no letter or digit that can be written in Latin.
    """
    latin = iuliia.WIKIPEDIA.translate(name or "")
    plain = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")
    words = [word.upper() for word in _WORD.findall(plain)]
    meaningful = [word for word in words if word not in LEGAL_FORMS]
    words = meaningful or words
    code = "-".join(words)
    if len(code) > length:
        cut = code[:length]
        if code[length] != "-":
            boundary = cut.rfind("-")
            if boundary >= length // 2:  # cut between words unless that loses too much
                cut = cut[:boundary]
        code = cut.strip("-")
    return code or fallback


def with_suffix(base: str, number: int, limit: int = CODE_LENGTH) -> str:
    """``base`` with ``-number``, the base shortened so that the whole stays within ``limit``."""
    suffix = f"-{number}"
    return base[:limit - len(suffix)].rstrip("-") + suffix


def code_from_name(name: str, *, taken: Callable[[str], bool], fallback: str = "X",
                   limit: int = CODE_LENGTH) -> str:
    """A code for ``name`` that ``taken`` says is free: the base code, else it with ``-2``, ``-3``…"""
    base = base_code(name, fallback=fallback, length=min(BASE_LENGTH, limit))
    if not taken(base):
        return base
    number = 2
    while taken(candidate := with_suffix(base, number, limit)):
        number += 1
    return candidate


def codes_from_names(names: Iterable[str], *, used: set[str], fallback: str = "X",
                     limit: int = CODE_LENGTH) -> list[str]:
    """One free code per name (for bulk inserts): as ``code_from_name``, each also unlike those before it.

    ``used`` holds the codes already taken (at least those starting with the names' base codes); the codes
    given out are added to it.
    """
    result = []
    for name in names:
        code = code_from_name(name, taken=used.__contains__, fallback=fallback, limit=limit)
        used.add(code)
        result.append(code)
    return result
