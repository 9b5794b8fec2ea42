"""Contacts (routes on ``web.views.crm.bp``): a new contact, the contact card with every phone and e-mail, the
person's timeline, edits and merges; and the task form the deal, account and contact pages share.

A contact is read and changed with its account's rights: it loads through
``accounts.services.get_contact_or_raise`` (404 when unreadable); creating,
changing and merging go through ``create_contact`` / ``update_contact`` /
``merge_contacts``, which normalize the phones and e-mails and check the edit
right (403 otherwise). Tasks go through ``accounts.activities.create_task``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional
from sqlalchemy import select

from accounts import activities, overview, services
from accounts import deals as deal_services
from accounts.models import ChannelKind, ChannelType, TaskStatus
from crmpm.database import db, utcnow
from crmpm.errors import Invalid, NotFound
from crmpm.users.models import User
from eps import services as eps_services
from eps.permissions import Permission, access_to
from web.forms import check, choices
from web.pages import safe_next
from web.views.crm import bp
from web.views.crm.accounts import _labels, rows_page, user_zone

ACCOUNT_CHOICES = 200
TIMELINE_PAGE = 20
OPEN_TASKS = 20
BLANK_CHANNELS = 2  # empty rows under a contact's phones and e-mails, for one more of each without a script
ID_LIMIT = 2**31

CHANNEL_TYPE_LABELS = {ChannelType.phone: _l("Phone"), ChannelType.email: _l("E-mail")}
CHANNEL_KIND_LABELS = {ChannelKind.work: _l("work"), ChannelKind.mobile: _l("mobile"), ChannelKind.home: _l("home"),
                       ChannelKind.other: _l("other")}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class ChannelForm(Form):
    """One phone or e-mail (a row of the contact form; the CSRF token is the outer form's)."""

    type = SelectField(_l("Type"), choices=choices((t.value, label) for t, label in CHANNEL_TYPE_LABELS.items()))
    kind = SelectField(_l("Kind"), choices=choices((k.value, label) for k, label in CHANNEL_KIND_LABELS.items()))
    value = StringField(_l("Phone or e-mail"), validators=[Optional(), Length(max=254)])


class ContactForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=200)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=200)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=200)])
    title = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    channels = FieldList(FormField(ChannelForm), min_entries=0, max_entries=services.MAX_CHANNELS + BLANK_CHANNELS)


class NewContactForm(ContactForm):
    account_id = SelectField(_l("Account"), validate_choice=False, validators=[Optional()])
    # Instead of an account: a private client (B2C), with an account of their own on this branch.
    region_node_id = SelectField(_l("or a private client on the branch"), validate_choice=False,
                                 validators=[Optional()])


class MergeForm(FlaskForm):
    merge_id = SelectField(_l("Duplicate"), validate_choice=False, validators=[DataRequired()])


class LinkedTaskForm(FlaskForm):
    """A task about the deal, account or contact whose page shows the form."""

    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=500)])
    assignee_id = SelectField(_l("Assignee"), validators=[DataRequired()])
    due_at = DateTimeLocalField(_l("Due"), format=DATETIME_FORMATS, validators=[DataRequired()])
    remind_at = DateTimeLocalField(_l("Remind me at"), format=DATETIME_FORMATS, validators=[Optional()])
    next = HiddenField()


def _id(value, field: str) -> int:
    """A picked id; Invalid naming ``field`` when the value is none."""
    text = str(value or "")
    if not text.isdigit() or not 0 < int(text) < ID_LIMIT:
        raise Invalid(_("Choose from the list."), errors={field: ["not a valid choice"]})
    return int(text)


def _channel_rows(form: ContactForm, channels=()) -> None:
    """The form's rows: ``channels`` (a contact's, in order), then a blank phone and a blank e-mail."""
    while form.channels.entries:
        form.channels.pop_entry()
    for channel in channels:
        form.channels.append_entry({"type": channel.type.value, "kind": channel.kind.value, "value": channel.value})
    form.channels.append_entry({"type": ChannelType.phone.value, "kind": ChannelKind.mobile.value, "value": ""})
    form.channels.append_entry({"type": ChannelType.email.value, "kind": ChannelKind.work.value, "value": ""})


def _channels_given(form: ContactForm) -> list[dict]:
    return [{"type": entry.form.type.data, "kind": entry.form.kind.data, "value": entry.form.value.data}
            for entry in form.channels.entries]


# A new contact


def _account_choices(selected=None) -> list:
    session = db.session
    accounts = list(session.scalars(services.list_accounts(session, user=g.user).limit(ACCOUNT_CHOICES)))
    if selected is not None and all(account.id != selected.id for account in accounts):
        accounts.insert(0, selected)
    return choices([("", "—")] + [(str(account.id), account.name) for account in accounts])


def _branch_choices() -> list:
    branches = services.branch_choices(db.session, user=g.user)
    return choices([("", "—")] + [(str(node.id), f"{node.code} · {node.name}") for node in branches])


