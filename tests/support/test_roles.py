"""Two roles made by a migration; each gets exactly its permissions, and no more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from support.models import StaffAuditEntry

AGENT_PERMISSIONS = {
    "support.view_customeraccount",
    "support.verify_caller",
    "support.unlock_access",
    "support.remove_devices",
    "support.remove_passkeys",
    "support.require_new_questions",
    "security.view_securityevent",
    "security.view_outgoingmessage",
}
SUPERVISOR_ONLY = {"support.disable_access", "support.view_staffauditentry"}


def _permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_support_agent_group_has_exactly_the_agent_permissions(db):
    assert _permissions("Support agent") == AGENT_PERMISSIONS


def test_supervisor_group_has_the_agent_permissions_plus_disable_and_audit_trail(db):
    assert _permissions("Supervisor") == AGENT_PERMISSIONS | SUPERVISOR_ONLY


def test_no_role_can_add_change_or_delete_anything(db):
    from django.contrib.auth.models import Permission

    for group in Group.objects.filter(name__in=["Support agent", "Supervisor"]):
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert not {c for c in codenames if c.split("_")[0] in {"add", "change", "delete"}}
    # The console's models do not even have such permissions to grant.
    assert not Permission.objects.filter(
        content_type__app_label="support", codename__regex=r"^(add|change|delete)_"
    ).exists()


@pytest.mark.parametrize("action", ["disable", "enable"])
def test_agent_gets_403_for_each_supervisor_action(agent, customer_url, make_user, action):
    customer = make_user()
    response = agent.post(customer_url(customer, action), {f"{action}-reason": "caller asked"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.is_active
    assert not StaffAuditEntry.objects.filter(action__in=["disabled", "enabled"]).exists()


def test_agent_gets_403_for_the_staff_audit_trail(agent, console_url):
    assert agent.get(console_url("support/staffauditentry/")).status_code == 403


def test_agent_sees_no_supervisor_buttons_on_the_customer_page(agent, customer_url, make_user):
    html = agent.get(customer_url(make_user())).content.decode()
    assert "Unlock online access" in html
    assert "Disable online access" not in html
    assert "Recent support actions" not in html


def test_supervisor_sees_disable_and_the_audit_trail(
    supervisor, console_url, customer_url, make_user
):
    customer = make_user()
    html = supervisor.get(customer_url(customer)).content.decode()
    assert "Disable online access" in html
    assert "Recent support actions" in html
    assert supervisor.get(console_url("support/staffauditentry/")).status_code == 200


def test_staff_without_a_role_cannot_see_customers(staff_client, console_url, make_user):
    nobody = staff_client("none")
    customer = make_user()
    assert nobody.get(console_url("support/customeraccount/")).status_code == 403
    assert (
        nobody.get(console_url(f"support/customeraccount/{customer.pk}/change/")).status_code == 403
    )
    response = nobody.post(
        console_url(f"support/customeraccount/{customer.pk}/unlock/"), {"unlock-reason": "x"}
    )
    assert response.status_code == 403


def test_staff_accounts_are_not_customers_in_the_console(supervisor, console_url, make_staff):
    other = make_staff("agent")
    url = console_url(f"support/customeraccount/{other.pk}/")
    assert supervisor.get(url + "change/").status_code == 404
    assert supervisor.post(url + "disable/", {"disable-reason": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_roles_are_restored_by_migrate_if_groups_were_emptied(db):
    from django.core.management import call_command

    Group.objects.get(name="Supervisor").permissions.clear()
    Group.objects.filter(name="Support agent").delete()
    call_command("migrate", verbosity=0)
    assert _permissions("Support agent") == AGENT_PERMISSIONS
    assert _permissions("Supervisor") == AGENT_PERMISSIONS | SUPERVISOR_ONLY
