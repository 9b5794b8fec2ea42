"""The accounting exchange in a real browser: finance uploads actual costs and downloads the file for 1C."""

from __future__ import annotations

import re

from accounts.accounting import commerceml


def test_finance_imports_costs_and_exports_for_1c(log_in, screenshot, live_server, tmp_path):
    page = log_in("finance@crmpm.local")
    page.click("nav.menu >> text=Accounting exchange (1C)")
    page.wait_for_url(live_server.url("/finance/accounting/"))
    costs = tmp_path / "costs.csv"
    costs.write_bytes(("Код проекта;Статья затрат;Дата;Сумма;Содержание;Документ\r\n"
                       "TVT-ERP;20.01;03.11.2026;12 500,00;Лицензии;Поступление 7\r\n"
                       "NO-SUCH;20.01;03.11.2026;1,00;x;Поступление 8\r\n").encode("cp1251"))
    page.set_input_files("input[name=file]", str(costs))
    page.click("button:has-text('Import')")
    page.wait_for_url(re.compile(r"/finance/accounting/runs/\d+$"))
    body = page.locator("main").inner_text()
    assert "NO-SUCH" in body and "no such project" in body
    screenshot(page, "accounting-run")
    page.goto(live_server.url(f"/finance/projects/{live_server.id_of('TVT-ERP')}"))
    expenses = page.locator("#expenses").inner_text()
    assert "Лицензии" in expenses and "20.01" in expenses
    page.goto(live_server.url("/finance/accounting/"))
    page.fill("input[name=date_from]", "2020-01-01")
    page.fill("input[name=date_to]", "2022-12-31")
    with page.expect_download() as caught:
        page.click("button:has-text('Download the file for 1C')")
    path = caught.value.path()
    assert commerceml.validate(open(path, "rb").read()) == []
    assert page.url == live_server.url("/finance/accounting/")  # the download leaves the page where it was
