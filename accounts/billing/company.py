"""The seller's own details (one row): read by every signed-in user, changed by administrators."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.audit import services as audit
from crmpm.errors import Forbidden, Invalid
from crmpm.users.models import User

from accounts.billing.models import CompanyDetails
from accounts.requisites import (
    BadRequisite, check_account_number, check_bik, check_corr_account, check_inn, check_kpp, check_ogrn,
)

__all__ = ["FIELDS", "authorize_change", "get", "update"]

TEXT_FIELDS = {"name": 300, "address": 500, "bank_name": 300, "director": 300, "accountant": 300}
FIELDS = ("name", "inn", "kpp", "ogrn", "address", "bank_name", "bank_bik", "bank_account", "bank_corr_account",
          "director", "accountant", "vat_rate")


def get(session: Session) -> CompanyDetails:
    """The company's details; blank ones (not stored) before an administrator first saves them."""
    details = session.scalar(select(CompanyDetails).order_by(CompanyDetails.id).limit(1))
    if details is None:
        details = CompanyDetails(**{field: "" for field in FIELDS if field != "vat_rate"}, vat_rate=None)
    return details


def authorize_change(actor: User) -> None:
    """Forbidden unless ``actor`` may change the company's details (administrators)."""
    if not actor.is_admin:
        raise Forbidden("only administrators change the company's details")


def update(session: Session, *, actor: User, **changes) -> CompanyDetails:
    """Change the company's details (administrators); requisites are checked, a VAT rate is 0 to 100 or None."""
    authorize_change(actor)
    details = get(session)
    if details.id is None:
        session.add(details)
        session.flush()
    before = details.audit_state()
    values = {**before, **{key: value for key, value in changes.items() if key in FIELDS}}
    errors = {}
    for field, limit in TEXT_FIELDS.items():
        values[field] = (values[field] or "").strip()
        if len(values[field]) > limit:
            errors[field] = [f"at most {limit} characters"]
    checks = {"inn": lambda: check_inn(values["inn"]), "kpp": lambda: check_kpp(values["kpp"]),
              "ogrn": lambda: check_ogrn(values["ogrn"]), "bank_bik": lambda: check_bik(values["bank_bik"]),
              "bank_account": lambda: check_account_number(values["bank_account"], values["bank_bik"]),
              "bank_corr_account": lambda: check_corr_account(values["bank_corr_account"], values["bank_bik"])}
    for field, check in checks.items():
        try:
            values[field] = check()
        except BadRequisite as error:
            errors[field] = [str(error)]
    rate = values["vat_rate"]
    if rate is not None:
        rate = Decimal(rate)
        if not rate.is_finite() or not 0 <= rate <= 100 or rate != rate.quantize(Decimal("0.01")):
            errors["vat_rate"] = ["a percent from 0 to 100, at most two decimals"]
        else:
            values["vat_rate"] = rate.quantize(Decimal("0.01"))
    if errors:
        raise Invalid("the company's details are not valid: {fields}", fields=", ".join(sorted(errors)),
                      errors=errors)
    for key, value in values.items():
        setattr(details, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=details, before=before, after=details.audit_state())
    return details
