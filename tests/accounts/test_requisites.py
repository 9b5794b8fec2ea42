"""Checks of INN, KPP, OGRN, BIK and account numbers, on real companies' and banks' published requisites."""

from __future__ import annotations

import pytest

from accounts.requisites import (
    BadRequisite, check_account_number, check_bik, check_corr_account, check_inn, check_kpp, check_ogrn, inn_is_valid,
)

# Published requisites: Sberbank (INN 7707083893, OGRN 1027700132195, KPP 773601001, BIK 044525225 with its
# correspondent account 30101810400000000225), Tinkoff Bank (BIK 044525974, 30101810145250000974).


@pytest.mark.parametrize("inn", ["7707083893", "500100732259", ""])
def test_good_inns_pass(inn):
    assert check_inn(f" {inn} ") == inn


@pytest.mark.parametrize("inn", ["7707083894", "500100732258", "770708389", "77070838931", "77070838９3", "abcdefghij"])
def test_bad_inns_are_refused(inn):
    with pytest.raises(BadRequisite):
        check_inn(inn)
    assert not inn_is_valid(inn)


def test_kpp_ogrn_and_bik():
    assert check_kpp("773601001") == "773601001"
    assert check_kpp("7736ab001") == "7736AB001"
    assert check_ogrn("1027700132195") == "1027700132195"
    assert check_ogrn("304500116000157") == "304500116000157"  # an OGRNIP: 15 digits, mod 13
    assert check_bik("044525225") == "044525225"
    for check, value in ((check_kpp, "77360100"), (check_ogrn, "1027700132196"), (check_bik, "04452522")):
        with pytest.raises(BadRequisite):
            check(value)


def test_correspondent_accounts_match_their_banks_bik():
    assert check_corr_account("30101810400000000225", "044525225") == "30101810400000000225"
    assert check_corr_account("30101810145250000974", "044525974") == "30101810145250000974"
    with pytest.raises(BadRequisite):
        check_corr_account("30101810400000000225", "044030653")  # another region: its digits 5-6 differ


def test_settlement_account_key():
    # Key by hand: "225" + "40702810938000000001" × 7,1,3…: 14+2+15+28+0+21+0+2+24+7+0+27+21+8+0…+1 = 170 ≡ 0 (mod 10).
    assert check_account_number("40702810938000000001", "044525225") == "40702810938000000001"
    with pytest.raises(BadRequisite):
        check_account_number("40702810838000000001", "044525225")
    with pytest.raises(BadRequisite):
        check_account_number("4070281093800000000", "044525225")