@bp.route("/contacts/new")
def contact_new():
    """The form for a new contact; ``?account_id=`` picks the account."""
    session = db.session
    account = None
    account_id = request.args.get("account_id", type=int)
    if account_id is not None and 0 < account_id < ID_LIMIT:
        account = services.get_account_or_raise(session, user=g.user, account_id=account_id)
    form = NewContactForm(formdata=None, data={"account_id": str(account.id) if account else ""})
    form.account_id.choices = _account_choices(account)
    form.region_node_id.choices = _branch_choices()
    _channel_rows(form)
    return render_template("crm/contact_new.html", form=form, account=account, **_channel_labels())


@bp.route("/contacts/new", methods=["POST"])
def create_contact():
    """Create the contact with its phones and e-mails, then show its card."""
    session = db.session
    form = NewContactForm()
    form.account_id.choices = form.region_node_id.choices = []
    check(form)
    values = {"first_name": form.first_name.data or "", "last_name": form.last_name.data or "",
              "patronymic": form.patronymic.data or "", "title": form.title.data or "",
              "channels": _channels_given(form)}
    if not form.account_id.data and form.region_node_id.data:
        region = eps_services.get_node_or_raise(session, user=g.user, node_id=_id(form.region_node_id.data,
                                                                                  "region_node_id"),
                                                field="region_node_id")
        contact = services.create_private_client(session, actor=g.user, region=region, **values)
    else:
        account = services.get_account_or_raise(session, user=g.user,
                                                account_id=_id(form.account_id.data, "account_id"),
                                                permission=Permission.edit, field="account_id")
        contact = services.create_contact(session, actor=g.user, account=account, **values)
    flash(_("%(name)s was added.", name=contact.name), "info")
    return redirect(url_for("crm.contact", contact_id=contact.id), code=303)


# The card


def _timeline_page(contact):
    session = db.session
    query = activities.timeline(session, account=contact.account, user=g.user, contact=contact,
                                types=activities.TIMELINE_TYPES, until=utcnow())
    page = rows_page(session, query, {}, TIMELINE_PAGE)
    page.objects = overview.timeline_objects(session, rows=page.items)
    return page


@bp.route("/contacts/<int:contact_id>")
def contact(contact_id: int):
    """One person: name, position, account, every phone and e-mail, open tasks, their timeline; edit and merge."""
    session = db.session
    found = services.get_contact_or_raise(session, user=g.user, contact_id=contact_id)
    can_edit = access_to(session, user=g.user, obj=found.account.eps_node).can(Permission.edit)
    form = merge_form = task = None
    duplicates = []
    if can_edit and found.merged_into_id is None:
        form = ContactForm(formdata=None, data={"first_name": found.first_name, "last_name": found.last_name,
                                                "patronymic": found.patronymic, "title": found.title})
        _channel_rows(form, found.channels)
        duplicates = services.duplicates_of(session, user=g.user, contact=found)
        if duplicates:
            merge_form = MergeForm(formdata=None)
            merge_form.merge_id.choices = choices(
                [(str(other.id), f"{other.name} · {other.account.name}") for other in duplicates])
        task = task_form(found.account, next_url=url_for("crm.contact", contact_id=found.id))
    merged_into = None
    if found.merged_into_id is not None:
        try:
            merged_into = services.get_contact_or_raise(session, user=g.user, contact_id=found.merged_into_id)
        except NotFound:
            merged_into = None  # a record the user may not read stays unnamed
    return render_template(
        "crm/contact.html", contact=found, account=found.account, can_edit=can_edit, form=form,
        merge_form=merge_form, duplicates=duplicates, merged_into=merged_into,
        phones=found.channels_of(ChannelType.phone), emails=found.channels_of(ChannelType.email),
        task_form=task,
        task_action=url_for("crm.add_contact_task", contact_id=found.id),
        timeline=_timeline_page(found), **_labels(), **_channel_labels())


@bp.route("/contacts/<int:contact_id>/timeline")
def contact_timeline(contact_id: int):
    """One more page of a person's timeline, as list items (fetched by "Load more")."""
    found = services.get_contact_or_raise(db.session, user=g.user, contact_id=contact_id)
    return render_template("crm/_account_timeline.html", account=found.account, contact=found,
                           timeline=_timeline_page(found), types=activities.TIMELINE_TYPES, **_labels())


@bp.route("/contacts/<int:contact_id>", methods=["POST"])
def update_contact(contact_id: int):
    """Change the name, position, phones and e-mails (edit rights on the account; the service checks)."""
    session = db.session
    found = services.get_contact_or_raise(session, user=g.user, contact_id=contact_id, permission=Permission.edit)
    form = check(ContactForm())
    services.update_contact(session, actor=g.user, contact=found, first_name=form.first_name.data or "",
                            last_name=form.last_name.data or "", patronymic=form.patronymic.data or "",
                            title=form.title.data or "",
                            channels=_channels_given(form))
    flash(_("The contact was saved."), "info")
    return redirect(url_for("crm.contact", contact_id=found.id), code=303)


