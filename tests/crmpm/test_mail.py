"""Outgoing mail: the SMTP URL, messages, templates, and the ``mail.send`` job against a real SMTP server.

The server is aiosmtpd on 127.0.0.1 (``tests/mailserver.py``); what arrives is parsed back with the
standard library and compared with what the test asked to send.
"""

from __future__ import annotations

import smtplib

import pytest

from crmpm import mail
from crmpm.errors import Invalid
from crmpm.jobs import Job
from crmpm.mail import Message, SmtpSettings, Templates, check_user_template, render_user_template
from tests.committed import committed  # noqa: F401 - fixture
from tests.mailserver import start_smtp_server

# The SMTP URL


def test_smtp_url_with_login_and_starttls_is_read_whole():
    settings = SmtpSettings.from_url("smtp://mailer%40firm.ru:p%3Ass@mail.firm.ru:587?starttls=1&timeout=5")
    assert (settings.host, settings.port, settings.username, settings.password) == ("mail.firm.ru", 587,
                                                                                    "mailer@firm.ru", "p:ss")
    assert settings.starttls and not settings.implicit_tls and settings.timeout == 5.0


def test_smtps_url_uses_tls_from_the_first_byte_on_port_465_by_default():
    settings = SmtpSettings.from_url("smtps://relay.example")
    assert (settings.port, settings.implicit_tls, settings.starttls, settings.username) == (465, True, False, None)


@pytest.mark.parametrize("url, named", [
    ("http://mail.example", "smtp:// or smtps://"),
    ("smtp://", "no host"),
    ("smtp://mail.example:99999", "port"),
    ("smtp://mail.example?startls=1", "unknown parameters: startls"),
    ("smtp://mail.example?starttls=maybe", "starttls"),
    ("smtp://mail.example?timeout=soon", "timeout"),
])
def test_a_bad_smtp_url_is_refused_naming_what_is_wrong(url, named):
    with pytest.raises(Invalid) as error:
        SmtpSettings.from_url(url)
    assert named in error.value.message


def test_a_refused_url_never_shows_its_password():
    with pytest.raises(Invalid) as error:
        SmtpSettings.from_url("smtp://user:s3cret@mail.example?bogus=1")
    assert "s3cret" not in error.value.message


# Messages


def test_a_message_refuses_a_header_injected_through_its_subject():
    with pytest.raises(Invalid):
        Message(to=["a@example.com"], subject="Hi\r\nBcc: victim@example.com", text="x")


def test_a_message_normalizes_its_recipients_and_refuses_a_bad_one():
    assert Message(to=" Ivan@Example.COM ", subject="s", text="t").to == ["ivan@example.com"]  # spelled one way (crmpm.emails)
    with pytest.raises(Invalid):
        Message(to=["not an address"], subject="s", text="t")


def test_a_message_with_html_is_multipart_alternative_with_both_bodies():
    email = Message(to=["a@example.com"], subject="Счёт", text="Текст", html="<p>Текст</p>").to_email("crmpm <no@firm.ru>")
    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]
    assert email["Message-ID"].endswith("@firm.ru>")


# Templates


def test_a_template_renders_in_the_asked_language_and_falls_back_to_english(tmp_path):
    (tmp_path / "hello.en.txt").write_text("Subject: Hello {{ name }}\n\nDear {{ name }},\n")
    (tmp_path / "hello.ru.txt").write_text("Subject: Здравствуйте, {{ name }}\n\nУважаемый {{ name }},\n")
    (tmp_path / "hello.ru.html").write_text("<p>Уважаемый {{ name }}</p>")
    templates = Templates(tmp_path)
    russian = templates.render("hello", "ru", {"name": "<Иван>"})
    assert russian.subject == "Здравствуйте, <Иван>" and russian.text == "Уважаемый <Иван>,\n"
    assert russian.html == "<p>Уважаемый &lt;Иван&gt;</p>"  # HTML escaped, text not
    english = templates.render("hello", "de", {"name": "Anna"})
    assert (english.subject, english.html) == ("Hello Anna", None)


def test_a_template_missing_a_field_fails_instead_of_sending_a_blank(tmp_path):
    (tmp_path / "hello.en.txt").write_text("Subject: Hello {{ name }}\n\nbody\n")
    with pytest.raises(Exception, match="name"):
        Templates(tmp_path).render("hello", "en", {})


def test_a_user_template_with_an_unknown_field_is_refused_naming_it():
    with pytest.raises(Invalid) as error:
        check_user_template("Deal {{ deal.title }} for {{ acount }}", {"deal", "account"})
    assert "acount" in error.value.message and "deal" not in error.value.message.split("known")[0]


