"""Web-to-lead forms (``accounts.marketing.forms``): read by every staff user, changed by those who may change
the branch their leads come in on. The public form itself is a page (``/forms/<key>``, web/views/marketing)."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from accounts.marketing import forms
from api.common import Blueprint, Id, Name, PageArgs, Trimmed, current_user, page_schema, paginate, session

blp = Blueprint("forms", __name__, url_prefix="/forms", description="Web-to-lead forms")


class FieldSchema(Schema):
    name = fields.String(required=True, validate=validate.OneOf(forms.FIELDS))
    required = fields.Boolean(load_default=False)
    label = Trimmed(load_default="", validate=validate.Length(max=forms.LABEL_LENGTH))


class FormCreateSchema(Schema):
    name = Name(required=True)
    region_node_id = Id(required=True, strict=True,
                        metadata={"description": "The branch node its leads come in on (edit rights there)."})
    campaign_id = Id(allow_none=True, strict=True, metadata={"description": "The campaign its leads count for."})
    source = Trimmed(validate=validate.Length(max=forms.SOURCE_LENGTH))
    product = Trimmed(validate=validate.Length(max=forms.FIELD_LENGTHS["product"]))
    thank_you = Trimmed(validate=validate.Length(max=forms.THANK_YOU_LENGTH))
    language = fields.String(validate=validate.OneOf(forms.LANGUAGES))
    is_active = fields.Boolean()
    # (Last: from here on, ``fields`` in this class body is this field, not marshmallow's module.)
    fields = fields.List(fields.Nested(FieldSchema), required=True, validate=validate.Length(min=1, max=20),
                         metadata={"description": "The lead fields asked, in order: " + ", ".join(forms.FIELDS)
                                                  + "; at least one of name, company, email, phone required."})


class FormUpdateSchema(FormCreateSchema):
    """The same fields, each optional (given ``partial=True``)."""


class FormReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    key = fields.String()
    url = fields.Method("_url", metadata={"description": "The public form's address (embed it in an iframe)."})
    region_node_id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    source = fields.String()
    product = fields.String()
    thank_you = fields.String()
    language = fields.String()
    is_active = fields.Boolean()
    submissions = fields.Integer()
    created_by_id = fields.Integer(allow_none=True, metadata={"description": "The user submissions act as: who "
                                                                             "last saved the form."})
    created_at = fields.DateTime()
    fields = fields.List(fields.Dict())

    def _url(self, form):
        return url_for("public_forms.show", key=form.key, _external=True)


class FormListArgs(PageArgs):
    active = fields.Boolean()


@blp.route("", methods=["GET"])
@blp.arguments(FormListArgs, location="query")
@blp.response(200, page_schema(FormReadSchema))
def list_forms(args):
    """Every web form, by name."""
    active = args.pop("active", None)
    return paginate(forms.list_forms(session(), user=current_user(), active=active), args)


@blp.route("", methods=["POST"])
@blp.arguments(FormCreateSchema)
@blp.response(201, FormReadSchema)
def create_form(data):
    """A new form on a branch you may change; its submissions act with your rights."""
    return forms.create_form(session(), actor=current_user(), **data)


@blp.route("/<int:form_id>", methods=["GET"])
@blp.response(200, FormReadSchema)
def get_form(form_id):
    """One web form."""
    return forms.get_form_or_raise(session(), user=current_user(), form_id=form_id)


@blp.route("/<int:form_id>", methods=["PATCH"])
@blp.arguments(FormUpdateSchema(partial=True))
@blp.response(200, FormReadSchema)
def update_form(data, form_id):
    """Change a form (edit rights on its branch); its submissions then act with your rights."""
    form = forms.get_form_or_raise(session(), user=current_user(), form_id=form_id)
    return forms.update_form(session(), actor=current_user(), form=form, **data)


@blp.route("/<int:form_id>", methods=["DELETE"])
@blp.response(204)
def delete_form(form_id):
    """Delete a form (edit rights on its branch); its leads stay."""
    form = forms.get_form_or_raise(session(), user=current_user(), form_id=form_id)
    forms.delete_form(session(), actor=current_user(), form=form)
