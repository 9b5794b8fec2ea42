"""Opening malformed and foreign CSV files: encodings, BOM, delimiters, quotes."""

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.csvio.errors import CsvFormatError
from accounts.csvio.reader import CsvRow, detect_encoding, open_csv, sniff_delimiter

RUSSIAN = 'Название,Отрасль,Выручка\nООО «Ромашка»,Торговля,"1 200,00 руб."\nАО Весна,Связь,500\n'
WESTERN = "Name,City,Note\nCafé Müller,Köln,Straße\nFaçade SA,Besançon,déjà vu\n"


def _write(tmp_path: Path, content: bytes | str, *, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def _read(path: Path, **options: str) -> tuple[tuple[str, ...], list[CsvRow], str, str]:
    with open_csv(path, **options) as table:
        return table.header, list(table), table.encoding, table.delimiter


def test_utf8_file_reads_with_line_numbers(tmp_path: Path) -> None:
    header, rows, encoding, delimiter = _read(_write(tmp_path, RUSSIAN))
    assert header == ("Название", "Отрасль", "Выручка")
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].values == ("ООО «Ромашка»", "Торговля", "1 200,00 руб.")
    assert (encoding, delimiter) == ("utf-8", ",")


def test_cp1251_file_is_detected(tmp_path: Path) -> None:
    header, rows, encoding, _ = _read(_write(tmp_path, RUSSIAN, encoding="cp1251"))
    assert encoding == "cp1251"
    assert header[0] == "Название"
    assert rows[1].values[0] == "АО Весна"


def test_cp1252_file_is_detected(tmp_path: Path) -> None:
    header, rows, encoding, _ = _read(_write(tmp_path, WESTERN, encoding="cp1252"))
    assert encoding == "cp1252"
    assert header == ("Name", "City", "Note")
    assert rows[0].values == ("Café Müller", "Köln", "Straße")


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    _, rows, encoding, _ = _read(_write(tmp_path, WESTERN, encoding="cp1252"), encoding="latin-1")
    assert encoding == "iso8859-1"
    assert rows[1].values[1] == "Besançon"


def test_utf8_bom_is_removed_from_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + "ACCOUNTID,Name\n1,Ромашка\n".encode())
    header, rows, encoding, _ = _read(path)
    assert header == ("ACCOUNTID", "Name")
    assert encoding == "utf-8-sig"
    assert rows == [CsvRow(line=2, end_line=2, values=("1", "Ромашка"))]
    # Asking for plain UTF-8 must not leave the BOM glued to the first column name.
    assert _read(path, encoding="utf-8")[0][0] == "ACCOUNTID"


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "Name\tCity\r\nРомашка\tМосква\r\n", encoding="utf-16")
    header, rows, encoding, delimiter = _read(path)
    assert (header, encoding, delimiter) == (("Name", "City"), "utf-16", "\t")
    assert rows[0].values == ("Ромашка", "Москва")


def test_ascii_start_then_cp1251_later_switches_encoding(tmp_path: Path) -> None:
    lines = ["id,name\n"] + [f"{i},Company {i}\n" for i in range(20000)] + ["20000,Ромашка\n"]
    path = _write(tmp_path, "".join(lines), encoding="cp1251")
    _, rows, _, _ = _read(path)
    assert rows[-1].values == ("20000", "Ромашка")
    assert rows[-1].line == 20002


def test_mixed_encodings_name_the_line(tmp_path: Path) -> None:
    # UTF-8 in the sample, a cp1251 line far beyond it: nothing can be guessed safely.
    content = (
        "id,name\n1,Ромашка\n".encode()
        + b"".join(f"{i},x\n".encode() for i in range(40000))
        + "3,Весна\n".encode("cp1251")
    )
    path = _write(tmp_path, content)
    with pytest.raises(CsvFormatError, match=r"line 40003: .*not valid utf-8.*mixes encodings"):
        _read(path)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["Name", "Amount", "Note"]) + "\n"
    text += delimiter.join(['"Lewis, James"', '"22 700,00"', "a;b|c"]) + "\n"
    text += delimiter.join(["Kirk", "5", "x"]) + "\n"
    header, rows, _, found = _read(_write(tmp_path, text))
    assert found == delimiter
    assert header == ("Name", "Amount", "Note")
    assert rows[0].values[0] == "Lewis, James"


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    text = "Название;Сумма;Дата\nРомашка;1 200,50;15.04.2021\nВесна;300,00;16.04.2021\n"
    _, rows, _, delimiter = _read(_write(tmp_path, text, encoding="cp1251"))
    assert delimiter == ";"
    assert rows[0].values == ("Ромашка", "1 200,50", "15.04.2021")


def test_sniff_delimiter_prefers_consistent_splits() -> None:
    assert sniff_delimiter(["a;b;c", "1,5;2,5;3", "4;5;6"]) == ";"
    assert sniff_delimiter(["single"]) == ","


def test_detect_encoding() -> None:
    assert detect_encoding("Привет, мир".encode("cp1251")) == "cp1251"
    assert detect_encoding("Crème brûlée à la café".encode("cp1252")) == "cp1252"
    assert detect_encoding(b"plain") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfx") == "utf-8-sig"


