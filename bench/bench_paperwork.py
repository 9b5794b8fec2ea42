"""Generated paperwork: filling a DOCX template, and DOCX → PDF by LibreOffice, against an HTML → PDF peer.

    PYTHONPATH=. python bench/bench_paperwork.py [--runs 10]

Measured in one run on the same invoice (the default ``invoice.ru`` template, 20 lines):
- docxtpl filling the template (what every DOCX request costs);
- LibreOffice ``soffice --headless --convert-to pdf`` with a kept profile (``accounts.paperwork.pdf``, warm) and
  with a fresh profile each time (cold: what a private profile per conversion would cost);
- the peer: Chromium's headless ``--print-to-pdf`` of the same invoice as HTML (the renderer an HTML → PDF
  route would use on this machine; WeasyPrint is not installed), and two LibreOffice conversions at once
  (``MAX_CONVERSIONS``) against two one after the other.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment

from accounts.paperwork import context, pdf
from accounts.paperwork.render import Fields, render
from accounts.paperwork.words import money

TEMPLATE = Path(context.__file__).parent / "templates" / "invoice.ru.docx"
HTML = Environment(autoescape=True).from_string("""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<style>body{font:10pt 'Liberation Sans'} table{border-collapse:collapse;width:100%} td,th{border:1px solid #000;
padding:2px}</style></head><body>
<table><tr><td>{{ seller.bank_name }}</td><td>БИК</td><td>{{ seller.bank_bik }}</td></tr>
<tr><td>ИНН {{ seller.inn }} КПП {{ seller.kpp }}</td><td>Сч. №</td><td>{{ seller.bank_account }}</td></tr></table>
<h2>Счёт на оплату № {{ invoice.number }} от {{ invoice.date }}</h2>
<p>Поставщик: {{ seller.name }}, ИНН {{ seller.inn }}</p><p>Покупатель: {{ buyer.name }}, ИНН {{ buyer.inn }}</p>
<table><tr><th>№</th><th>Товары</th><th>Кол-во</th><th>Ед.</th><th>Цена</th><th>Сумма</th></tr>
{% for line in lines %}<tr><td>{{ line.n }}</td><td>{{ line.name }}</td><td>{{ line.quantity }}</td>
<td>{{ line.unit }}</td><td>{{ line.price }}</td><td>{{ line.amount }}</td></tr>{% endfor %}</table>
<p>Итого: {{ totals.subtotal }}; {{ totals.vat_label }}: {{ totals.vat }}; Всего к оплате: {{ totals.total }}</p>
<p>{{ totals.words }}</p><p>Руководитель ______ /{{ seller.director }}/</p></body></html>""")


def sample_with_lines(count: int) -> dict:
    values = context.sample("invoice", "ru")
    values["lines"] = [Fields("line", {"n": n, "name": f"Работы этапа {n}", "unit": "усл.", "quantity": "1",
                                       "price": money(Decimal("1000"), "ru"), "amount": money(Decimal("1000"), "ru"),
                                       "vat": money(Decimal("220"), "ru")}) for n in range(1, count + 1)]
    return values


def timed(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_conversion(docx: bytes) -> None:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "d.docx"
        source.write_bytes(docx)
        subprocess.run([pdf.soffice_path(), f"-env:UserInstallation={(Path(work) / 'profile').as_uri()}",
                        "--headless", "--convert-to", "pdf", "--outdir", work, str(source)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"HOME": work, "PATH": "/usr/bin"})


def chromium_conversion(html: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "d.html"
        source.write_text(html, encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={work}/profile",
                        f"--print-to-pdf={work}/d.pdf", source.as_uri()], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        assert (Path(work) / "d.pdf").stat().st_size > 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args()
    values = sample_with_lines(args.lines)
    template = TEMPLATE.read_bytes()
    docx = render(template, values)
    rows = [("docxtpl fills the invoice template", timed(lambda: render(template, values), args.runs))]
    if pdf.available():
        pdf.docx_to_pdf(docx)  # the kept profile is made on the first conversion
        warm = timed(lambda: pdf.docx_to_pdf(docx), args.runs)
        rows.append(("LibreOffice DOCX → PDF, kept profile (crmpm)", warm))
        rows.append(("LibreOffice DOCX → PDF, fresh profile each time", timed(lambda: cold_conversion(docx), 3)))
        with ThreadPoolExecutor(4) as pool:
            start = time.perf_counter()
            list(pool.map(lambda _: pdf.docx_to_pdf(docx), range(4)))
            rows.append(("4 requests at once, 2 conversions at a time (wall)", time.perf_counter() - start))
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        html = HTML.render(**values)
        rows.append(("peer: Chromium headless HTML → PDF, same invoice", timed(lambda: chromium_conversion(html), 5)))
    width = max(len(name) for name, _ in rows)
    print(f"{'step'.ljust(width)}  median s")
    for name, seconds in rows:
        print(f"{name.ljust(width)}  {seconds:8.3f}")


if __name__ == "__main__":
    main()
