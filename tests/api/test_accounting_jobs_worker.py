"""The accounting exchange's jobs run by a real worker process: a cost file travels to it in the database and
is booked as the synchronous request books it; an export's file comes back through it."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from accounts.accounting import commerceml
from tests import factories
from tests.accounts.accounting import world as worlds
from tests.api.test_wbs_jobs_worker import _done, served  # noqa: F401 - the fixture

COSTS = ("project;cost_account;date;amount;description;document\r\n"
         "PRJ-1;20.01;2026-11-03;1200.40;Materials;D1\r\n"
         "NOPE;20.01;2026-11-03;5.00;Lost;D2\r\n").encode()


def test_a_worker_books_costs_and_writes_the_export(served):  # noqa: F811
    session, api, log = served
    world = worlds.build(session)
    buyer = factories.account(session, actor=world["admin"], region=world["east"], name="Buyer",
                              tax_id="7707083893")
    worlds.invoice(session, project=world["p1"], account=buyer, number=3, issue_date=date(2026, 11, 2))
    session.commit()
    admin = world["admin"]
    started = api.post("/api/v1/accounting/cost-imports?async=true", user=admin, json=None,
                       data={"file": (BytesIO(COSTS), "costs.csv")}, content_type="multipart/form-data")
    job = _done(api, admin, started, log)
    assert job["status"] == "succeeded", job["error"]
    assert (job["result"]["applied"], job["result"]["unmatched"]) == (1, 1)
    again = api.post("/api/v1/accounting/cost-imports", user=admin, json=None,
                     data={"file": (BytesIO(COSTS), "costs.csv")}, content_type="multipart/form-data")
    assert again.status_code == 201 and again.json["duplicates"] == 1 and again.json["applied"] == 0
    export = _done(api, admin, api.get("/api/v1/accounting/export?from=2026-11-01&to=2026-11-30&async=true",
                                       user=admin), log)
    assert export["status"] == "succeeded", export["error"]
    file = api.get(f"/api/v1/jobs/{export['id']}/file", user=admin)
    assert file.status_code == 200 and commerceml.validate(file.data) == []
    assert b"<\xd0\x9d\xd0\xbe\xd0\xbc\xd0\xb5\xd1\x80>3<" in file.data  # <Номер>3<
