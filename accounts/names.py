"""People's names typed in one field, split into first name, last name and patronymic: the one home of that rule.

The import (a full-name column), the lead form (a lead's contact person becoming a
contact), a new account's first contact and the API (``full_name``) all split a name
here. Pure functions, no database.

The rule, by script:

* **Cyrillic** names follow the Russian order, Фамилия Имя Отчество. A patronymic is
  recognised by its ending (-ович, -евич, -ич, -овна, -евна, -ична, -инична; also
  "оглы" / "кызы" after a father's name), and its place tells the order:

  - last word a patronymic: "Иванов Иван Иванович" → last Иванов, first Иван,
    patronymic Иванович (more first names go with the first: "Иванов Иван Павел
    Иванович" → first "Иван Павел");
  - second word a patronymic: "Иван Иванович Иванов" → first Иван, patronymic
    Иванович, last Иванов; "Иван Иванович" → no last name.

  Without a patronymic, two words are read Фамилия Имя ("Петров Иван"), unless only
  the second looks like a surname (ends in -ов/-ова, -ев/-ева, -ёв, -ский/-ская,
  -цкий/-цкая, -енко, -ых/-их; or -ин/-ина/-ын/-ына, other than a common given name
  such as Ирина or Константин, when the first does not look like a surname at
  all): "Иван Петров", "Марина Петрова", "Анна Пушкина" are Имя Фамилия, "Ким
  Ирина" is Фамилия Имя. Three or more words without a patronymic: the last word is the last
  name when only it looks like a surname, else the first word is.
* **Latin** (and any other script) names follow the Western order: the last word is
  the last name, the words before it the first name ("John Ronald Tolkien"). A
  transliterated Russian name with a patronymic ("Ivanov Ivan Ivanovich", endings
  -ovich, -evich, -ovna, -evna, -ichna) is read in the Russian order as above.
* **One word** is a first name ("Иван", "Madonna").

>>> split_full_name("Иванов Иван Иванович")
PersonName(first='Иван', last='Иванов', patronymic='Иванович')
>>> split_full_name("John Smith")
PersonName(first='John', last='Smith', patronymic='')
>>> split_full_name("Иванов Иван Иванович").formal()
'Иванов Иван Иванович'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PersonName", "person_name", "split_full_name"]

_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
_PATRONYMIC_ENDINGS = ("ович", "евич", "ёвич", "ьич", "ич", "овна", "евна", "ёвна", "ична", "инична")
_PATRONYMIC_ENDINGS_LATIN = ("ovich", "evich", "ovna", "evna", "ichna")
_TURKIC_PATRONYMIC = ("оглы", "кызы", "ogly", "kyzy")
_STRONG_SURNAME = ("ов", "ова", "ев", "ева", "ёв", "ёва", "ский", "ская", "цкий", "цкая", "ской", "енко", "ых", "их")
_WEAK_SURNAME = ("ин", "ина", "ын", "ына")
# Given names that end like a surname in -ин/-ина, so "Ким Ирина" is Фамилия Имя and "Марина Пушкина" Имя Фамилия.
_GIVEN_NAMES_IN = frozenset({
    "ирина", "марина", "галина", "алина", "полина", "кристина", "екатерина", "валентина", "нина", "карина",
    "регина", "ангелина", "арина", "дина", "зарина", "альбина", "христина", "розалина",
    "константин", "валентин", "вениамин", "веньямин", "антонин", "мартин",
})


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name in its parts; empty strings for the parts not known."""

    first: str
    last: str
    patronymic: str = ""

    def formal(self) -> str:
        """The name as a list of clients shows it: "Иванов Иван Иванович" in Cyrillic, "John Smith" otherwise."""
        if _CYRILLIC_RE.search(self.last or self.first):
            parts = (self.last, self.first, self.patronymic)
        else:
            parts = (self.first, self.patronymic, self.last)
        return " ".join(part for part in parts if part)

    def __bool__(self) -> bool:
        return bool(self.first or self.last or self.patronymic)


def _is_patronymic(word: str, cyrillic: bool) -> bool:
    folded = word.casefold()
    endings = _PATRONYMIC_ENDINGS if cyrillic else _PATRONYMIC_ENDINGS_LATIN
    return len(folded) >= 5 and folded.endswith(endings)


def _surname_strength(word: str) -> int:
    """2: looks like a Russian surname, 1: may be one (-ин/-ина: also Марина, Ирина), 0: does not."""
    folded = word.casefold()
    if len(folded) >= 4 and folded.endswith(_STRONG_SURNAME):
        return 2
    if len(folded) >= 4 and folded.endswith(_WEAK_SURNAME) and folded not in _GIVEN_NAMES_IN:
        return 1
    return 0


def _second_is_surname(first: str, second: str) -> bool:
    """Whether two Cyrillic words without a patronymic read Имя Фамилия (the documented exception)."""
    one, two = _surname_strength(first), _surname_strength(second)
    return (two == 2 and one < 2) or (two == 1 and one == 0)


def split_full_name(text: str | None) -> PersonName:
    """A name typed in one field, split by the rule of the module docstring."""
    words = (text or "").split()
    if not words:
        return PersonName("", "")
    if len(words) == 1:
        return PersonName(words[0], "")
    cyrillic = bool(_CYRILLIC_RE.search(" ".join(words)))
    # "Мамедов Али Гасан оглы": the father's name and the word after it make the patronymic.
    if len(words) >= 3 and words[-1].casefold() in _TURKIC_PATRONYMIC:
        rest = words[:-2]
        return PersonName(" ".join(rest[1:]), rest[0], " ".join(words[-2:]))
    if len(words) >= 3 and _is_patronymic(words[-1], cyrillic):
        return PersonName(" ".join(words[1:-1]), words[0], words[-1])
    if _is_patronymic(words[1], cyrillic):
        return PersonName(words[0], " ".join(words[2:]), words[1])
    if not cyrillic:
        return PersonName(" ".join(words[:-1]), words[-1])
    if len(words) == 2:
        if _second_is_surname(words[0], words[1]):
            return PersonName(words[0], words[1])
        return PersonName(words[1], words[0])
    if _surname_strength(words[-1]) > _surname_strength(words[0]):
        return PersonName(" ".join(words[:-1]), words[-1])
    return PersonName(" ".join(words[1:]), words[0])


def person_name(*, full: str | None = None, first: str | None = None, last: str | None = None,
                patronymic: str | None = None) -> PersonName:
    """The name from its parts, or from ``full`` when the parts are all empty (a full-name column wins over
    empty first/last columns; parts that are given win over the full name).

    >>> person_name(full="Иванов Иван Иванович", first="", last="")
    PersonName(first='Иван', last='Иванов', patronymic='Иванович')
    >>> person_name(full="Иванов Иван", first="Пётр", last="Сидоров")
    PersonName(first='Пётр', last='Сидоров', patronymic='')
    """
    parts = [" ".join((part or "").split()) for part in (first, last, patronymic)]
    if any(parts):
        return PersonName(*parts)
    return split_full_name(full)
