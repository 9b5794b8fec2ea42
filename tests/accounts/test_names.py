"""Splitting a name typed in one field (``accounts.names``): the Russian order, patronymics, Latin names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.names import PersonName, person_name, split_full_name


@pytest.mark.parametrize(("text", "first", "last", "patronymic"), [
    # Фамилия Имя Отчество: the last word is a patronymic.
    ("Иванов Иван Иванович", "Иван", "Иванов", "Иванович"),
    ("  Петрова   Марина  Сергеевна ", "Марина", "Петрова", "Сергеевна"),
    ("Салтыков-Щедрин Михаил Евграфович", "Михаил", "Салтыков-Щедрин", "Евграфович"),
    ("Ульянов Владимир Ильич", "Владимир", "Ульянов", "Ильич"),
    ("Кузнецова Анна Никитична", "Анна", "Кузнецова", "Никитична"),
    ("Мамедов Али Гасан оглы", "Али", "Мамедов", "Гасан оглы"),
    # Имя Отчество Фамилия: the second word is the patronymic.
    ("Иван Иванович Иванов", "Иван", "Иванов", "Иванович"),
    ("Иван Иванович", "Иван", "", "Иванович"),
    # Two words: Фамилия Имя, unless only the second looks like a surname.
    ("Петров Иван", "Иван", "Петров", ""),
    ("Иван Петров", "Иван", "Петров", ""),
    ("Марина Петрова", "Марина", "Петрова", ""),
    ("Петрова Марина", "Марина", "Петрова", ""),
    ("Анна Пушкина", "Анна", "Пушкина", ""),
    ("Марина Пушкина", "Марина", "Пушкина", ""),
    ("Ким Ирина", "Ирина", "Ким", ""),
    # Latin: the Western order; a transliterated patronymic still reads in the Russian order.
    ("John Smith", "John", "Smith", ""),
    ("John Ronald Tolkien", "John Ronald", "Tolkien", ""),
    ("Ivanov Ivan Ivanovich", "Ivan", "Ivanov", "Ivanovich"),
    # One word is a first name.
    ("Иван", "Иван", "", ""),
    ("Madonna", "Madonna", "", ""),
    ("", "", "", ""),
])
def test_split_full_name(text, first, last, patronymic):
    assert split_full_name(text) == PersonName(first, last, patronymic)


@pytest.mark.parametrize(("name", "formal"), [
    (PersonName("Иван", "Иванов", "Иванович"), "Иванов Иван Иванович"),
    (PersonName("Иван", "", "Иванович"), "Иван Иванович"),
    (PersonName("John", "Smith"), "John Smith"),
])
def test_formal_name_lists_russian_names_surname_first(name, formal):
    assert name.formal() == formal


def test_given_parts_win_over_the_full_name_and_empty_parts_lose_to_it():
    assert person_name(full="Иванов Иван Иванович", first="", last=None) == PersonName("Иван", "Иванов", "Иванович")
    assert person_name(full="Иванов Иван", first="Пётр", last="") == PersonName("Пётр", "", "")
    assert person_name(full=None, first=" Анна ", last="Ким", patronymic="") == PersonName("Анна", "Ким", "")


_WORD = st.text(alphabet="абвгдежзиклмнопрстуфхцчшщэюяABCDEFGHxyz-", min_size=1, max_size=12)


@given(st.lists(_WORD, min_size=1, max_size=5))
def test_no_word_is_lost_or_invented(words):
    name = split_full_name(" ".join(words))
    kept = " ".join(part for part in (name.first, name.last, name.patronymic) if part).split()
    assert sorted(kept) == sorted(words)
