"""Security events and the staff audit trail cannot be added, changed or deleted by anyone."""

from __future__ import annotations

import pytest

from security.models import AppendOnlyError, SecurityEvent
from support.models import StaffAuditEntry


@pytest.fixture
def event(make_user):
    return SecurityEvent.objects.create(user=make_user(), kind="login_failed", detail="original")


@pytest.fixture
def entry(make_user, make_staff):
    staff, customer = make_staff("agent"), make_user()
    return StaffAuditEntry.objects.create(
        staff=staff,
        staff_username=staff.username,
        customer=customer,
        customer_username=customer.username,
        action="unlocked",
        reason="original",
    )


@pytest.fixture
def superuser_client(staff_client):
    client = staff_client("supervisor")
    client.staff.is_superuser = True
    client.staff.save(update_fields=["is_superuser"])
    return client


def _admin_urls(console_url, obj):
    base = console_url(f"{obj._meta.app_label}/{obj._meta.model_name}/")
    return base, f"{base}add/", f"{base}{obj.pk}/change/", f"{base}{obj.pk}/delete/"


@pytest.mark.parametrize("role", ["supervisor", "superuser_client"])
@pytest.mark.parametrize("record", ["event", "entry"])
def test_console_refuses_to_add_change_or_delete(request, console_url, role, record):
    client = request.getfixturevalue(role)
    obj = request.getfixturevalue(record)
    changelist, add, change, delete = _admin_urls(console_url, obj)
    data = {"detail": "forged", "reason": "forged", "kind": "enrolled", "action": "enabled"}
    assert client.get(add).status_code == 403
    assert client.post(add, data).status_code == 403
    assert client.post(change, data).status_code == 403
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    # No bulk "delete selected" either.
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302, 403)
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert type(obj).objects.count() >= 1
    reloaded = type(obj).objects.get(pk=obj.pk)
    assert getattr(reloaded, "detail", None) in (None, "original")
    assert getattr(reloaded, "reason", None) in (None, "original")


@pytest.mark.parametrize("record", ["event", "entry"])
def test_the_record_page_is_read_only(request, supervisor, console_url, record):
    obj = request.getfixturevalue(record)
    _, _, change, _ = _admin_urls(console_url, obj)
    html = supervisor.get(change).content.decode()
    assert "original" in html
    assert 'name="_save"' not in html
    assert "deletelink" not in html


@pytest.mark.parametrize("record", ["event", "entry"])
def test_the_model_api_refuses_changes_and_deletes(request, record):
    obj = request.getfixturevalue(record)
    model = type(obj)
    with pytest.raises(AppendOnlyError):
        obj.save()
    with pytest.raises(AppendOnlyError):
        obj.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=obj.pk).update(created_at=obj.created_at)
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=obj.pk).delete()
    assert model.objects.filter(pk=obj.pk).exists()


def test_events_and_audit_trail_are_searchable_and_filterable(
    supervisor, console_url, make_user, make_staff
):
    dana, lee = make_user(first_name="Dana"), make_user(first_name="Lee")
    SecurityEvent.objects.create(user=dana, kind="locked")
    SecurityEvent.objects.create(user=lee, kind="login_ok")
    events = console_url("security/securityevent/")
    by_customer = supervisor.get(events, {"q": dana.username}).content.decode()
    assert dana.username in by_customer and lee.username not in by_customer
    by_kind = supervisor.get(events, {"kind__exact": "login_ok"}).content.decode()
    assert lee.username in by_kind and dana.username not in by_kind
    staff = make_staff("agent")
    for customer in (dana, lee):
        StaffAuditEntry.objects.create(
            staff=staff,
            staff_username=staff.username,
            customer=customer,
            customer_username=customer.username,
            action="unlocked" if customer is dana else "devices_removed",
        )
    audit = console_url("support/staffauditentry/")
    by_customer = supervisor.get(audit, {"q": lee.username}).content.decode()
    assert lee.username in by_customer and dana.username not in by_customer
    by_action = supervisor.get(audit, {"action__exact": "unlocked"}).content.decode()
    assert dana.username in by_action and lee.username not in by_action
    by_date = supervisor.get(
        audit,
        {
            "created_at__gte": "2000-01-01 00:00:00-05:00",
            "created_at__lt": "2000-01-02 00:00:00-05:00",
        },
    )
    assert by_date.status_code == 200
    assert dana.username not in by_date.content.decode()
