"""Open a CSV export robustly: encoding, BOM, delimiter and quoting, row by row.

The file is streamed: only a sample (256 KiB) is held for detection, then the
rows are decoded and parsed one physical line at a time, so every row and every
error carries the exact 1-based line number of the file.

Usage::

    with open_csv(path) as table:
        table.header            # ('ACCOUNTID', 'Account Name', ...)
        for row in table:       # CsvRow(line=2, end_line=2, values=(...))
            ...
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from accounts.csvio.errors import CsvFormatError

__all__ = ["CsvRow", "CsvTable", "DELIMITERS", "ENCODINGS", "detect_encoding", "open_csv", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
# The encodings a Russian CRM meets in practice: UTF-8 (with or without BOM), Windows
# Cyrillic from 1C and old Excel, Windows Western from Excel in Europe and the US,
# UTF-16 from Excel's "Unicode text".
ENCODINGS = ("utf-8", "utf-8-sig", "cp1251", "cp1252", "utf-16")
SAMPLE_BYTES = 256 * 1024
SNIFF_LINES = 50

_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_CP1251_UNDEFINED = frozenset(b"\x98")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One CSV record with the file lines it came from (several when a quoted cell has newlines)."""

    line: int
    end_line: int
    values: tuple[str, ...]


def detect_encoding(sample: bytes) -> str:
    """Guess the encoding of a byte sample: a BOM, else UTF-8 if it decodes, else cp1251 or cp1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    present = set(sample)
    if present & _CP1252_UNDEFINED:
        return "cp1251"
    if present & _CP1251_UNDEFINED:
        return "cp1252"
    # Russian words are runs of bytes 0xC0-0xFF; in Western European text the same
    # bytes are lone accented letters between ASCII ones (café, Müller, façade).
    letters = paired = 0
    previous_high = False
    for byte in sample:
        high = byte >= 0xC0 or byte in (0xA8, 0xB8)
        if high:
            letters += 1
            if previous_high:
                paired += 1
        previous_high = high
    return "cp1251" if letters and paired * 2 >= letters else "cp1252"


def sniff_delimiter(lines: list[str]) -> str:
    """Pick the delimiter among , ; tab | that splits the header and rows most consistently."""
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        consistency = sum(len(r) == width for r in rows) / len(rows)
        score = (width > 1, consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass
class CsvTable:
    """An open CSV file (or workbook sheet): detected format, the header, and an iterator of CsvRow."""

    path: Path
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    _rows: Iterator[CsvRow] = field(repr=False)
    _file: BinaryIO = field(repr=False)
    sheet: str | None = None  # the sheet read, for an .xlsx workbook (``accounts.csvio.workbook``)

    def __iter__(self) -> Iterator[CsvRow]:
        return self._rows

    def close(self) -> None:
        """Close the underlying file."""
        self._file.close()

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _describe_decode_error(exc: UnicodeDecodeError, encoding: str) -> str:
    bad = exc.object[exc.start : exc.start + 1].hex()
    return f"byte 0x{bad} at position {exc.start + 1} is not valid {encoding}"


def _lines(handle: BinaryIO, *, encoding: str, offset: int, detected: bool) -> Iterator[str]:
    """Decode the file one physical line at a time, so a bad byte is reported with its line."""
    handle.seek(offset)
    if encoding == "utf-16":
        # UTF-16 cannot be split on b"\n"; let the text layer do it (Excel "Unicode text").
        text = io.TextIOWrapper(handle, encoding="utf-16", newline="")
        number = 0
        try:
            for number, line in enumerate(text, start=1):  # noqa: B007 - number used in except
                yield line
        except UnicodeDecodeError as exc:
            raise CsvFormatError(_describe_decode_error(exc, encoding), line=number + 1) from None
        finally:
            text.detach()
        return
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    only_ascii_so_far = True
    for number, raw in enumerate(handle, start=1):
        if number == 1 and encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if b"\x00" in raw:
            # Python 3.11's csv accepts NUL; it only ever means a binary or UTF-16 file without BOM.
            raise CsvFormatError(
                "the line contains a NUL byte: a binary file, or UTF-16 without a byte order mark; "
                'save it as "CSV UTF-8"',
                line=number,
            )
        try:
            line = raw.decode(codec)
        except UnicodeDecodeError as exc:
            if detected and codec == "utf-8" and only_ascii_so_far:
                # The sample was pure ASCII; the first accented line tells the real
                # encoding, and everything before reads the same in all of them.
                codec = detect_encoding(raw)
                try:
                    line = raw.decode(codec)
                except UnicodeDecodeError as second:
                    raise CsvFormatError(_describe_decode_error(second, codec), line=number) from None
            elif detected:
                raise CsvFormatError(
                    f"{_describe_decode_error(exc, codec)}: the file mixes encodings; "
                    'save it as UTF-8 or set "encoding" in the mapping',
                    line=number,
                ) from None
            else:
                raise CsvFormatError(
                    f'{_describe_decode_error(exc, codec)}, the encoding asked for: fix "encoding" in the mapping',
                    line=number,
                ) from None
        if only_ascii_so_far and not raw.isascii():
            only_ascii_so_far = False
        yield line


def _records(lines: Iterator[str], *, delimiter: str) -> Iterator[CsvRow]:
    """Parse decoded lines into CsvRow, turning csv quoting errors into CsvFormatError."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    previous_end = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start = previous_end + 1
            message = str(exc)
            # csv's field size limit (128 Ki characters) is what stops an unclosed
            # quote from reading the rest of a large file into one cell.
            if "field larger than field limit" in message or "unexpected end of data" in message:
                raise CsvFormatError(
                    f"a quote opened in the record starting here is never closed (read to line {reader.line_num})",
                    line=start,
                ) from None
            raise CsvFormatError(
                f"broken quoting ({message}); a quoted cell must be closed right before the delimiter",
                line=reader.line_num,
            ) from None
        start, previous_end = previous_end + 1, reader.line_num
        if not values:
            continue  # a blank line holds no data
        yield CsvRow(line=start, end_line=previous_end, values=tuple(values))


