"""Filling a DOCX template with a context (docxtpl), and checking a template before it is used.

Templates are uploaded by administrators, so they are rendered in Jinja's sandbox with autoescaping (a
company called "A & B" stays well-formed XML), and a placeholder the context does not hold is never
silently printed as nothing: ``render`` and ``check_template`` report every unknown name
(``seller.nme``, ``totl``) in one error.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from crmpm.errors import Invalid

# An uploaded template: the DOCX itself and everything in it once unzipped.
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024


class Fields(dict):
    """A part of the context (``seller``, a line) that knows its own name, so an unknown field of it is
    reported as ``seller.nme``."""

    def __init__(self, label: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.label = label


def _environment(unknown: list[str]) -> SandboxedEnvironment:
    class Recording(ChainableUndefined):
        """An unknown name: remembered, printed as nothing, iterated as empty."""

        def __init__(self, hint=None, obj=None, name=None, exc=None):  # noqa: D401 - Jinja's signature
            super().__init__(hint, obj, name, exc)
            if name is not None and not isinstance(obj, Recording):
                label = getattr(obj, "label", None)
                unknown.append(f"{label}.{name}" if label else str(name))

    return SandboxedEnvironment(undefined=Recording, autoescape=True)


def check_docx(data: bytes) -> None:
    """Refuse what is not a DOCX of a sensible size before any template engine reads it."""
    if not data:
        raise Invalid("the template file is empty", errors={"file": "empty file"})
    if len(data) > MAX_TEMPLATE_BYTES:
        raise Invalid("the template is larger than {limit} bytes", limit=MAX_TEMPLATE_BYTES,
                      errors={"file": f"larger than {MAX_TEMPLATE_BYTES} bytes"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise Invalid("the template is not a DOCX file", errors={"file": "not a DOCX file"}) from None
    if "word/document.xml" not in names:
        raise Invalid("the template is not a DOCX file", errors={"file": "not a DOCX file"})
    if unzipped > MAX_UNZIPPED_BYTES:
        raise Invalid("the template is larger than {limit} bytes once unpacked", limit=MAX_UNZIPPED_BYTES,
                      errors={"file": f"larger than {MAX_UNZIPPED_BYTES} bytes once unpacked"})


def render(template: bytes, context: dict[str, Any]) -> bytes:
    """The DOCX made by filling ``template`` with ``context``; Invalid naming every unknown placeholder."""
    unknown: list[str] = []
    try:
        document = DocxTemplate(io.BytesIO(template))
        document.render(context, jinja_env=_environment(unknown), autoescape=True)
    except TemplateError as error:
        raise Invalid("the template cannot be filled: {reason}", reason=str(error),
                      errors={"file": f"template error: {error}"}) from None
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise Invalid("the template is not a DOCX file", errors={"file": f"not a DOCX file ({error})"}) from None
    if unknown:
        names = ", ".join(sorted(set(unknown)))
        raise Invalid("the template has unknown placeholders: {names}", names=names,
                      errors={"file": f"unknown placeholders: {names}"})
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def check_template(template: bytes, sample: dict[str, Any]) -> bytes:
    """Check an uploaded template: a DOCX that renders with the sample context, every placeholder known.
    Returns the rendered sample."""
    check_docx(template)
    return render(template, sample)