def test_quoted_newlines_keep_start_and_end_lines(tmp_path: Path) -> None:
    _, rows, _, _ = _read(_write(tmp_path, 'a,b\n1,"two\nlines"\n3,x\n'))
    assert rows == [
        CsvRow(line=2, end_line=3, values=("1", "two\nlines")),
        CsvRow(line=4, end_line=4, values=("3", "x")),
    ]


def test_blank_lines_are_skipped_but_counted_in_line_numbers(tmp_path: Path) -> None:
    _, rows, _, _ = _read(_write(tmp_path, "a,b\r\n\r\n1,2\r\n\r\n3,4\r\n"))
    assert [(r.line, r.values) for r in rows] == [(3, ("1", "2")), (5, ("3", "4"))]


def test_ragged_rows_are_passed_on_for_the_transform_to_report(tmp_path: Path) -> None:
    _, rows, _, _ = _read(_write(tmp_path, "a,b,c\n1,2\n1,2,3,4\n"))
    assert [len(r.values) for r in rows] == [2, 4]


def test_unclosed_quote_names_the_line_it_opened(tmp_path: Path) -> None:
    path = _write(tmp_path, 'a,b\n1,2\n3,"never closed\n5,6\n7,8\n')
    with pytest.raises(CsvFormatError, match=r"^line 3: a quote opened .* never closed"):
        _read(path)


def test_unclosed_quote_in_a_big_file_stops_at_the_field_limit(tmp_path: Path) -> None:
    body = "".join(f"{i},filler text for the row\n" for i in range(20000))
    path = _write(tmp_path, 'a,b\n1,"oops\n' + body)
    with pytest.raises(CsvFormatError, match=r"^line 2: a quote opened"):
        _read(path)


def test_text_after_a_closing_quote_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'a,b\n1,2\n3,"quoted"tail\n')
    with pytest.raises(CsvFormatError, match=r"^line 3: broken quoting"):
        _read(path)


def test_a_quote_inside_an_unquoted_cell_is_kept(tmp_path: Path) -> None:
    _, rows, _, _ = _read(_write(tmp_path, 'a,b\n1,12" pizza\n'))
    assert rows[0].values == ("1", '12" pizza')


@pytest.mark.parametrize("content", [b"", b"\n\n", b"   \r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(CsvFormatError, match="is empty"):
        _read(_write(tmp_path, content))


def test_header_of_empty_names_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="line 1: the header row is empty"):
        _read(_write(tmp_path, ",,\n1,2,3\n"))


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    header, rows, _, _ = _read(_write(tmp_path, "a,b\n"))
    assert header == ("a", "b")
    assert rows == []


def test_binary_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="NUL"):
        _read(_write(tmp_path, b"a,b\n1,\x00\x01\n"))


def test_missing_file_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="cannot open"):
        open_csv(tmp_path / "nope.csv")
    path = _write(tmp_path, "a,b\n")
    with pytest.raises(CsvFormatError, match="delimiter ':'"):
        open_csv(path, delimiter=":")
    with pytest.raises(CsvFormatError, match="unknown encoding"):
        open_csv(path, encoding="klingon")


def test_bare_cr_line_ends_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="bare CR"):
        _read(_write(tmp_path, "a,b\r1,2\r"))


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    header, rows, _, delimiter = _read(_write(tmp_path, "sep=;\r\nName;Amount\r\nLewis, James;1,5\r\n"))
    assert (header, delimiter) == (("Name", "Amount"), ";")
    assert rows == [CsvRow(line=3, end_line=3, values=("Lewis, James", "1,5"))]


def test_an_explicit_encoding_is_never_switched(tmp_path: Path) -> None:
    lines = ["id,name\n"] + [f"{i},Company {i}\n" for i in range(20000)] + ["20000,Ромашка\n"]
    path = _write(tmp_path, "".join(lines), encoding="cp1251")
    with pytest.raises(CsvFormatError, match=r"line 20002: byte 0x[0-9a-f]{2} at position 7 is not valid utf-8"):
        _read(path, encoding="utf-8")


def test_a_bom_contradicting_the_asked_encoding_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + b"a,b\n1,2\n")
    with pytest.raises(CsvFormatError, match="a UTF-8 byte order mark but the encoding asked for is cp1251"):
        _read(path, encoding="cp1251")


_CELL = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,;|\t\"'\nЁёЖжЩщ«»№-.")), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=15),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_whatever_csv_writes_reads_back_with_its_lines(
    tmp_path: Path, rows: list[list[str]], delimiter: str, encoding: str, line_end: str
) -> None:
    """Round trip: the standard writer's output, given its delimiter, reads back cell for cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["first", "second", "third"])
    writer.writerows(rows)
    path = tmp_path / "round.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    with open_csv(path, encoding=encoding, delimiter=delimiter) as table:
        read = list(table)
    # With a plain header the delimiter is found without being told.
    with open_csv(path, encoding=encoding) as table:
        assert table.delimiter == delimiter
        assert table.header == ("first", "second", "third")
    assert [r.values for r in read] == [tuple(r) for r in rows]
    line = 2
    for row, cells in zip(read, rows, strict=True):
        newlines = sum(cell.count("\n") for cell in cells)
        assert (row.line, row.end_line) == (line, line + newlines)
        line += newlines + 1
