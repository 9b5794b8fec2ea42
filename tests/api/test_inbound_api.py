"""The inbound endpoints over HTTP: integration tokens, the answers to first and repeated deliveries, e-mail as
JSON and as raw RFC 822, and every refusal (each a 4xx with nothing recorded)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from accounts.inbound.models import InboundEvent, Integration
from accounts.models import Interaction, Lead
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture
from tests.accounts.inbound.conftest import PHONE, inbound  # noqa: F401 - fixture

CALL = {"external_id": "pbx-1", "from": "8 (912) 345-67-89", "to": "+74950000000", "direction": "in",
        "started_at": "2026-12-01T10:00:00+03:00", "duration": 95,
        "recording_url": "https://pbx.example/rec/1.mp3"}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Interaction, InboundEvent, Lead))


def test_a_call_is_recorded_once_201_then_200_with_the_same_interaction(api, session, inbound):
    headers = _bearer(inbound["telephony_token"])
    first = api.post("/api/v1/inbound/calls", json=CALL, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["contact_id"] == inbound["known"].id and first.json["created"] is True
    again = api.post("/api/v1/inbound/calls", json=CALL, headers=headers)
    assert again.status_code == 200
    assert again.json["interaction_id"] == first.json["interaction_id"] and again.json["created"] is False
    interaction = session.get(Interaction, first.json["interaction_id"])
    assert interaction.duration_minutes == 2 and interaction.subject == f"Call from {PHONE}"


def test_a_message_is_recorded_on_a_new_routed_lead(api, session, inbound):
    body = {"external_id": "tg-1", "channel": "telegram", "sent_at": "2026-12-01T07:00:00Z", "phone": "+7 915 000 11 22",
            "name": "Ольга", "text": "Здравствуйте, нужна консультация"}
    response = api.post("/api/v1/inbound/messages", json=body, headers=_bearer(inbound["messenger_token"]))
    assert response.status_code == 201, response.json
    lead = session.get(Lead, response.json["lead_id"])
    assert (lead.phone, lead.contact_name, lead.owner_id) == ("+79150001122", "Ольга", inbound["alice"].id)


def test_an_email_as_json_threads_its_reply(api, session, inbound):
    headers = _bearer(inbound["email_token"])
    first = api.post("/api/v1/inbound/email", headers=headers, json={
        "from": "new@client.example", "from_name": "New Client", "to": ["sales@us.example"], "subject": "Hello",
        "text": "", "html": "<p>Need <b>a quote</b></p>", "message_id": "<q1@client.example>"})
    assert first.status_code == 201, first.json
    interaction = session.get(Interaction, first.json["interaction_id"])
    assert interaction.summary.startswith("Need a quote")
    reply = api.post("/api/v1/inbound/email", headers=headers, json={
        "from": "other@client.example", "subject": "Re: Hello", "text": "And delivery?",
        "message_id": "<q2@client.example>", "in_reply_to": "<q1@client.example>"})
    assert reply.status_code == 201 and reply.json["lead_id"] == first.json["lead_id"]


def test_a_raw_rfc822_email_is_read_and_matched_to_its_contact(api, session, inbound):
    message = EmailMessage()
    message["From"] = "Покупатель <buyer@a.example>"
    message["To"] = "sales@us.example"
    message["Subject"] = "Вопрос по договору №7"
    message["Message-ID"] = "<raw-api@a.example>"
    message.set_content("Текст письма")
    message.add_alternative("<p>Текст <i>письма</i></p>", subtype="html")
    response = api.post("/api/v1/inbound/email", raw=message.as_bytes(),
                        headers={**_bearer(inbound["email_token"]), "Content-Type": "message/rfc822"})
    assert response.status_code == 201, response.json
    assert response.json["contact_id"] == inbound["A"]["contact"].id
    interaction = session.get(Interaction, response.json["interaction_id"])
    assert (interaction.subject, interaction.summary.split("\n")[0]) == ("Вопрос по договору №7", "Текст письма")


@pytest.mark.parametrize("case", ["no token", "bad token", "user token", "revoked integration", "wrong kind"])
def test_refused_credentials_record_nothing(api, session, inbound, case):
    before = _counts(session)
    headers = {
        "no token": {},
        "bad token": _bearer("crmpmi_" + "x" * 43),
        "user token": _bearer(api.token_for(inbound["admin"])),
        "revoked integration": _bearer(inbound["telephony_token"]),
        "wrong kind": _bearer(inbound["email_token"]),
    }[case]
    if case == "revoked integration":
        inbound["telephony"].is_active = False
        session.commit()
    response = api.post("/api/v1/inbound/calls", json=CALL, headers=headers)
    assert response.status_code == (403 if case == "wrong kind" else 401), response.json
    assert _counts(session) == before


def test_an_integration_token_opens_nothing_else(api, inbound):
    for path in ("/api/v1/me", "/api/v1/accounts", "/api/v1/integrations"):
        assert api.get(path, headers=_bearer(inbound["telephony_token"])).status_code == 401


@pytest.mark.parametrize("case", ["naive time", "negative duration", "ftp recording", "garbage number",
                                  "not json", "oversized", "oversized email", "email without sender",
                                  "raw without from", "email not json", "nul in text", "future start",
                                  "long external id"])
def test_bad_input_is_a_clear_4xx_and_records_nothing(api, app, session, inbound, case, monkeypatch):
    before = _counts(session)
    path, headers, kwargs = "/api/v1/inbound/calls", _bearer(inbound["telephony_token"]), {}
    email_headers = _bearer(inbound["email_token"])
    expected, field = 422, None
    if case == "naive time":
        kwargs["json"], field = CALL | {"started_at": "2026-12-01T10:00:00"}, "started_at"
    elif case == "negative duration":
        kwargs["json"], field = CALL | {"duration": -1}, "duration"
    elif case == "ftp recording":
        kwargs["json"], field = CALL | {"recording_url": "ftp://pbx.example/1.mp3"}, "recording_url"
    elif case == "garbage number":
        kwargs["json"], field = CALL | {"from": "not a number"}, "from"
    elif case == "not json":
        kwargs["raw"], expected = b"\xff\xfe{", 400
    elif case == "oversized":
        kwargs["json"], expected = CALL | {"padding": "x" * (256 * 1024)}, 413
    elif case == "oversized email":
        monkeypatch.setitem(app.config, "MAX_INBOUND_EMAIL_LENGTH", 1024)
        path, headers, expected = "/api/v1/inbound/email", email_headers | {"Content-Type": "message/rfc822"}, 413
        kwargs["raw"] = b"From: a@b.example\r\nSubject: big\r\n\r\n" + b"x" * 4096
    elif case == "email without sender":
        path, headers, field = "/api/v1/inbound/email", email_headers, "from"
        kwargs["json"] = {"subject": "no sender", "text": "hi"}
    elif case == "raw without from":
        path, headers, field = "/api/v1/inbound/email", email_headers | {"Content-Type": "message/rfc822"}, "from"
        kwargs["raw"] = b"Subject: nobody\r\n\r\nhello"
    elif case == "nul in text":
        path, headers, field = "/api/v1/inbound/email", email_headers, "text"
        kwargs["json"] = {"from": "a@b.example", "text": "a\u0000b"}
    elif case == "future start":
        kwargs["json"], field = CALL | {"started_at": "2099-01-01T00:00:00Z"}, "started_at"
    elif case == "long external id":
        kwargs["json"], field = CALL | {"external_id": "x" * 501}, "external_id"
    elif case == "email not json":
        path, headers, field = "/api/v1/inbound/email", email_headers, "body"
        kwargs["raw"] = b"[1, 2]"
    response = api.post(path, headers=headers, **kwargs)
    assert response.status_code == expected, response.json
    if expected == 413:
        assert response.json["message"].startswith("the e-mail is larger" if "email" in case else "the event is larger")
    if field is not None:
        errors = response.json.get("errors", {})
        assert field in errors.get("json", errors), response.json
    assert _counts(session) == before


def test_administrators_create_rotate_switch_off_and_delete_integrations(api, session, inbound):
    admin = inbound["admin"]
    created = api.post("/api/v1/integrations", user=admin, json={
        "kind": "telephony", "name": "Second PBX", "region_node_id": inbound["A"]["branch"].id})
    assert created.status_code == 201, created.json
    token, integration_id = created.json["token"], created.json["id"]
    assert token.startswith("crmpmi_") and created.json["acting_user_id"] == admin.id
    assert "token" not in api.get(f"/api/v1/integrations/{integration_id}", user=admin).json
    assert session.get(Integration, integration_id).token_hash != token  # only a hash is kept
    listed = api.get("/api/v1/integrations", user=admin).json
    assert integration_id in [item["id"] for item in listed["items"]]
    call = CALL | {"external_id": "second-1"}
    assert api.post("/api/v1/inbound/calls", json=call, headers=_bearer(token)).status_code == 201
    rotated = api.post(f"/api/v1/integrations/{integration_id}/rotate-token", user=admin)
    assert rotated.status_code == 200 and rotated.json["token"] != token
    assert api.post("/api/v1/inbound/calls", json=call, headers=_bearer(token)).status_code == 401
    assert api.post("/api/v1/inbound/calls", json=call, headers=_bearer(rotated.json["token"])).status_code == 200
    off = api.patch(f"/api/v1/integrations/{integration_id}", user=admin, json={"is_active": False, "name": "Old PBX"})
    assert (off.status_code, off.json["is_active"], off.json["name"]) == (200, False, "Old PBX")
    assert api.post("/api/v1/inbound/calls", json=call, headers=_bearer(rotated.json["token"])).status_code == 401
    assert api.delete(f"/api/v1/integrations/{integration_id}", user=admin).status_code == 204
    assert api.get(f"/api/v1/integrations/{integration_id}", user=admin).status_code == 404


def test_an_acting_user_who_may_not_change_the_region_is_refused(api, session, inbound):
    outsider = factories.user(session)
    session.commit()
    response = api.post("/api/v1/integrations", user=inbound["admin"], json={
        "kind": "email", "name": "Mailbox", "region_node_id": inbound["A"]["branch"].id,
        "acting_user_id": outsider.id})
    assert response.status_code == 422 and "acting_user_id" in response.json["errors"]


def test_deliveries_are_rate_limited_per_integration_and_bad_tokens_per_address(api, app, session, inbound,
                                                                                 monkeypatch):
    from crmpm.ratelimit import EXTENSION, Throttle

    monkeypatch.setitem(app.extensions, EXTENSION, Throttle(limits={"inbound": "2 per minute",
                                                                    "inbound-address": "3 per minute"}))
    phone_line = _bearer(inbound["telephony_token"])
    answers = [api.post("/api/v1/inbound/calls", json=CALL | {"external_id": f"r-{n}"}, headers=phone_line)
               for n in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # Another integration has its own count.
    mail = api.post("/api/v1/inbound/email", json={"from": "x@y.example", "text": "hi"},
                    headers=_bearer(inbound["email_token"]))
    assert mail.status_code == 201
    guesses = [api.post("/api/v1/inbound/messages", json={}, headers=_bearer(f"crmpmi_guess{n}")).status_code
               for n in range(4)]
    assert guesses == [401, 401, 401, 429]
