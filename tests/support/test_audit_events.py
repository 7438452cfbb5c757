"""Looking at customers' security events leaves a trace in the staff audit trail."""

from __future__ import annotations

from security.models import SecurityEvent
from support.models import StaffAuditEntry

VIEWED_EVENTS = StaffAuditEntry.Action.VIEWED_EVENTS


def _event(user, kind=SecurityEvent.Kind.LOGIN_FAILED):
    return SecurityEvent.objects.create(user=user, kind=kind, detail="")


def test_opening_one_customers_event_is_audited_for_that_customer(agent, console_url, make_user):
    customer = make_user()
    event = _event(customer)
    response = agent.get(console_url(f"security/securityevent/{event.pk}/change/"))
    assert response.status_code == 200
    entry = StaffAuditEntry.objects.get(action=VIEWED_EVENTS)
    assert entry.customer == customer
    assert entry.staff == agent.staff
    assert entry.customer_username == customer.username


def test_searching_events_for_a_customer_is_audited_for_that_customer(
    agent, console_url, make_user
):
    customer = make_user()
    _event(customer)
    response = agent.get(console_url("security/securityevent/"), {"q": customer.username})
    assert response.status_code == 200
    assert customer.username in response.content.decode()
    entry = StaffAuditEntry.objects.get(action=VIEWED_EVENTS)
    assert entry.customer == customer


def test_browsing_everyones_events_is_audited_too(agent, console_url, make_user):
    _event(make_user())
    assert agent.get(console_url("security/securityevent/")).status_code == 200
    entry = StaffAuditEntry.objects.get(action=VIEWED_EVENTS)
    assert entry.customer is None
    assert entry.customer_username == "(all customers)"


def test_refreshing_within_the_quiet_period_adds_no_second_entry(agent, console_url, make_user):
    customer = make_user()
    event = _event(customer)
    for _ in range(3):
        agent.get(console_url(f"security/securityevent/{event.pk}/change/"))
    assert StaffAuditEntry.objects.filter(action=VIEWED_EVENTS, customer=customer).count() == 1
