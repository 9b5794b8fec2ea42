"""Passwords: long enough, not common or easy to guess, and one's own is changed only with the current one."""

from __future__ import annotations

import pytest

from crmpm.errors import Invalid
from crmpm.users import passwords
from crmpm.users import services as users
from tests import factories

PASSWORD = "correct-horse-battery"

# Common or trivially guessable, each for a different reason zxcvbn knows: a repeat, leaked-list entries
# (also with l33t spelling and a year), a keyboard walk, a sequence, a word with digits.
WEAK = ["aaaaaaaa", "password", "password1", "12345678", "qwertyuiop", "P@ssw0rd2024", "abcdefgh", "iloveyou1",
        "football", "11111111", "trustno1trustno1", "sunshine2026", "letmein123"]
# Long phrases of unrelated words, and a random string.
STRONG = ["correct-horse-battery", "demo-pass-2026", "a-brand-new-password", "violet tractor eleven",
          "q7$Lm2!vRz9w"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_easy_passwords_are_refused(password):
    with pytest.raises(Invalid) as refused:
        passwords.check(password)
    assert "password" in refused.value.errors


@pytest.mark.parametrize("password", STRONG)
def test_hard_to_guess_passwords_are_accepted(password):
    passwords.check(password)


def test_length_bounds():
    with pytest.raises(Invalid, match="too short"):
        passwords.check("x7#Qp2!")
    with pytest.raises(Invalid, match="too long"):
        passwords.check("violet tractor eleven " * 12)
    passwords.check("violet tractor eleven " * 3 + "a" * 100)  # long ones are judged by their start


def test_the_users_own_email_and_name_do_not_make_a_password():
    passwords.check("anastasia.berezovskaya")
    with pytest.raises(Invalid):
        passwords.check("anastasia.berezovskaya", email="anastasia.berezovskaya@example.test")
    with pytest.raises(Invalid):
        passwords.check("Anastasia Berezovskaya", name="Anastasia Berezovskaya")


def test_creating_a_user_checks_the_password(session):
    with pytest.raises(Invalid):
        users.create(session, actor=None, email="weak@example.test", name="Weak", password="aaaaaaaa")
    assert users.get_by_email(session, email="weak@example.test") is None


def test_changing_ones_own_password_needs_the_current_one(session):
    person = factories.user(session, password=PASSWORD)
    old_stamp = person.session_stamp
    for current in (None, "", "not-the-password"):
        with pytest.raises(users.WrongPassword) as refused:
            users.update(session, actor=person, user=person, password="a-brand-new-password",
                         current_password=current)
        assert "current_password" in refused.value.errors
    assert users.authenticate(session, email=person.email, password=PASSWORD) is not None
    with pytest.raises(Invalid) as weak:
        users.update(session, actor=person, user=person, password="aaaaaaaa", current_password=PASSWORD)
    assert "password" in weak.value.errors and not isinstance(weak.value, users.WrongPassword)
    assert person.session_stamp == old_stamp
    users.update(session, actor=person, user=person, password="a-brand-new-password", current_password=PASSWORD)
    assert users.authenticate(session, email=person.email, password="a-brand-new-password") is not None
    assert person.session_stamp != old_stamp


def test_an_admin_sets_another_users_password_without_theirs_and_ends_their_sessions(session):
    admin = factories.user(session, admin=True)
    person = factories.user(session, password=PASSWORD)
    old_stamp = person.session_stamp
    users.update(session, actor=admin, user=person, password="reset-by-admin-1")
    assert users.authenticate(session, email=person.email, password="reset-by-admin-1") is not None
    assert person.session_stamp != old_stamp
    with pytest.raises(users.WrongPassword):
        users.update(session, actor=admin, user=admin, password="the-admins-own-new-one")
