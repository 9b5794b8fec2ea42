"""The domain errors of crmpm: a small hierarchy, mapped once to HTTP at the edge.

A message is an English *template* with named *parameters*, kept apart so that an
edge can show it in the user's language::

    raise Conflict("the current budget of {target} would become negative ({amount})",
                   target=Phrase("project {code}", code=project.code), amount=new_current)

- ``exc.message`` is the English text, formatted once (``str.format``) when the error
  is made; the API and the CLI show it as it is.
- ``exc.template`` and ``exc.params`` are for whoever translates (the web pages:
  ``web.i18n.translate_error``): look the template up in a catalog, format the
  translation with the parameters.
- A parameter that is itself English words (a label such as "EPS node X", a list of
  names) is a :class:`Phrase`: it reads as English wherever it is formatted, and a
  translator translates its template in turn.
- Without parameters the template is the message as it is, not formatted: a message
  built elsewhere (a file parser's, an already translated one) passes through unchanged.

Templates are string literals written as the first argument, so ``make messages``
extracts them (pybabel keywords: the error classes and ``Phrase``). Parameters are
named by meaning (``target``, ``amount``), never ``errors`` (the field details).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "CrmpmError", "Forbidden", "Invalid", "NotFound", "Phrase", "TooManyAttempts", "Unauthenticated",
           "render"]


def render(template: str, params: dict[str, Any]) -> str:
    """``template`` formatted with ``params`` in English; the template itself when there are none."""
    return template.format(**params) if params else template


class Phrase:
    """English words with named parameters, used as a parameter of an error (or of another phrase).

    >>> str(Phrase("EPS node {code}", code="ENG"))
    'EPS node ENG'
    >>> f"{Phrase('project {code}', code='P-1')} not found"
    'project P-1 not found'
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    @classmethod
    def joined(cls, separator: str, parts: list[Phrase]) -> Phrase:
        """The phrases one after another with ``separator`` between them (each translated on its own).

        >>> str(Phrase.joined("; ", [Phrase("a is wrong"), Phrase("b is {b}", b=2)]))
        'a is wrong; b is 2'
        """
        between = separator.replace("{", "{{").replace("}", "}}")
        return cls(between.join(f"{{part{n}}}" for n in range(len(parts))),
                   **{f"part{n}": part for n, part in enumerate(parts)})

    def __str__(self) -> str:
        return render(self.template, self.params)

    def __format__(self, format_spec: str) -> str:
        return format(str(self), format_spec)

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Phrase):
            return NotImplemented
        return (self.template, self.params) == (other.template, other.params)

    __hash__ = None  # type: ignore[assignment]  # parameters may be lists


class CrmpmError(Exception):
    """Base of every error crmpm raises on purpose: a message template, its parameters and optional details."""

    status = 400

    def __init__(self, template: str, /, *, errors: dict[str, Any] | None = None, **params: Any) -> None:
        message = render(template, params)
        super().__init__(message)
        self.message = message
        self.template = template
        self.params = params
        self.errors = errors or {}


class Invalid(CrmpmError):
    """The input breaks a rule; ``errors`` names the fields."""

    status = 422


class Unauthenticated(CrmpmError):
    """No valid credentials were given."""

    status = 401


class Forbidden(CrmpmError):
    """The caller may see the object but not do this to it."""

    status = 403


class NotFound(CrmpmError):
    """The object does not exist, or the caller may not see it (the two are not told apart)."""

    status = 404


class Conflict(CrmpmError):
    """The request clashes with the current state (duplicates, cycles, budget limits)."""

    status = 409


class TooManyAttempts(CrmpmError):
    """Too many attempts (wrong passwords, new tokens) in a while: refused until ``retry_after`` seconds pass."""

    status = 429

    def __init__(self, template: str = "too many attempts; try again in {seconds} seconds", /, *,
                 retry_after: int, **params: Any) -> None:
        super().__init__(template, seconds=retry_after, **params)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
