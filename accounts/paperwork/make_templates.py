"""Write the default paperwork templates (``templates/<kind>.<lang>.docx``) with python-docx.

The templates are committed together with this script, and the script makes the same bytes every time
(fixed document properties and zip timestamps), so ``python -m accounts.paperwork.make_templates`` after a
change here shows the change in ``git diff`` as new files, and a test checks the committed files are this
script's output. Placeholders are docxtpl's (Jinja): ``{{ seller.inn }}``; the table rows of ``lines`` repeat
through ``{%tr for line in lines %}``; what each name holds is ``accounts.paperwork.context``.

    python -m accounts.paperwork.make_templates [DIRECTORY]
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

KINDS = ("offer", "contract", "invoice", "act")
LANGUAGES = ("ru", "en")
HERE = Path(__file__).resolve().parent / "templates"
FIXED_TIME = datetime(2026, 1, 1)

T = {
    "ru": {
        "no": "№", "item": "Товары (работы, услуги)", "work": "Наименование работ, услуг", "qty": "Кол-во",
        "unit": "Ед.", "price": "Цена", "amount": "Сумма",
        "total": "Итого:", "to_pay": "Всего к оплате:", "total_with_vat": "Всего (с НДС):",
        "inn": "ИНН", "kpp": "КПП", "seller": "Поставщик (Исполнитель):", "buyer": "Покупатель (Заказчик):",
        "executor": "Исполнитель:", "customer": "Заказчик:", "basis": "Основание:",
        "director": "Руководитель", "accountant": "Бухгалтер",
    },
    "en": {
        "no": "No.", "item": "Goods (work, services)", "work": "Work and services", "qty": "Qty",
        "unit": "Unit", "price": "Price", "amount": "Amount",
        "total": "Subtotal:", "to_pay": "Total due:", "total_with_vat": "Total (incl. VAT):",
        "inn": "INN", "kpp": "KPP", "seller": "Supplier (Contractor):", "buyer": "Buyer (Customer):",
        "executor": "Contractor:", "customer": "Customer:", "basis": "Basis:",
        "director": "Director", "accountant": "Chief accountant",
    },
}


def _new_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(1.8)
    section.top_margin = section.bottom_margin = Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.name = "Liberation Sans"
    normal.font.size = Pt(10)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Liberation Sans")
    normal.paragraph_format.space_after = Pt(3)
    props = doc.core_properties
    props.author = props.last_modified_by = "crmpm"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.title = ""
    return doc


def _p(doc, text="", *, bold=False, size=None, align=None, space_before=None):
    paragraph = doc.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
    if align == "center":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if space_before is not None:
        paragraph.paragraph_format.space_before = Pt(space_before)
    return paragraph


def _labelled(doc, label, text):
    paragraph = doc.add_paragraph()
    paragraph.add_run(label + " ").bold = True
    paragraph.add_run(text)
    return paragraph


def _cell(cell, text, *, bold=False, align=None):
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = bold
    if align == "right":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _widths(table, widths):
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Cm(width)


def _lines_table(doc, t, *, with_unit=True, heading_key="item"):
    headers = [t["no"], t[heading_key], t["qty"]] + ([t["unit"]] if with_unit else []) + [t["price"], t["amount"]]
    fields = ["{{ line.n }}", "{{ line.name }}", "{{ line.quantity }}"] + (
        ["{{ line.unit }}"] if with_unit else []) + ["{{ line.price }}", "{{ line.amount }}"]
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers):
        _cell(cell, header, bold=True, align="center")
    _cell(table.rows[1].cells[0], "{%tr for line in lines %}")
    for index, (cell, field) in enumerate(zip(table.rows[2].cells, fields)):
        _cell(cell, field, align="right" if index >= 2 and field != "{{ line.unit }}" else None)
    _cell(table.rows[3].cells[0], "{%tr endfor %}")
    _widths(table, [1.0, 8.4, 1.6] + ([1.4] if with_unit else []) + [2.5, 2.8])
    return table


def _totals(doc, t, *, last_key="to_pay"):
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.RIGHT
    rows = [(t["total"], "{{ totals.subtotal }}"), ("{{ totals.vat_label }}:", "{{ totals.vat }}"),
            (t[last_key], "{{ totals.total }}")]
    for row, (label, value) in zip(table.rows, rows):
        _cell(row.cells[0], label, bold=True, align="right")
        _cell(row.cells[1], value, bold=True, align="right")
    _widths(table, [5.0, 3.2])


def _signature_line(doc, left, right):
    _p(doc, f"{left} ____________________ /{right}/", space_before=14)


def _rule(paragraph):
    """A line under a paragraph (the heavy rule under an invoice's title)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr.append(borders)


def _requisites(prefix, t, lang):
    bank = "Банк" if lang == "ru" else "Bank"
    bik = "БИК" if lang == "ru" else "BIC"
    account = "р/с" if lang == "ru" else "Account"
    corr = "к/с" if lang == "ru" else "Corr. account"
    address = "Адрес" if lang == "ru" else "Address"
    return [f"{{{{ {prefix}.name }}}}", f"{t['inn']} {{{{ {prefix}.inn }}}}, {t['kpp']} {{{{ {prefix}.kpp }}}}",
            f"{address}: {{{{ {prefix}.address }}}}",
            f"{account} {{{{ {prefix}.bank_account }}}}, {bank}: {{{{ {prefix}.bank_name }}}}",
            f"{bik} {{{{ {prefix}.bank_bik }}}}, {corr} {{{{ {prefix}.bank_corr_account }}}}"]


def invoice(lang: str) -> Document:
    t = T[lang]
    doc = _new_document()
    ru = lang == "ru"
    bank = doc.add_table(rows=4, cols=3)
    bank.style = "Table Grid"
    _cell(bank.rows[0].cells[0], "{{ seller.bank_name }}")
    _cell(bank.rows[0].cells[1], "БИК" if ru else "BIC")
    _cell(bank.rows[0].cells[2], "{{ seller.bank_bik }}")
    _cell(bank.rows[1].cells[0], "Банк получателя" if ru else "Beneficiary's bank")
    _cell(bank.rows[1].cells[1], "Сч. №" if ru else "Corr. account")
    _cell(bank.rows[1].cells[2], "{{ seller.bank_corr_account }}")
    _cell(bank.rows[2].cells[0], f"{t['inn']} {{{{ seller.inn }}}}    {t['kpp']} {{{{ seller.kpp }}}}")
    _cell(bank.rows[2].cells[1], "Сч. №" if ru else "Account")
    _cell(bank.rows[2].cells[2], "{{ seller.bank_account }}")
    _cell(bank.rows[3].cells[0], ("Получатель: " if ru else "Beneficiary: ") + "{{ seller.name }}")
    _widths(bank, [10.5, 2.2, 5.0])
    title = _p(doc, ("Счёт на оплату № {{ invoice.number }} от {{ invoice.date }}" if ru
                     else "Invoice No. {{ invoice.number }} of {{ invoice.date }}"), bold=True, size=14, space_before=12)
    _rule(title)
    _labelled(doc, t["seller"], f"{{{{ seller.name }}}}, {t['inn']} {{{{ seller.inn }}}}, {t['kpp']} "
                                "{{ seller.kpp }}, {{ seller.address }}")
    _labelled(doc, t["buyer"], f"{{{{ buyer.name }}}}, {t['inn']} {{{{ buyer.inn }}}}, {t['kpp']} "
                               "{{ buyer.kpp }}, {{ buyer.address }}")
    _labelled(doc, t["basis"], "{{ deal.name }}")
    _lines_table(doc, t)
    _totals(doc, t)
    _p(doc, ("Всего наименований {{ totals.count }}, на сумму {{ totals.total }} {{ totals.currency }}, "
             "в т.ч. {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}" if ru else
             "Total items: {{ totals.count }}, amount {{ totals.total }} {{ totals.currency }}, "
             "including {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}"), space_before=6)
    _p(doc, "{{ totals.words }}", bold=True)
    _p(doc, ("Оплатить не позднее {{ invoice.due_date }}" if ru else "Payment due by {{ invoice.due_date }}"))
    rule = _p(doc)
    _rule(rule)
    _signature_line(doc, t["director"], "{{ seller.director }}")
    _signature_line(doc, t["accountant"], "{{ seller.accountant }}")
    return doc


def act(lang: str) -> Document:
    t = T[lang]
    ru = lang == "ru"
    doc = _new_document()
    title = _p(doc, ("Акт № {{ invoice.number }} от {{ invoice.act_date }}" if ru
                     else "Certificate of completed work No. {{ invoice.number }} of {{ invoice.act_date }}"),
               bold=True, size=14)
    _rule(title)
    _labelled(doc, t["executor"], f"{{{{ seller.name }}}}, {t['inn']} {{{{ seller.inn }}}}, {t['kpp']} "
                                  "{{ seller.kpp }}, {{ seller.address }}")
    _labelled(doc, t["customer"], f"{{{{ buyer.name }}}}, {t['inn']} {{{{ buyer.inn }}}}, {t['kpp']} "
                                  "{{ buyer.kpp }}, {{ buyer.address }}")
    _labelled(doc, t["basis"], ("счёт № {{ invoice.number }} от {{ invoice.date }}, {{ deal.name }}" if ru else
                                "invoice No. {{ invoice.number }} of {{ invoice.date }}, {{ deal.name }}"))
    _lines_table(doc, t, heading_key="work")
    _totals(doc, t, last_key="total_with_vat")
    _p(doc, ("Всего оказано услуг {{ totals.count }}, на сумму {{ totals.total }} {{ totals.currency }}, "
             "в т.ч. {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}" if ru else
             "Total services: {{ totals.count }}, amount {{ totals.total }} {{ totals.currency }}, "
             "including {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}"), space_before=6)
    _p(doc, "{{ totals.words }}", bold=True)
    _p(doc, ("Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объёму, качеству и "
             "срокам оказания услуг не имеет." if ru else
             "The work and services above have been completed in full and on time. The Customer has no claims "
             "as to their scope, quality or timing."))
    signatures = doc.add_table(rows=3, cols=2)
    _cell(signatures.rows[0].cells[0], "ИСПОЛНИТЕЛЬ" if ru else "CONTRACTOR", bold=True)
    _cell(signatures.rows[0].cells[1], "ЗАКАЗЧИК" if ru else "CUSTOMER", bold=True)
    _cell(signatures.rows[1].cells[0], "{{ seller.name }}")
    _cell(signatures.rows[1].cells[1], "{{ buyer.name }}")
    _cell(signatures.rows[2].cells[0], "____________________ /{{ seller.director }}/")
    _cell(signatures.rows[2].cells[1], "____________________ /____________________/")
    _widths(signatures, [8.7, 8.7])
    return doc


def _milestones(doc, ru):
    _p(doc, "Этапы и сроки" if ru else "Stages and dates", bold=True, space_before=8)
    _p(doc, "{%p for m in schedule_milestones %}")
    _p(doc, "{{ m.n }}. {{ m.name }} — {{ m.date }}")
    _p(doc, "{%p endfor %}")
    _p(doc, "Порядок оплаты" if ru else "Payment schedule", bold=True, space_before=8)
    _p(doc, "{%p for m in billing_milestones %}")
    _p(doc, "{{ m.n }}. {{ m.name }} — {{ m.amount }} {{ totals.currency }}"
            + (" (без НДС), {{ m.date }}" if ru else " (excl. VAT), {{ m.date }}"))
    _p(doc, "{%p endfor %}")


def offer(lang: str) -> Document:
    t = T[lang]
    ru = lang == "ru"
    doc = _new_document()
    _p(doc, "{{ seller.name }}", bold=True)
    _p(doc, f"{t['inn']} {{{{ seller.inn }}}}, {{{{ seller.address }}}}")
    _p(doc, ("Кому: {{ buyer.name }}" if ru else "To: {{ buyer.name }}"), align="right")
    _p(doc, "{{ doc.date }}", align="right")
    _p(doc, "Коммерческое предложение" if ru else "Commercial offer", bold=True, size=14, align="center",
       space_before=10)
    _p(doc, ("{{ deal.name }} ({{ deal.code }})"), align="center")
    _p(doc, ("Предлагаем выполнить работы и поставить продукты на следующих условиях:" if ru else
             "We offer the following work and products on these terms:"))
    _lines_table(doc, t)
    _totals(doc, t, last_key="total_with_vat")
    _p(doc, ("Итого по предложению: {{ totals.total }} {{ totals.currency }} ({{ totals.words }}), "
             "в т.ч. {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}" if ru else
             "Offer total: {{ totals.total }} {{ totals.currency }} ({{ totals.words }}), including "
             "{{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}"), space_before=6)
    _milestones(doc, ru)
    _p(doc, ("Предложение действительно 30 дней с {{ doc.date }}." if ru else
             "This offer is valid for 30 days from {{ doc.date }}."), space_before=8)
    _signature_line(doc, t["director"], "{{ seller.director }}")
    return doc


def contract(lang: str) -> Document:
    t = T[lang]
    ru = lang == "ru"
    doc = _new_document()
    _p(doc, ("Договор № {{ doc.number }}" if ru else "Contract No. {{ doc.number }}"), bold=True, size=14,
       align="center")
    _p(doc, "{{ doc.date }}", align="right")
    _p(doc, ("{{ seller.name }} (ИНН {{ seller.inn }}), именуемое в дальнейшем «Исполнитель», в лице руководителя "
             "{{ seller.director }}, с одной стороны, и {{ buyer.name }} (ИНН {{ buyer.inn }}), именуемое в "
             "дальнейшем «Заказчик», с другой стороны, заключили настоящий договор о нижеследующем." if ru else
             "{{ seller.name }} (INN {{ seller.inn }}), the Contractor, represented by its director "
             "{{ seller.director }}, and {{ buyer.name }} (INN {{ buyer.inn }}), the Customer, agree as follows."))
    _p(doc, "1. Предмет договора" if ru else "1. Subject", bold=True, space_before=8)
    _p(doc, ("1.1. Исполнитель обязуется выполнить работы по проекту «{{ deal.name }}» ({{ deal.code }}) и "
             "поставить продукты, перечисленные ниже, а Заказчик — принять и оплатить их." if ru else
             "1.1. The Contractor shall perform the work of the project “{{ deal.name }}” ({{ deal.code }}) and "
             "supply the products listed below; the Customer shall accept and pay for them."))
    _lines_table(doc, t)
    _p(doc, "2. Цена договора" if ru else "2. Price", bold=True, space_before=8)
    _p(doc, ("2.1. Цена договора составляет {{ totals.total }} {{ totals.currency }} ({{ totals.words }}), "
             "в т.ч. {{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}; без НДС — "
             "{{ totals.subtotal }} {{ totals.currency }}" if ru else
             "2.1. The contract price is {{ totals.total }} {{ totals.currency }} ({{ totals.words }}), including "
             "{{ totals.vat_label }} {{ totals.vat }} {{ totals.currency }}; excluding VAT "
             "{{ totals.subtotal }} {{ totals.currency }}"))
    _milestones(doc, ru)
    _p(doc, "Реквизиты и подписи сторон" if ru else "Parties' details and signatures", bold=True, space_before=8)
    table = doc.add_table(rows=7, cols=2)
    table.style = "Table Grid"
    _cell(table.rows[0].cells[0], "Исполнитель" if ru else "Contractor", bold=True)
    _cell(table.rows[0].cells[1], "Заказчик" if ru else "Customer", bold=True)
    for row, left, right in zip(table.rows[1:6], _requisites("seller", t, lang), _requisites("buyer", t, lang)):
        _cell(row.cells[0], left)
        _cell(row.cells[1], right)
    _cell(table.rows[6].cells[0], "____________________ /{{ seller.director }}/")
    _cell(table.rows[6].cells[1], "____________________ /____________________/")
    _widths(table, [8.7, 8.7])
    return doc


MAKERS = {"offer": offer, "contract": contract, "invoice": invoice, "act": act}


def template_bytes(kind: str, lang: str) -> bytes:
    """The default template of a kind in a language, the same bytes on every run."""
    buffer = io.BytesIO()
    MAKERS[kind](lang).save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's timestamp fixed, so the file does not change from run to run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else HERE
    directory.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        for lang in LANGUAGES:
            (directory / f"{kind}.{lang}.docx").write_bytes(template_bytes(kind, lang))


if __name__ == "__main__":
    main()
