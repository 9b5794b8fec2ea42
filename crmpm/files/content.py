"""What a file is, judged from its bytes, and a name safe to keep and send back (decision 0013).

:func:`detect` reads the bytes (the ``filetype`` library's signatures, then a look inside ZIP files for the
parts that make a DOCX or XLSX, then "is this text"), never the name or the type the client declared; the
file's extension must then be one the detected type is written with. Executables are refused whatever they
are called, and so is anything not on the list (HTML, SVG, scripts: what a browser could run).
:func:`safe_name` makes a client's file name safe: no folders, no control characters, no names Windows
reserves, at most :data:`NAME_LENGTH` characters with the extension kept.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype

from crmpm.errors import Invalid

__all__ = ["ALLOWED", "NAME_LENGTH", "detect", "safe_name", "extension_of"]

NAME_LENGTH = 255

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Each accepted type and the extensions a file of it may carry.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/tiff": ("tif", "tiff"),
    "text/plain": ("txt", "text", "log", "md"),
    "text/csv": ("csv",),
}
# What the bytes of a program start with, whatever filetype calls them.
_EXECUTABLE_MIMES = {"application/x-msdownload", "application/x-executable", "application/x-mach-binary",
                     "application/x-shockwave-flash", "application/wasm", "application/x-deb", "application/x-rpm"}
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                     b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
# Text that a browser would treat as markup or a program, whatever the extension says.
_ACTIVE_TEXT = re.compile(rb"^\s*(<!doctype\s+html|<html|<script|<svg|<\?xml[^>]*>\s*<svg)", re.IGNORECASE)
# How much of a text file is checked for being text.
_TEXT_PROBE = 64 * 1024
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}


@dataclass(frozen=True)
class Detected:
    content_type: str
    extension: str


def extension_of(name: str) -> str:
    """``report.PDF`` → ``pdf``; no extension → ``""``."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def _zip_type(data: bytes) -> str | None:
    """DOCX or XLSX when the ZIP holds their parts ([Content_Types].xml and the main part), else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_text(data: bytes) -> bool:
    probe = data[:_TEXT_PROBE]
    if b"\x00" in probe:
        return False
    for encoding in ("utf-8", "cp1251"):
        try:
            # A multi-byte character may be cut at the end of the probe.
            probe.decode(encoding) if len(data) <= _TEXT_PROBE else probe[:-4].decode(encoding)
        except UnicodeDecodeError:
            continue
        text = probe[:4096].decode(encoding, errors="ignore")
        controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f")
        return controls <= len(text) // 100
    return False


def detect(data: bytes, name: str) -> Detected:
    """The type of ``data`` from its bytes, checked against ``name``'s extension; Invalid (naming ``file``) when refused."""
    if not data:
        raise Invalid("the file is empty", errors={"file": ["empty"]})
    if data.startswith(_EXECUTABLE_MAGIC):
        raise Invalid("programs cannot be stored as documents", errors={"file": ["a program"]})
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess else None
    if mime in _EXECUTABLE_MIMES:
        raise Invalid("programs cannot be stored as documents", errors={"file": ["a program"]})
    if mime in ("application/zip", DOCX, XLSX) or data.startswith(b"PK\x03\x04"):
        mime = _zip_type(data)
        if mime is None:
            raise Invalid("ZIP archives other than DOCX and XLSX documents are not accepted",
                          errors={"file": ["a ZIP archive"]})
    elif mime is None:
        if _ACTIVE_TEXT.match(data[:1024]):
            raise Invalid("HTML, SVG and scripts are not accepted", errors={"file": ["HTML, SVG or a script"]})
        if _is_text(data):
            mime = "text/csv" if extension_of(name) == "csv" else "text/plain"
    if mime not in ALLOWED:
        raise Invalid("files of this type are not accepted ({type}); accepted: PDF, DOCX, XLSX, images, text and CSV",
                      type=mime or "unknown", errors={"file": [f"type {mime or 'unknown'} not accepted"]})
    extension = extension_of(name)
    if extension not in ALLOWED[mime]:
        raise Invalid("the file's content is {type} but its name ends in .{extension}; name it .{expected}",
                      type=mime, extension=extension or "(nothing)", expected=ALLOWED[mime][0],
                      errors={"file": [f"the content is {mime}, the name ends in .{extension}"]})
    return Detected(content_type=mime, extension=extension)


def safe_name(name: str | None) -> str:
    """``name`` without folders, control characters or reserved names, at most NAME_LENGTH characters."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    text = re.sub(r'[<>:"|?*]', "_", text)
    text = " ".join(text.split()).strip(" .")
    if not text:
        raise Invalid("the file needs a name", errors={"file": ["no name"]})
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    extension = extension[:16]
    room = NAME_LENGTH - (len(extension) + 1 if extension else 0)
    stem = stem[:room].rstrip(" .") or "_"
    return f"{stem}.{extension}" if extension else stem
