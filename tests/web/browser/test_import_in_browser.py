"""Importing a CSV file in a real browser: upload, the first rows as read, the dry run's progress bar and row
errors, then the import of the good rows. The jobs run in the test's process (``run_due``) while the page's
script follows them."""

from __future__ import annotations

import json
import re

import pytest

from crmpm.jobs.runner import run_due

AM = "am@crmpm.local"
# The deal goes to a Moscow client: the other browser tests share this server and expand the St Petersburg
# branch of the budget tree, where a new project would show.
MAPPING = {"columns": {"No": "external_id", "Deal": "title", "Client": "account", "Stage": "stage",
                       "Sum": "amount"},
           "defaults": {"currency": "RUB"}, "pipeline": "B2B projects"}
CSV = ("No;Deal;Client;Stage;Sum\n"
       "BR-1;Browser pumps;Tverskaya Tech;Proposal;1 500 000,00\n"
       "BR-2;Browser valves;Nowhere Ltd;Qualification;20 000\n")


@pytest.fixture
def jobs_here(live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "JOBS_URL", "memory://")


def _run_jobs(live_server) -> None:
    assert [status for _job, status in run_due(live_server.app)] == ["succeeded"]


def test_upload_check_and_import_with_a_live_progress_bar(log_in, screenshot, live_server, jobs_here):
    page = log_in(AM)
    page.click("nav.menu >> text=Import")
    page.wait_for_url(live_server.url("/crm/import"))
    page.select_option("select[name=kind]", "deals")
    page.set_input_files("input[name=file]", files=[{"name": "deals.csv", "mimeType": "text/csv",
                                                     "buffer": CSV.encode("utf-8")}])
    page.fill("textarea[name=mapping]", json.dumps(MAPPING))
    page.click("form.import-form button[type=submit]")
    page.wait_for_url(re.compile(r"/crm/imports/\d+$"))
    preview = page.locator(".import-preview table").inner_text()
    assert "Browser pumps" in preview and "1500000.00" in preview and "Tverskaya Tech" in preview
    assert page.locator("progress[data-bar]").count() == 1
    screenshot(page, "crm-import-queued")

    _run_jobs(live_server)  # the page's script sees it finish and shows the report
    page.wait_for_selector("text=Dry run: nothing was written.")
    errors = page.locator("table.import-errors").inner_text()
    assert "Nowhere Ltd" in errors and "3" in errors
    screenshot(page, "crm-import-dry-run")

    page.check("input[name=partial]")
    page.click("form.import-actions button[type=submit]")
    page.wait_for_selector("text=The import has started.")
    _run_jobs(live_server)
    page.wait_for_selector("text=Imported.")
    figures = page.locator("table.import-figures").inner_text()
    assert re.search(r"Created\s+1", figures) and re.search(r"Rows with errors\s+1", figures)
    screenshot(page, "crm-import-done")
