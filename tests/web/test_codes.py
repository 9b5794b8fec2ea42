"""Changing activity code types and values on the pages (``web/views/codes.py``) and an EPS node's code types
(``/eps/nodes/<id>/codes``): rename, longest value, delete a type; rename, move, delete a value; rights, CSRF,
refusals in the user's language with nothing written."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from eps.models import Role
from wbs import codes
from wbs.models import ActivityCodeAssignment, ActivityCodeType, ActivityCodeValue
from tests.web.test_codes_pages import _answer, _editor_in, _flash, _held, coded  # noqa: F401 - fixtures
from tests.web.test_projects import _url, plan  # noqa: F401 - the fixture: PA's A, B, C


def _values(session, code_type) -> dict[str, str | None]:
    """Each value's short name with its parent's (None at the top)."""
    session.expire_all()
    rows = session.scalars(select(ActivityCodeValue).where(ActivityCodeValue.type_id == code_type.id)).all()
    names = {v.id: v.value for v in rows}
    return {v.value: names.get(v.parent_id) for v in rows}


def _type_url(code_type, tail="") -> str:
    return f"/codes/types/{code_type.id}{tail}"


def _value_url(code_type, value, tail="") -> str:
    return f"/codes/types/{code_type.id}/values/{value.id}{tail}"


def _back(coded) -> str:
    return _url(coded, "/codes")


# Types


def test_editor_renames_a_project_type_and_changes_its_longest_value_from_the_codes_page(pages, session, coded,
                                                                                        user_with):
    pages.log_in_as(user_with(Role.editor))
    phase = coded["phase"]
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    assert f'action="{_type_url(phase)}"' in body and f'action="{_type_url(phase, "/delete")}"' in body
    assert f'action="{_type_url(coded["area"])}"' not in body  # a global type: administrators only
    response = pages.post(_type_url(phase), {"name": "Stage", "max_length": "3", "next": _back(coded)})
    assert response.headers["Location"].endswith(_back(coded))
    assert "Stage" in _flash(pages, response)
    session.expire_all()
    assert (phase.name, phase.max_length) == ("Stage", 3)
    # a name alone keeps the longest value
    pages.post(_type_url(phase), {"name": "Phase"})
    session.expire_all()
    assert (phase.name, phase.max_length) == ("Phase", 3)


@pytest.mark.parametrize("locale, expected", [("en", "longer than 2"), ("ru", "больше 2")])
def test_a_longest_value_below_the_values_held_is_refused_in_the_users_language(pages, session, coded, user_with,
                                                                               locale, expected):
    pages.log_in_as(_editor_in(session, user_with, locale))
    phase = coded["phase"]
    response = pages.post(_type_url(phase), {"name": "Renamed", "max_length": "2", "next": _back(coded)},
                          headers={"Referer": f"http://localhost{_back(coded)}"})
    text = _answer(pages, response)
    assert expected in text and "Phase" in text  # the type as it is, not as the refused form would name it
    session.expire_all()
    assert (phase.name, phase.max_length) == ("Phase", 20)  # nothing half-written: not even the name


@pytest.mark.parametrize("form", [{"name": ""}, {"name": "x" * 5000}, {"name": "Ok", "max_length": "-1"},
                                  {"name": "Ok", "max_length": "99999999999999999999"}, {"name": "Area"},
                                  {"max_length": "abc"}, {}])
def test_bad_type_forms_are_refused_without_a_server_error(pages, session, coded, admin, form):
    codes.create_code_type(session, actor=admin, scope="project", project=coded["project"], name="Area")
    session.commit()
    pages.log_in_as(admin)
    response = pages.post(_type_url(coded["phase"]), form)
    assert response.status_code == 303 and "flash-error" in pages.get(response.headers["Location"]).get_data(
        as_text=True)
    session.expire_all()
    assert (coded["phase"].name, coded["phase"].max_length) == ("Phase", 20)


def test_deleting_a_type_says_how_many_activities_lost_it(pages, session, coded, user_with):
    pages.log_in_as(user_with(Role.editor))
    phase_id = coded["phase"].id
    message = _flash(pages, pages.post(_type_url(coded["phase"], "/delete"), {"next": _back(coded)}))
    assert "Phase" in message and "2 activities lost it" in message
    session.expire_all()
    assert session.get(ActivityCodeType, phase_id) is None
    assert _held(session, coded["A"]) == {} and _held(session, coded["B"]) == {}
    assert session.scalar(select(func.count()).where(ActivityCodeValue.type_id == phase_id)) == 0


def test_global_types_are_changed_by_administrators_only(pages, session, coded, admin, user_with):
    area = coded["area"]
    pages.log_in_as(user_with(Role.manager))
    assert pages.post(_type_url(area), {"name": "Zone"}).status_code == 403
    assert pages.post(_type_url(area, "/delete"), {}).status_code == 403
    assert pages.post(_value_url(area, coded["N"]), {"value": "S"}).status_code == 403
    pages.log_in_as(admin)
    assert "Zone" in _flash(pages, pages.post(_type_url(area), {"name": "Zone"}))
    session.expire_all()
    assert area.name == "Zone"


# Values


def test_editor_renames_a_value_and_moves_it_under_another(pages, session, coded, user_with):
    pages.log_in_as(user_with(Role.editor))
    phase, arc = coded["phase"], coded["ARC"]
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    assert f'action="{_value_url(phase, arc)}"' in body and f'data-move-values="{phase.id}"' in body
    message = _flash(pages, pages.post(_value_url(phase, arc), {"value": "ARCH", "description": "Architecture",
                                                               "next": _back(coded)}))
    assert "ARCH" in message
    assert _values(session, phase) == {"DES": None, "ARCH": "DES", "BLD": None}
    assert arc.description == "Architecture"
    pages.post(_type_url(phase, "/values/move"), {"value_id": str(arc.id), "parent_id": str(coded["BLD"].id)})
    assert _values(session, phase) == {"DES": None, "ARCH": "BLD", "BLD": None}
    pages.post(_type_url(phase, "/values/move"), {"value_id": str(arc.id), "parent_id": ""})
    assert _values(session, phase) == {"DES": None, "ARCH": None, "BLD": None}
    assert _held(session, coded["A"]) == {phase.id: arc.id}  # the activity keeps its value wherever it moves


@pytest.mark.parametrize("locale, expected", [("en", "cannot be under itself or its own children"),
                                              ("ru", "не может находиться под самим собой")])
def test_moving_a_value_under_its_own_child_is_refused_in_the_users_language(pages, session, coded, user_with,
                                                                            locale, expected):
    pages.log_in_as(_editor_in(session, user_with, locale))
    phase = coded["phase"]
    response = pages.post(_type_url(phase, "/values/move"),
                          {"value_id": str(coded["DES"].id), "parent_id": str(coded["ARC"].id)},
                          headers={"Referer": f"http://localhost{_back(coded)}"})
    assert expected in _answer(pages, response)
    assert _values(session, phase) == {"DES": None, "ARC": "DES", "BLD": None}


@pytest.mark.parametrize("locale, expected", [("en", "is another value of that type"),
                                              ("ru", "только другое значение этого же кода")])
def test_a_parent_of_another_type_is_refused_in_the_users_language(pages, session, coded, user_with, locale,
                                                                   expected):
    pages.log_in_as(_editor_in(session, user_with, locale))
    phase = coded["phase"]
    for url, form in ((_type_url(phase, "/values/move"), {"value_id": str(coded["ARC"].id)}),
                      (_value_url(phase, coded["BLD"]), {"value": "BLD"})):
        response = pages.post(url, {**form, "parent_id": str(coded["N"].id)},
                              headers={"Referer": f"http://localhost{_back(coded)}"})
        text = _answer(pages, response)
        assert expected in text and "Phase" in text
    assert _values(session, phase) == {"DES": None, "ARC": "DES", "BLD": None}


def test_values_of_another_type_or_project_are_not_found(pages, session, coded, admin, world, user_with):
    other = codes.create_code_type(session, actor=admin, scope="project", project=world["PB"], name="PB code")
    stranger = codes.create_code_value(session, actor=admin, code_type=other, value="X")
    session.commit()
    pages.log_in_as(user_with(Role.editor))
    phase = coded["phase"]
    # another type's value as a parent, as the value moved, in the address: refused, nothing written, no 500
    for response in (pages.post(_value_url(phase, coded["ARC"]), {"value": "ARC", "parent_id": str(coded["N"].id)}),
                     pages.post(_type_url(phase, "/values/move"),
                                {"value_id": str(coded["ARC"].id), "parent_id": str(stranger.id)}),
                     pages.post(_type_url(phase, "/values/move"), {"value_id": str(coded["N"].id), "parent_id": ""}),
                     pages.post(_value_url(phase, coded["N"]), {"value": "Z"}),
                     pages.post(_value_url(phase, stranger, "/delete"), {})):
        assert response.status_code in (303, 404)
    # another project's type, which the editor may not read: 404
    assert pages.post(_value_url(other, stranger), {"value": "Y"}).status_code == 404
    assert pages.post(_type_url(other, "/delete"), {}).status_code == 404
    assert _values(session, phase) == {"DES": None, "ARC": "DES", "BLD": None}
    assert _values(session, other) == {"X": None}
    assert _values(session, coded["area"]) == {"N": None}


@pytest.mark.parametrize("form", [{"value": ""}, {"value": "x" * 5000}, {"value": "BLD"},
                                  {"value": "OK", "description": "d" * 5000}, {"value": "OK", "parent_id": "abc"},
                                  {"value": "OK", "parent_id": "99999999999"}, {}])
def test_bad_value_forms_are_refused_without_a_server_error(pages, session, coded, admin, form):
    pages.log_in_as(admin)
    response = pages.post(_value_url(coded["phase"], coded["DES"]), form)
    assert response.status_code in (303, 404)
    assert _values(session, coded["phase"]) == {"DES": None, "ARC": "DES", "BLD": None}


def test_deleting_a_value_deletes_those_under_it_and_says_how_many_activities_lost_it(pages, session, coded,
                                                                                      user_with):
    pages.log_in_as(user_with(Role.editor))
    phase = coded["phase"]
    message = _flash(pages, pages.post(_value_url(phase, coded["DES"], "/delete"), {"next": _back(coded)}))
    assert "DES" in message and "1 activity lost it" in message
    assert _values(session, phase) == {"BLD": None}  # ARC, under DES, went with it
    assert _held(session, coded["A"]) == {} and _held(session, coded["B"]) == {phase.id: coded["BLD"].id}
    message = _flash(pages, pages.post(_value_url(phase, coded["BLD"], "/delete"), {}))
    assert "1 activity lost it" in message
    assert session.scalar(select(func.count()).select_from(ActivityCodeAssignment)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "delete")) == 2


# Rights and CSRF on every new form


def _posts(coded):
    phase, arc = coded["phase"], coded["ARC"]
    return [(_type_url(phase), {"name": "X"}), (_type_url(phase, "/delete"), {}),
            (_type_url(phase, "/values"), {"value": "NEW"}),
            (_value_url(phase, arc), {"value": "Z"}), (_value_url(phase, arc, "/delete"), {}),
            (_type_url(phase, "/values/move"), {"value_id": str(arc.id), "parent_id": ""})]


def _state(session, coded):
    session.expire_all()
    return (session.get(ActivityCodeType, coded["phase"].id).name, _values(session, coded["phase"]),
            session.scalar(select(func.count()).select_from(ActivityCodeAssignment)))


@pytest.mark.parametrize("role, status", [(None, 404), (Role.viewer, 403), (Role.finance, 403)],
                         ids=["outsider", "viewer", "finance"])
def test_who_may_not_change_a_type_gets_404_or_403_and_nothing_changes(pages, session, coded, user_with, role,
                                                                       status):
    before = _state(session, coded)
    pages.log_in_as(user_with(role))
    for url, form in _posts(coded):
        assert pages.post(url, form).status_code == status, url
    assert _state(session, coded) == before
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True) if role else ""
    assert "/codes/types/" not in body


def test_every_change_needs_the_csrf_token(pages, session, coded, admin):
    before = _state(session, coded)
    pages.log_in_as(admin)
    for url, form in _posts(coded):
        assert pages.post(url, form, csrf=False).status_code == 400, url
    assert _state(session, coded) == before


def test_a_next_off_the_site_is_not_followed(pages, session, coded, admin):
    pages.log_in_as(admin)
    response = pages.post(_type_url(coded["phase"]), {"name": "Phase", "next": "https://evil.example/x"})
    assert response.status_code == 303 and "evil" not in response.headers["Location"]
    assert response.headers["Location"].endswith(_back(coded))


# An EPS node's code types


def test_editor_of_a_node_lists_adds_and_changes_its_code_types(pages, session, world, plan, user_with):
    pages.log_in_as(user_with(Role.editor))
    node = world["A"]
    assert f'href="/eps/nodes/{node.id}/codes"' in pages.get(f"/eps/nodes/{node.id}").get_data(as_text=True)
    assert "Discipline" in _flash(pages, pages.post(f"/eps/nodes/{node.id}/codes",
                                                    {"name": "Discipline", "max_length": "4"}))
    made = session.scalar(select(ActivityCodeType).where(ActivityCodeType.name == "Discipline"))
    assert (made.scope, made.eps_node_id, made.max_length) == ("eps", node.id, 4)
    back = f"/eps/nodes/{node.id}/codes"
    response = pages.post(_type_url(made, "/values"), {"value": "CIV", "next": back})
    assert response.headers["Location"].endswith(back)
    civ = session.scalar(select(ActivityCodeValue).where(ActivityCodeValue.type_id == made.id))
    pages.post(_type_url(made, "/values"), {"value": "STR", "parent_id": str(civ.id)})
    body = pages.get(back).get_data(as_text=True)
    assert re.findall(r'<tr data-code-type="(\d+)"', body) == [str(made.id)]
    assert 'data-value="CIV"' in body and 'data-value="STR"' in body and f'action="{_type_url(made)}"' in body
    # it applies to the projects below the node: listed on PA's codes page, with a link to the node's page
    project_page = pages.get(_url(plan, "/codes")).get_data(as_text=True)
    assert f'data-code-type="{made.id}"' in project_page and f'href="{back}"' in project_page
    pages.post(_type_url(made), {"name": "Trade", "max_length": "5"})
    session.expire_all()
    assert (made.name, made.max_length) == ("Trade", 5)
    assert "Trade" in _flash(pages, pages.post(_type_url(made, "/delete"), {"next": back}))


def test_a_node_viewer_sees_its_code_types_without_forms_and_gets_403(pages, session, world, admin, user_with):
    node = world["A"]
    made = codes.create_code_type(session, actor=admin, scope="eps", eps_node=node, name="Discipline")
    codes.create_code_value(session, actor=admin, code_type=made, value="CIV")
    session.commit()
    pages.log_in_as(user_with(Role.viewer))
    body = pages.get(f"/eps/nodes/{node.id}/codes").get_data(as_text=True)
    assert "Discipline" in body and 'data-value="CIV"' in body
    assert "/codes/types/" not in body and f'action="/eps/nodes/{node.id}/codes"' not in body
    assert pages.post(f"/eps/nodes/{node.id}/codes", {"name": "Mine"}).status_code == 403
    assert pages.post(_type_url(made), {"name": "Mine"}).status_code == 403
    assert pages.post(f"/eps/nodes/{node.id}/codes", {"name": "Mine"}, csrf=False).status_code == 400
    assert session.scalar(select(func.count()).select_from(ActivityCodeType)) == 1


def test_another_branchs_code_types_are_404(pages, session, world, admin, user_with):
    hidden = codes.create_code_type(session, actor=admin, scope="eps", eps_node=world["B"], name="Secret codes")
    session.commit()
    pages.log_in_as(user_with(Role.manager))
    response = pages.get(f"/eps/nodes/{world['B'].id}/codes")
    assert response.status_code == 404 and "Secret" not in response.get_data(as_text=True)
    assert pages.post(f"/eps/nodes/{world['B'].id}/codes", {"name": "Mine"}).status_code == 404
    assert pages.post(_type_url(hidden), {"name": "Mine"}).status_code == 404
    assert pages.post(_type_url(hidden, "/values"), {"value": "V"}).status_code == 404
    session.expire_all()
    assert hidden.name == "Secret codes"


@pytest.mark.parametrize("locale, expected", [("en", "already exists there"), ("ru", "уже существует")])
def test_a_node_type_named_twice_is_refused_in_the_users_language(pages, session, world, admin, user_with, locale,
                                                                 expected):
    codes.create_code_type(session, actor=admin, scope="eps", eps_node=world["A"], name="Discipline")
    session.commit()
    pages.log_in_as(_editor_in(session, user_with, locale))
    response = pages.post(f"/eps/nodes/{world['A'].id}/codes", {"name": "Discipline"},
                          headers={"Referer": f"http://localhost/eps/nodes/{world['A'].id}/codes"})
    assert expected in html.unescape(_answer(pages, response))
    assert session.scalar(select(func.count()).select_from(ActivityCodeType)) == 1
