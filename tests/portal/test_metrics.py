"""/metrics: what an operator scrapes, and who may scrape it."""

from __future__ import annotations

import pytest
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from security.codes import Channel, code_send
from security.events import record_event
from security.models import SecurityEvent
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "m" * 40


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_loopback_may_scrape(client):
    assert client.get("/metrics").status_code == 200


def test_another_network_gets_not_found_without_the_token(client, settings):
    settings.PORTAL_METRICS_TOKEN = TOKEN
    outside = {"REMOTE_ADDR": "203.0.113.9"}

    assert client.get("/metrics", **outside).status_code == 404
    wrong = {"HTTP_AUTHORIZATION": "Bearer " + "x" * 40}
    assert client.get("/metrics", **outside, **wrong).status_code == 404
    right = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", **outside, **right).status_code == 200


def test_a_configured_network_may_scrape(client, settings):
    import ipaddress

    settings.PORTAL_METRICS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


# pytest-django's per-test transaction never commits: the callbacks that count run on leaving
# django_capture_on_commit_callbacks(execute=True), as they would after each real commit.


def test_failed_logins_and_the_lockout_are_counted(
    client, make_user, django_capture_on_commit_callbacks
):
    user = make_user()
    before = scrape(client)

    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/login/", {"username": user.username, "password": "wrong " + DEMO_PASSWORD}
            )

    after = scrape(client)
    failed = value(after, "portal_logins_total", outcome="failed")
    assert failed - value(before, "portal_logins_total", outcome="failed") == 5
    assert value(after, "portal_lockouts_total") - value(before, "portal_lockouts_total") == 1


def test_codes_are_counted_by_channel_and_the_queue_by_status(
    client, make_user, django_capture_on_commit_callbacks
):
    user = make_user()
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        code_send(user=user, purpose="login", flow_id="flow-1", channel=Channel.EMAIL)
        code_send(user=user, purpose="login", flow_id="flow-2", channel=Channel.SMS)

    after = scrape(client)
    for channel in ("email", "sms"):
        sent = value(after, "portal_codes_sent_total", channel=channel)
        assert sent - value(before, "portal_codes_sent_total", channel=channel) == 1
        delivered = value(after, "portal_outgoing_messages", channel=channel, status="sent")
        before_delivered = value(before, "portal_outgoing_messages", channel=channel, status="sent")
        assert delivered - before_delivered == 1


def test_an_event_rolled_back_counts_nothing(client, django_capture_on_commit_callbacks):
    before = scrape(client)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_event(SecurityEvent.Kind.ENROLLED)
        raise RuntimeError("the enrollment failed after all")
    after = scrape(client)
    assert value(after, "portal_enrollments_total") == value(before, "portal_enrollments_total")
    with django_capture_on_commit_callbacks(execute=True):
        record_event(SecurityEvent.Kind.ENROLLED)
    again = scrape(client)
    assert value(again, "portal_enrollments_total") - value(after, "portal_enrollments_total") == 1


def test_requests_are_timed_by_view_name_not_path(client):
    before = scrape(client)
    client.get("/help/")
    client.get("/no-such-page/abcdefghijklmnop1234/")
    after = scrape(client)

    name = "portal_request_duration_seconds_count"
    labels = {"view": "help_center", "method": "GET", "status": "2xx"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    unmatched = {"view": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    assert not any("abcdefghijklmnop1234" in str(key) for key in after)


def test_failed_deliveries_show_in_the_queue_gauge(client, make_user):
    from security.models import OutgoingMessage

    before = value(scrape(client), "portal_outgoing_messages", channel="email", status="failed")
    OutgoingMessage.objects.create(
        channel="email", destination="d@example.com", subject="s", body=b"", status="failed"
    )
    after = value(scrape(client), "portal_outgoing_messages", channel="email", status="failed")
    assert after - before == 1


def test_an_instance_starts_with_an_empty_counter_directory(tmp_path, monkeypatch):
    """gunicorn's master prepares the directory its workers share their counters in (the
    workers inherit PROMETHEUS_MULTIPROC_DIR), and forgets an earlier run's counters."""
    from portal.serve import ServerOptions, gunicorn_settings

    stale = tmp_path / "web-8001"
    stale.mkdir()
    (stale / "counter_12345.db").write_bytes(b"old")
    # Recorded first, so the test leaves the variable as it found it (unset).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-after-the-test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    options = ServerOptions(
        port=8001, host="127.0.0.1", workers=2, threads=4, tls=None, metrics_dir=stale
    )

    gunicorn_settings(options)["on_starting"](None)

    assert list(stale.iterdir()) == []
    import os

    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(stale)


def test_prometheus_may_scrape_an_instance_over_plain_http_on_loopback(plain_http_client):
    """Behind nginx the instances speak HTTP on loopback; a scrape there is not sent to https."""
    response = plain_http_client.get("/metrics")
    assert response.status_code == 200
    assert b"portal_request_duration_seconds" in response.content
    assert plain_http_client.get("/my/vehicles/").status_code == 301  # everything else is