@bp.route("/contacts/<int:contact_id>/merge", methods=["POST"])
def merge_contact(contact_id: int):
    """Fold the picked duplicate into this contact: its history, tasks, deals, phones and e-mails move here."""
    session = db.session
    keep = services.get_contact_or_raise(session, user=g.user, contact_id=contact_id, permission=Permission.edit)
    form = MergeForm()
    form.merge_id.choices = []
    check(form)
    merge = services.get_contact_or_raise(session, user=g.user, contact_id=_id(form.merge_id.data, "merge_id"),
                                          field="merge_id")
    name = merge.name
    services.merge_contacts(session, actor=g.user, keep=keep, merge=merge)
    flash(_("%(name)s was merged into this contact.", name=name), "info")
    return redirect(url_for("crm.contact", contact_id=keep.id), code=303)


def _channel_labels() -> dict:
    return {"channel_type_labels": {k.value: v for k, v in CHANNEL_TYPE_LABELS.items()},
            "channel_kind_labels": {k.value: v for k, v in CHANNEL_KIND_LABELS.items()}}


# Tasks from the deal, account and contact pages


def task_form(account, *, next_url: str) -> LinkedTaskForm:
    """The task form for a page about ``account``: due tomorrow at nine, for the user, reminder empty."""
    tomorrow = datetime.now(user_zone()).date() + timedelta(days=1)
    form = LinkedTaskForm(formdata=None, data={"due_at": datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 0),
                                               "assignee_id": str(g.user.id), "next": next_url})
    form.assignee_id.choices = _assignees(account)
    return form


@bp.app_template_global()
def linked_task_form(account, next_url: str):
    """The task form for a page about ``account`` if the user may add tasks there, else None
    (``crm/_task_form.html`` calls it when the page passed no ``task_form``)."""
    if not access_to(db.session, user=g.user, obj=account.eps_node).can(Permission.edit):
        return None
    return task_form(account, next_url=next_url)


def _assignees(account) -> list:
    people = activities.assignable_users(db.session, account=account)
    if all(person.id != g.user.id for person in people) and g.user.is_active:
        people.insert(0, g.user)
    return choices((str(person.id), person.name) for person in people)


def _add_task(account, *, deal=None, contact=None, back: str):
    session = db.session
    form = LinkedTaskForm()
    form.assignee_id.choices = _assignees(account)
    check(form)
    zone = user_zone()
    due_at = form.due_at.data.replace(tzinfo=zone).astimezone(timezone.utc)
    remind_at = form.remind_at.data.replace(tzinfo=zone).astimezone(timezone.utc) if form.remind_at.data else None
    assignee = services.active_user(session, user_id=int(form.assignee_id.data), field="assignee_id")
    activities.create_task(session, actor=g.user, title=form.title.data, due_at=due_at, remind_at=remind_at,
                           assignee=assignee, account=account, deal=deal, contact=contact)
    flash(_("The task was added."), "info")
    return redirect(safe_next() if form.next.data else back, code=303)


@bp.route("/contacts/<int:contact_id>/tasks", methods=["POST"])
def add_contact_task(contact_id: int):
    """A task about this person (and their account)."""
    found = services.get_contact_or_raise(db.session, user=g.user, contact_id=contact_id, permission=Permission.edit)
    return _add_task(found.account, contact=found, back=url_for("crm.contact", contact_id=found.id))


@bp.route("/accounts/<int:account_id>/tasks", methods=["POST"])
def add_account_task(account_id: int):
    """A task about this account."""
    account = services.get_account_or_raise(db.session, user=g.user, account_id=account_id,
                                            permission=Permission.edit)
    return _add_task(account, back=url_for("crm.account", account_id=account.id))


@bp.route("/deals/<int:deal_id>/tasks", methods=["POST"])
def add_deal_task(deal_id: int):
    """A task about this deal (and its account)."""
    deal = deal_services.get_deal_or_raise(db.session, user=g.user, deal_id=deal_id)
    # The task is the account's content: edit rights there, before the form is read.
    account = services.get_account_or_raise(db.session, user=g.user, account_id=deal.account_id,
                                            permission=Permission.edit)
    return _add_task(account, deal=deal, back=url_for("crm.deal", deal_id=deal.id))



@bp.app_template_global()
def open_tasks_of(*, account=None, deal=None, contact=None) -> list[tuple]:
    """The open tasks of a deal, contact or account page, soonest due first, as (task, assignee name, overdue)."""
    session = db.session
    query = activities.list_tasks(session, user=g.user, status=TaskStatus.open,
                                  deal_id=deal.id if deal else None, contact_id=contact.id if contact else None,
                                  account_id=account.id if account and not (deal or contact) else None)
    tasks = session.scalars(query.limit(OPEN_TASKS)).all()
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_({t.assignee_id for t in tasks
                                                                               if t.assignee_id}))).all())
    now = utcnow()
    return [(task, names.get(task.assignee_id), task.due_at < now) for task in tasks]
