"""Codes made from names: transliteration (Wikipedia romanization of Russian), uniqueness, length.

Every expected code below was worked out by hand from the romanization's table (а a, б b, в v, г g, д d,
е e / ye, ё yo, ж zh, з z, и i, й y, к k, л l, м m, н n, о o, п p, р r, с s, т t, у u, ф f, х kh, ц ts,
ч ch, ш sh, щ shch, ъ —, ы y, ь —, э e, ю yu, я ya; -ий and -ый at a word's end y; е at a word's start or
after a vowel, ъ or ь: ye), not taken from the library's output.
"""

from __future__ import annotations

import pytest

from crmpm import codes


@pytest.mark.parametrize("name, expected", [
    ("Ладога Порт", "LADOGA-PORT"),
    ("Жилстрой-Юг", "ZHILSTROY-YUG"),            # ж zh, й y, ю yu
    ("Царицыно", "TSARITSYNO"),                  # ц ts, ы y
    ("Щукин и сыновья", "SHCHUKIN-I-SYNOVYA"),   # щ shch; ь before я: vya
    ("Химпром", "KHIMPROM"),                     # х kh
    ("Красный Октябрь", "KRASNY-OKTYABR"),       # -ый y at the end; я ya; ь dropped
    ("Ельцин", "YELTSIN"),                       # е at a word's start: ye
    ("Подъём", "PODYOM"),                        # ъ dropped; ё yo
    ("Чайка 2", "CHAYKA-2"),                     # ч ch, digits kept
    ("ООО «Ладога Порт»", "LADOGA-PORT"),        # legal form and quotes left out
    ("Müller & Söhne", "MULLER-SOHNE"),          # Latin letters lose their accents
    ("  Nord   Stream  ", "NORD-STREAM"),
])
def test_a_name_reads_as_its_latin_words_joined_by_hyphens(name, expected):
    assert codes.code_from_name(name, taken=lambda code: False) == expected


def test_a_name_with_nothing_to_write_gets_the_fallback():
    assert codes.code_from_name("«—»", taken=lambda code: False, fallback="ACC") == "ACC"
    assert codes.code_from_name("ООО", taken=lambda code: False) == "OOO"  # only a legal form: kept


def test_a_taken_code_gets_the_next_free_suffix():
    taken = {"LADOGA-PORT", "LADOGA-PORT-2", "LADOGA-PORT-3"}
    assert codes.code_from_name("Ладога Порт", taken=taken.__contains__) == "LADOGA-PORT-4"
    assert codes.code_from_name("Ладога Порт", taken={"LADOGA-PORT"}.__contains__) == "LADOGA-PORT-2"


def test_a_long_name_is_cut_between_words_within_the_base_length():
    # ПОСТАВКА-ДВУХ-ПОРТАЛЬНЫХ-КРАНОВ-ДЛЯ-ЛАДОГА-ПОРТ: POSTAVKA-DVUKH-PORTALNYKH is 25 characters, adding
    # -KRANOV would make 32 > 30.
    code = codes.code_from_name("Поставка двух портальных кранов для Ладога Порт", taken=lambda code: False)
    assert code == "POSTAVKA-DVUKH-PORTALNYKH"
    assert len(code) <= codes.BASE_LENGTH


def test_one_long_word_is_cut_at_the_base_length():
    code = codes.code_from_name("А" * 60, taken=lambda code: False)
    assert code == "A" * codes.BASE_LENGTH


def test_a_suffix_never_takes_a_code_past_the_limit():
    name = "Б" * 60
    # With a limit of 10, "B" * 10 is the base; its suffixed forms shorten the base to stay within 10.
    assert codes.code_from_name(name, taken={"B" * 10}.__contains__, limit=10) == "BBBBBBBB-2"
    assert codes.code_from_name(name, taken={"B" * 10, "BBBBBBBB-2", "BBBBBBBB-3", "BBBBBBBB-4", "BBBBBBBB-5",
                                             "BBBBBBBB-6", "BBBBBBBB-7", "BBBBBBBB-8", "BBBBBBBB-9"}.__contains__,
                                limit=10) == "BBBBBBB-10"


def test_codes_for_many_names_differ_from_each_other_and_from_those_taken():
    used = {"LADOGA-PORT"}
    assert codes.codes_from_names(["Ладога Порт", "Ладога Порт", "Химпром", "Химпром"], used=used) == [
        "LADOGA-PORT-2", "LADOGA-PORT-3", "KHIMPROM", "KHIMPROM-2"]
    assert {"LADOGA-PORT-2", "LADOGA-PORT-3", "KHIMPROM", "KHIMPROM-2"} <= used
