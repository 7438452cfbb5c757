"""Locally, every outgoing email and text message is one file naming its recipient."""

from __future__ import annotations

from django.core.mail import send_mail

from security.sms import send_sms


def test_each_email_lands_as_one_file_naming_its_recipient(settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    send_mail("Hello", "First body", None, ["dana@example.com"])
    send_mail("Hello again", "Second body", None, ["lee@example.com"])
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    assert "dana@example.com" in files[0].name and "lee@example.com" in files[1].name
    assert "To: dana@example.com" in files[0].read_text()
    assert "First body" in files[0].read_text()


def test_each_text_message_lands_as_one_file_naming_its_recipient(settings, tmp_path):
    settings.PORTAL_SMS_BACKEND = "portal.outbox.OutboxSmsBackend"
    settings.PORTAL_OUTBOX_DIR = tmp_path
    send_sms("+12015550123", "Your code is 123456")
    (message,) = tmp_path.iterdir()
    assert "sms" in message.name and "+12015550123" in message.name
    assert "Your code is 123456" in message.read_text()


def test_tests_capture_text_messages(sms_outbox):
    send_sms("+12015550199", "hello")
    assert sms_outbox == [("+12015550199", "hello")]
