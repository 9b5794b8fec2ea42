"""Owners named in a file matched to users (pure: no database), and the owners table read from CSV or JSON."""

from __future__ import annotations

import pytest

from accounts.csvio import MappingError
from accounts.imports.owners import AmbiguousOwner, OwnerMatcher, parse_owners_text
from accounts.imports.report import RowRefused
from crmpm.users.models import User

PEOPLE = [("i.petrov@firm.ru", "Иван Петров"), ("m.smirnova@firm.ru", "Мария Смирнова"),
          ("o.kuznetsova@firm.ru", "Ольга Кузнецова"), ("a.petrova@firm.ru", "Анна Петрова"),
          ("i.semenov@firm.ru", "Иван Семёнов"), ("p.orlov@firm.ru", "Павел Орлов"),
          ("p.orlov2@firm.ru", "Пётр Орлов")]


@pytest.fixture
def matcher():
    def make(table=None):
        found = OwnerMatcher(table or {})
        for email, name in PEOPLE:
            found.add(User(email=email, name=name))
        return found
    return make


@pytest.mark.parametrize("ref, email", [
    ("Иван Петров", "i.petrov@firm.ru"),           # the full name
    ("  иван   ПЕТРОВ ", "i.petrov@firm.ru"),       # case and spacing ignored
    ("Петров Иван", "i.petrov@firm.ru"),           # surname first
    ("Петров Иван Сергеевич", "i.petrov@firm.ru"),  # with a patronymic the user's name lacks
    ("Смирнова", "m.smirnova@firm.ru"),            # a surname only one user has
    ("Мария", "m.smirnova@firm.ru"),               # a first name only one user has
    ("Иван Семенов", "i.semenov@firm.ru"),         # ё written as е
    ("I.Petrov@Firm.RU", "i.petrov@firm.ru"),      # an e-mail, any case
])
def test_owner_found(matcher, ref, email):
    assert matcher().find(ref).email == email


@pytest.mark.parametrize("ref, reason", [
    ("Иван", "2 users could be 'Иван'"),          # two users are called Иван
    ("Орлов", "2 users could be 'Орлов'"),        # two Орловы
    ("Петров", None),                              # Петров and Петрова are different words: one match
    ("Сидоров", "no user named 'Сидоров'"),
    ("sidorov@firm.ru", "no user with email sidorov@firm.ru"),
    ("Оля К.", "no user named 'Оля К.'"),
    ("17", "no user named '17'"),                  # a Bitrix24 user id
])
def test_owner_not_guessed(matcher, ref, reason):
    if reason is None:
        assert matcher().find(ref).email == "i.petrov@firm.ru"
        return
    with pytest.raises(RowRefused) as refused:
        matcher().find(ref)
    assert reason in refused.value.reason and refused.value.field == "owner"
    # Only a name several users could be is "ambiguous" (--create-owners never creates such an owner).
    assert isinstance(refused.value, AmbiguousOwner) == ("could be" in reason)


def test_the_table_comes_first(matcher):
    found = matcher({"Оля К.": "o.kuznetsova@firm.ru", "17": "Павел Орлов", "Иван": "i.semenov@firm.ru",
                     "Смирнова": "a.petrova@firm.ru"})
    assert found.find("Оля  к.").email == "o.kuznetsova@firm.ru"
    assert found.find("17").email == "p.orlov@firm.ru"        # the table may name a user by name
    assert found.find("Иван").email == "i.semenov@firm.ru"    # resolves what was ambiguous
    assert found.find("Смирнова").email == "a.petrova@firm.ru"  # and overrides a match
    with pytest.raises(RowRefused, match="the owners table gives 'x@firm.ru' for 'Волков', which is no user"):
        matcher({"Волков": "x@firm.ru"}).find("Волков")


def test_suggestion_is_the_closest_name(matcher):
    assert matcher().suggestion("Иван Петрофф") == "i.petrov@firm.ru"
    assert matcher().suggestion("Зинаида Тихомирова") is None


def test_owners_table_from_csv_or_json():
    assert parse_owners_text("name,email\nОля К.,o.kuznetsova@firm.ru\nДмитрий Волков,\n") == \
        {"Оля К.": "o.kuznetsova@firm.ru"}  # an empty e-mail is "not filled in"
    assert parse_owners_text("\ufeffname;email\r\n17;i.petrov@firm.ru\r\n") == {"17": "i.petrov@firm.ru"}
    assert parse_owners_text('{"Оля К.": "o.kuznetsova@firm.ru", "Волков": null}') == {"Оля К.": "o.kuznetsova@firm.ru"}
    assert parse_owners_text('{"owners": {"Иван  Петров": "i.petrov@firm.ru"}}') == {"Иван Петров": "i.petrov@firm.ru"}
    assert parse_owners_text("") == {}
    with pytest.raises(MappingError, match="needs the columns name and email"):
        parse_owners_text("who,mail\nx,y\n")
    with pytest.raises(MappingError, match="must be an object"):
        parse_owners_text('{"Оля К.": 5}')
