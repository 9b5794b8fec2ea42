"""Mail written from templates: Jinja files per language, and user-written templates checked before use.

A package keeps its mail templates in a folder: ``<name>.<language>.txt`` whose first line is
``Subject: …`` and whose rest is the plain-text body, and optionally ``<name>.<language>.html``
(the HTML alternative, autoescaped). A language without its own files falls back to English.

Templates that users write (automation rules) are rendered in Jinja's sandbox by
``render_user_template``: a field the context does not have is an error naming it, found
when the template is saved (``check_user_template``), not when a mail goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from crmpm.errors import Invalid

FALLBACK_LANGUAGE = "en"
MAX_USER_TEMPLATE = 20_000


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


class Templates:
    """The mail templates of one folder."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.environment = _environment(str(self.directory))

    def render(self, name: str, language: str | None, context: dict) -> Rendered:
        """Subject, text and HTML of template ``name`` in ``language`` (English if it has none)."""
        language = language if (self.directory / f"{name}.{language}.txt").exists() else FALLBACK_LANGUAGE
        try:
            head, _, body = self.environment.get_template(f"{name}.{language}.txt").render(context).partition("\n")
        except TemplateNotFound:
            raise LookupError(f"no mail template {name!r} in {self.directory}") from None
        if not head.startswith("Subject:"):
            raise LookupError(f"mail template {name}.{language}.txt must begin with a Subject: line")
        html = None
        if (self.directory / f"{name}.{language}.html").exists():
            html = self.environment.get_template(f"{name}.{language}.html").render(context)
        return Rendered(subject=" ".join(head.removeprefix("Subject:").split()), text=body.lstrip("\n"), html=html)


@lru_cache(maxsize=None)
def _environment(directory: str) -> Environment:
    return Environment(loader=FileSystemLoader(directory), undefined=StrictUndefined, keep_trailing_newline=True,
                       autoescape=lambda name: bool(name) and name.endswith(".html"))


_SANDBOX = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def check_user_template(source: str, fields: set[str], *, what: str = "template") -> None:
    """Refuse a user-written template that does not parse or uses a field outside ``fields``."""
    if len(source) > MAX_USER_TEMPLATE:
        raise Invalid("the {what} is longer than {count} characters", what=what, count=MAX_USER_TEMPLATE)
    try:
        used = meta.find_undeclared_variables(_SANDBOX.parse(source))
    except TemplateError as exc:
        raise Invalid("the {what} cannot be read: {problem}", what=what, problem=str(exc.message or exc)) from None
    unknown = sorted(used - fields)
    if unknown:
        raise Invalid("the {what} uses unknown fields: {names} (known: {known})", what=what,
                      names=", ".join(unknown), known=", ".join(sorted(fields)))


def render_user_template(source: str, context: dict, *, what: str = "template") -> str:
    """A user-written template rendered in the sandbox; an unknown field or attribute is an ``Invalid``."""
    try:
        return _SANDBOX.from_string(source).render(context)
    except UndefinedError as exc:
        raise Invalid("the {what} uses an unknown field: {problem}", what=what, problem=str(exc.message)) from None
    except TemplateError as exc:
        raise Invalid("the {what} cannot be rendered: {problem}", what=what, problem=str(exc.message or exc)) from None