def open_csv(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None) -> CsvTable:
    """Open a CSV file, detecting encoding and delimiter unless given; reads the header."""
    path = Path(path)
    if delimiter is not None and delimiter not in DELIMITERS:
        raise CsvFormatError(f"delimiter {delimiter!r} is not one of {', '.join(map(repr, DELIMITERS))}")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name.replace("_", "-")
        except LookupError:
            raise CsvFormatError(f"unknown encoding {encoding!r}") from None
    try:
        handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by CsvTable.close
    except OSError as exc:
        raise CsvFormatError(f"cannot open {path}: {exc.strerror}") from None
    try:
        sample = handle.read(SAMPLE_BYTES)
        complete = len(sample) < SAMPLE_BYTES
        if not complete:
            # Judge only whole lines, so a multi-byte character cut in half does not look invalid.
            sample = sample[: sample.rfind(b"\n") + 1] or sample
        detected = detect_encoding(sample)
        auto = encoding is None
        if encoding is None:
            encoding = detected
        elif encoding == "utf-8" and detected == "utf-8-sig":
            encoding = "utf-8-sig"  # a BOM is not data even when UTF-8 was asked for
        elif detected in ("utf-8-sig", "utf-16") and not encoding.startswith(detected.split("-sig")[0]):
            bom = "UTF-8" if detected == "utf-8-sig" else "UTF-16"
            raise CsvFormatError(
                f"the file starts with a {bom} byte order mark but the encoding asked for is {encoding}"
            )
        if not sample.strip().strip(codecs.BOM_UTF8).strip(b"\x00\xff\xfe"):
            raise CsvFormatError(f"{path.name} is empty")
        if b"\r" in sample and b"\n" not in sample:
            raise CsvFormatError("lines end with a bare CR (classic Mac); save the file with Windows or Unix line ends")
        # Only for sniffing: a precise error with the line number comes while reading the rows.
        sample_text = sample.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")
        sample_lines = sample_text.lstrip("\ufeff").splitlines()
        # Excel writes and honours a first line "sep=;" naming the delimiter.
        excel_sep = (
            sample_lines[0][4:]
            if sample_lines and len(sample_lines[0]) == 5 and sample_lines[0].startswith("sep=")
            else None
        )
        if excel_sep is not None and excel_sep in DELIMITERS:
            delimiter = delimiter or excel_sep
            sample_lines = sample_lines[1:]
        if delimiter is None:
            delimiter = sniff_delimiter(sample_lines[:SNIFF_LINES])
        rows = _records(_lines(handle, encoding=encoding, offset=0, detected=auto), delimiter=delimiter)
        first = next(rows, None)
        if first is not None and excel_sep is not None:
            first = next(rows, None)
        if first is None:
            raise CsvFormatError(f"{path.name} has no header row")
        header = tuple(value.lstrip("\ufeff").strip() for value in first.values)
        if not any(header):
            raise CsvFormatError("the header row is empty", line=first.line)
    except BaseException:
        handle.close()
        raise
    return CsvTable(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        header_line=first.line,
        _rows=rows,
        _file=handle,
    )