def test_a_user_template_cannot_reach_python_internals():
    with pytest.raises(Invalid):
        render_user_template("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_a_user_template_that_does_not_parse_is_refused():
    with pytest.raises(Invalid, match="cannot be read"):
        check_user_template("{{ deal.title ", {"deal"})


# The job, against a real server


def _send(committed, message: Message) -> Job:
    with committed.app.app_context():
        job = mail.send_later(committed.session, message)
    committed.run_jobs()
    return committed.session.get(Job, job.id)


def test_a_message_arrives_at_the_smtp_server_as_written(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    committed.app.config["MAIL_FROM"] = "crmpm <robot@firm.ru>"
    job = _send(committed, Message(to=["ivan@example.com"], cc=["anna@example.com"], subject="Напоминание: звонок",
                                   text="Позвонить в 15:00", html="<p>Позвонить в <b>15:00</b></p>"))
    assert job.status == "succeeded", job.error
    [received] = smtp_server.messages
    assert sorted(received.rcpt_tos) == ["anna@example.com", "ivan@example.com"]
    assert received.mail_from == "robot@firm.ru"
    email = received.message
    assert email["Subject"] == "Напоминание: звонок" and email["From"] == "crmpm <robot@firm.ru>"
    assert email.get_body(("plain",)).get_content().strip() == "Позвонить в 15:00"
    assert email.get_body(("html",)).get_content().strip() == "<p>Позвонить в <b>15:00</b></p>"
    assert email["Message-ID"] == job.result["message_id"] == job.params["message"]["message_id"]
    assert email["Date"].datetime.tzinfo is not None


def test_a_message_of_a_rolled_back_transaction_is_never_sent(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    with committed.app.app_context():
        mail.send_later(committed.session, Message(to=["ivan@example.com"], subject="s", text="t"))
    committed.session.rollback()
    assert committed.run_jobs() == []
    assert smtp_server.messages == []


def test_a_server_answering_try_later_gets_the_message_on_a_later_attempt(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    smtp_server.refuse("451 4.3.0 mailbox busy, try later")
    job = _send(committed, Message(to=["ivan@example.com"], subject="s", text="t"))
    assert (job.status, job.attempt) == ("queued", 1) and "451" in job.error
    assert smtp_server.messages == []
    committed.session.execute(Job.__table__.update().where(Job.id == job.id).values(run_after=job.created_at))
    committed.run_jobs()
    committed.session.refresh(job)
    assert job.status == "succeeded" and len(smtp_server.messages) == 1


def test_a_server_refusing_the_message_fails_the_job_at_once_with_its_answer(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    smtp_server.refuse("554 5.7.1 message rejected as spam")
    job = _send(committed, Message(to=["ivan@example.com"], subject="s", text="t"))
    assert (job.status, job.attempt) == ("failed", 1)
    assert "554" in job.error and "rejected as spam" in job.error


def test_an_unreachable_server_is_retried_not_failed(committed):
    committed.app.config["SMTP_URL"] = "smtp://127.0.0.1:1?timeout=2"
    job = _send(committed, Message(to=["ivan@example.com"], subject="s", text="t"))
    assert job.status == "queued" and job.attempt == 1 and job.run_after > job.created_at


def test_login_over_starttls_with_the_servers_own_certificate(committed, tmp_path):
    server = start_smtp_server(tls_dir=tmp_path, login=("mailer", "s3cret:pw"))
    try:
        committed.app.config["SMTP_URL"] = server.url.replace("s3cret:pw", "s3cret%3Apw")
        job = _send(committed, Message(to=["ivan@example.com"], subject="secure", text="t"))
        assert job.status == "succeeded", job.error
        assert [m.message["Subject"] for m in server.messages] == ["secure"]
    finally:
        server.controller.stop()


def test_a_wrong_password_is_not_a_delivery(committed, tmp_path):
    server = start_smtp_server(tls_dir=tmp_path, login=("mailer", "right"))
    try:
        committed.app.config["SMTP_URL"] = server.url.replace("mailer:right", "mailer:wrong")
        job = _send(committed, Message(to=["ivan@example.com"], subject="s", text="t"))
        assert job.status == "failed" and "535" in job.error
        assert server.messages == []
    finally:
        server.controller.stop()


def test_without_an_smtp_url_the_message_is_kept_in_the_outbox(committed, tmp_path):
    committed.app.config["SMTP_URL"] = None
    committed.app.config["INSTANCE_PATH"] = str(tmp_path)
    job = _send(committed, Message(to=["ivan@example.com"], subject="Тема", text="Текст"))
    assert job.status == "succeeded"
    [saved] = (tmp_path / "outbox").glob("*.eml")
    assert str(saved) == job.result["outbox"]
    from email import message_from_bytes, policy

    assert message_from_bytes(saved.read_bytes(), policy=policy.default)["Subject"] == "Тема"


def test_the_job_kind_is_installed():
    from crmpm.jobs.kinds import installed_kinds

    assert installed_kinds()[mail.KIND].__module__ == "crmpm.mail.jobs"


def test_is_temporary_reads_smtp_reply_classes():
    from crmpm.mail.smtp import is_temporary

    assert is_temporary(smtplib.SMTPDataError(451, b"later"))
    assert not is_temporary(smtplib.SMTPDataError(550, b"no"))
    assert is_temporary(ConnectionRefusedError())
