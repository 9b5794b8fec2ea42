"""The search across the product: ``/search?q=…`` finds accounts, contacts, leads, deals, projects and activities.

The kinds and how each is found are the domain's (``accounts.search.KINDS``: only
what the user may read, as the lists show it); this page names them, links each
hit to its page and each kind to its list filtered by the same text, and marks
where the text matched. ``kind=`` shows more of one kind (for kinds whose list
cannot search yet). The box in every page's header (``base.html``) and its
shortcuts ("/" and Ctrl+K, ``static/search.js``) lead here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import search as crm_search
from crmpm.database import db
from crmpm.search import MAX_QUERY_LENGTH, Hit, marked
from web.nav import is_available
from web.pages import page_blueprint

bp = page_blueprint("search", __name__)

@bp.app_context_processor
def _search_box() -> dict:
    # The header's box (base.html) takes as much text as the search does.
    return {"search_max_length": MAX_QUERY_LENGTH}


PER_KIND = 5  # hits of each kind on the page; the kind's list has the rest
ONE_KIND = 50  # hits when the page shows one kind


@dataclass(frozen=True)
class KindPage:
    """How the page shows one kind: its heading, where a hit leads, and its list searched by ``q``."""

    label: object
    link: Callable[[Hit], str]
    list_endpoint: str | None = None
    list_args: tuple = ()


def _contact_link(hit: Hit) -> str:
    # The contact's card (its account's page in a build without cards).
    if is_available("crm.contact"):
        return url_for("crm.contact", contact_id=hit.id)
    return url_for("crm.account", account_id=hit.parent_id)


# In the order of accounts.search.KINDS; a new kind (documents) needs an entry here too.
KIND_PAGES = {
    "accounts": KindPage(_l("Accounts"), lambda hit: url_for("crm.account", account_id=hit.id), "crm.accounts"),
    # No list of contacts finds them by every phone and e-mail: "more" is this page for contacts alone.
    "contacts": KindPage(_l("Contacts"), _contact_link),
    "leads": KindPage(_l("Leads"), lambda hit: url_for("crm.lead", lead_id=hit.id), "crm.leads", (("scope", "all"),)),
    "deals": KindPage(_l("Deals"), lambda hit: url_for("crm.deal", deal_id=hit.id), "crm.deals"),
    "projects": KindPage(_l("Projects"), lambda hit: url_for("pm.project", project_id=hit.id), "pm.index"),
    "activities": KindPage(_l("Activities"), lambda hit: url_for("pm.activity", project_id=hit.parent_id,
                                                                 activity_id=hit.id)),
    "documents": KindPage(_l("Documents"), lambda hit: url_for("document_pages.download", document_id=hit.id),
                          "document_pages.index"),
}

FIELD_LABELS = {
    "name": _l("name"), "full_name": _l("full name"), "code": _l("code"), "email": _l("e-mail"), "phone": _l("phone"), "company": _l("company"),
    "contact_name": _l("contact person"), "tax_id": _l("INN"), "text": _l("text"),
}


def _more_url(name: str, text: str) -> str:
    page = KIND_PAGES[name]
    if page.list_endpoint and is_available(page.list_endpoint):
        return url_for(page.list_endpoint, q=text, **dict(page.list_args))
    return url_for("search.index", q=text, kind=name)


@bp.route("/search")
def index():
    """Everything the user may read matching ``q``, grouped by kind, a few of each with a link to the rest."""
    text = " ".join(request.args.get("q", "").split())
    only = request.args.get("kind", "")
    kinds = [kind for kind in crm_search.KINDS if kind.name in KIND_PAGES]
    if only in KIND_PAGES:
        kinds = [kind for kind in kinds if kind.name == only]
    else:
        only = ""
    error = None
    if len(text) > MAX_QUERY_LENGTH:
        error = _("The search text is too long: at most %(limit)s characters.", limit=MAX_QUERY_LENGTH)
    groups = []
    if text and error is None:
        limit = ONE_KIND if only else PER_KIND
        # A phone is marked by the digits searched for (the number normalized as the search normalized it).
        wanted_digits = crm_search.phone_digits(text)
        for kind in kinds:
            hits = kind.find(db.session, user=g.user, text=text, limit=limit + 1)
            if not hits:
                continue
            page = KIND_PAGES[kind.name]
            groups.append({
                "name": kind.name, "label": page.label, "more": _more_url(kind.name, text) if len(hits) > limit else None,
                "hits": [{"hit": hit, "url": page.link(hit), "field": FIELD_LABELS.get(hit.field, hit.field),
                          "pieces": (marked(hit.value, wanted_digits, phone=True) if hit.field == "phone"
                                     else marked(hit.value, text))} for hit in hits[:limit]],
            })
    return render_template("search/index.html", text=text if error is None else text[:MAX_QUERY_LENGTH],
                           error=error, groups=groups, only=only, only_label=KIND_PAGES[only].label if only else None,
                           max_length=MAX_QUERY_LENGTH)
