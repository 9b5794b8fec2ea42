"""The capacity page: the table with over-allocation marked, the SVG histogram, filters, and no leaks."""

from __future__ import annotations

import re
from datetime import datetime

from eps.models import Role
from tests.wbs.resources import oracle


def _world(session, admin, world):
    cal = oracle.calendar(session)
    shared = oracle.resource(session, calendar_=cal, node=world["A"], name="Shared engineer", code="SHARED")
    secret = oracle.resource(session, calendar_=cal, node=world["B"], name="Hidden welder", code="HIDDEN-RES")
    start, finish = datetime(2027, 5, 3, 9, 0), datetime(2027, 5, 7, 18, 0)
    oracle.assign(session, project=world["PA"], resource_=shared, start=start, finish=finish, remaining=30.0)
    oracle.assign(session, project=world["PB"], resource_=shared, start=start, finish=finish, remaining=20.0)
    oracle.assign(session, project=world["PB"], resource_=secret, start=start, finish=finish, remaining=10.0)
    session.commit()
    return shared, secret


def test_a_viewer_sees_booked_and_other_hours_marked_over_and_nothing_they_cannot_read(pages, session, admin, world,
                                                                                    user_with):
    shared, secret = _world(session, admin, world)
    viewer = user_with(Role.viewer)
    page = pages.log_in_as(viewer).get(f"/capacity/?from=2027-05-03&to=2027-05-09&period=week&resource={shared.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for hidden in ("Hidden welder", "HIDDEN-RES", "Secret Project PB", "Secret Branch B", "PB"):
        assert hidden not in html
    row = re.search(rf'<tr data-resource="{shared.id}">(.*?)</tr>', html, re.S).group(1)
    # 30 h readable + 20 h elsewhere = 50 h booked against 40 h available: over-allocated.
    assert re.search(r'<span data-booked>50</span>/<span data-available>40</span>', row)
    assert "data-over" in row
    assert f'data-histogram="{shared.id}"' in html and "<svg" in html


def test_the_page_is_in_the_menu_and_in_russian(pages, session, admin, world):
    pages.log_in_as(admin)
    home = pages.get("/").get_data(as_text=True)
    assert 'href="/capacity/"' in home
    admin.locale = "ru"
    session.commit()
    russian = pages.get("/capacity/").get_data(as_text=True)
    assert "Загрузка ресурсов" in russian


def test_bad_dates_and_ranges_are_explained_not_failed(pages, session, admin, world):
    pages.log_in_as(admin)
    page = pages.get("/capacity/?from=2027-13-40&to=2027-05-09&period=week")
    assert page.status_code == 200 and "data-error" in page.get_data(as_text=True)
    page = pages.get("/capacity/?from=2027-05-09&to=2027-05-01&period=fortnight")
    assert page.status_code == 200 and "data-error" in page.get_data(as_text=True)


def test_an_unreadable_node_filter_is_a_404(pages, session, admin, world, user_with):
    viewer = user_with(Role.viewer)
    assert pages.log_in_as(viewer).get(f"/capacity/?eps_node={world['B'].id}").status_code == 404
    assert pages.get(f"/capacity/?branch={world['B'].id}").status_code == 404
    assert pages.get(f"/capacity/?eps_node={world['A'].id}").status_code == 200
