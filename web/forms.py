"""The forms of the pages (Flask-WTF: every form carries the session's CSRF token)."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.fields import Field
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from crmpm import emails
from crmpm.errors import Invalid
from eps.models import Role
from web.i18n import LANGUAGES

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs.
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - depends on the installed WTForms
    SelectChoice = None

MONEY_LIMIT = Decimal("1e15")


def choices(pairs) -> list:
    """Select options from (value, label) pairs, in the form the installed WTForms expects."""
    pairs = list(pairs)
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value, label) for value, label in pairs]


class MoneyField(Field):
    """An amount typed as people write it in either language: ``1 500 000,50`` or ``1,500,000.50``."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, *, allow_negative: bool = False, **kwargs):
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}  # a number pad on phones
        super().__init__(label, validators, **kwargs)
        self.allow_negative = allow_negative

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = parse_amount(valuelist[0])
        if self.data is None:
            raise ValueError(_l("Not a valid amount."))
        if self.data.as_tuple().exponent < -2 and self.data != self.data.quantize(Decimal("0.01")):
            raise ValueError(_l("At most two decimal places."))
        if abs(self.data) >= MONEY_LIMIT:
            raise ValueError(_l("The amount is too large."))
        if self.data < 0 and not self.allow_negative:
            raise ValueError(_l("Must not be negative."))
        self.data = self.data.quantize(Decimal("0.01"))


def email_address(form, field) -> None:
    """A form validator: the address must pass crmpm's one e-mail rule (``crmpm.emails``)."""
    if field.data:
        try:
            emails.normalize_email(field.data)
        except emails.InvalidEmail:
            raise ValidationError(_l("Not a valid email address.")) from None


def parse_amount(text: str) -> Decimal | None:
    """The amount in ``text``, whichever of comma and point is the decimal separator; None if it is none.

    >>> parse_amount("1 500 000,50"), parse_amount("1,500,000.50"), parse_amount("-300000")
    (Decimal('1500000.50'), Decimal('1500000.50'), Decimal('-300000'))
    """
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("_", "")
    cleaned = cleaned.replace("\u2212", "-")
    if "," in cleaned and "." in cleaned:
        # The separator that comes last is the decimal one; the other groups digits.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) <= 2:
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def check(form: FlaskForm) -> FlaskForm:
    """The form if its input is valid; else Invalid naming the fields (the page shows it on the form)."""
    if form.validate():
        return form
    errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    labels = []
    for name, messages in errors.items():
        field = getattr(form, name, None)
        label = str(field.label.text) if field is not None else name
        labels.append(f"{label}: {'; '.join(messages)}")
    message = " · ".join(labels)  # already in the user's language
    raise Invalid(message, errors=errors)


class ActionForm(FlaskForm):
    """A button that changes something and needs nothing but the CSRF token."""


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
    next = HiddenField()


@functools.cache
def time_zones() -> list[str]:
    """The IANA zones a user may choose (the regional names, not the legacy aliases), and UTC."""
    return sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith(
        ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/"))) + ["UTC"]


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
    # The user's day for the daily digest and the times in their notifications.
    time_zone = SelectField(_l("Time zone"), choices=lambda: [(zone, zone) for zone in time_zones()],
                            validate_choice=False)  # checked by the service; a form without it keeps the zone
    password = PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=256)])
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=256)])


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=200)])


class ChangeRequestForm(FlaskForm):
    amount = MoneyField(_l("Amount"), validators=[DataRequired()], allow_negative=True)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def validate_amount(self, field):
        if field.data is not None and field.data == 0:
            raise ValidationError(_l("Must not be zero."))


class OriginalBudgetForm(FlaskForm):
    original_budget = MoneyField(_l("Original budget"), validators=[DataRequired()])


class DecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])
    next = HiddenField()


class UserCreateForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), email_address, Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=256)])
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
    is_admin = BooleanField(_l("Administrator"))


class UserEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), email_address, Length(max=254)])
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()))
    is_admin = BooleanField(_l("Administrator"))
    team_ids = SelectMultipleField(_l("Teams"), coerce=int, validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class TemporaryPasswordForm(FlaskForm):
    password = PasswordField(_l("Temporary password"), validators=[DataRequired(), Length(min=8, max=256)])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(_l("The new password again"), validators=[DataRequired(), Length(max=256)])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords differ."))


class TeamCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class MemberForm(FlaskForm):
    user_id = SelectField(_l("User"), coerce=int, validate_choice=False)


ROLE_LABELS = {
    Role.viewer: _l("viewer"),
    Role.editor: _l("editor"),
    Role.manager: _l("manager"),
    Role.finance: _l("finance"),
}


class GrantForm(FlaskForm):
    # "u12" for user 12, "t3" for team 3: one list to pick the holder from.
    principal = SelectField(_l("User or team"), validate_choice=False, validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=choices((role.value, label) for role, label in ROLE_LABELS.items()))


# Invoices (web/views/invoices.py)


class IssueForm(FlaskForm):
    issue_date = DateField(_l("Issue date"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ActForm(FlaskForm):
    act_date = DateField(_l("Act date"), validators=[DataRequired()])


class MilestoneForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=500)])
    amount = MoneyField(_l("Amount without VAT"), validators=[DataRequired()])
    planned_date = DateField(_l("Planned date"), validators=[Optional()])


class CompanyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=300)])
    inn = StringField(_l("INN"), validators=[Optional(), Length(max=12)])
    kpp = StringField(_l("KPP"), validators=[Optional(), Length(max=9)])
    ogrn = StringField(_l("OGRN"), validators=[Optional(), Length(max=15)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=300)])
    bank_bik = StringField(_l("BIK"), validators=[Optional(), Length(max=9)])
    bank_account = StringField(_l("Settlement account"), validators=[Optional(), Length(max=20)])
    bank_corr_account = StringField(_l("Correspondent account"), validators=[Optional(), Length(max=20)])
    director = StringField(_l("Director"), validators=[Optional(), Length(max=300)])
    accountant = StringField(_l("Chief accountant"), validators=[Optional(), Length(max=300)])
    vat_rate = StringField(_l("VAT rate, %"), validators=[Optional(), Length(max=6)])
