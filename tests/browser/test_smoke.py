import pytest

pytestmark = pytest.mark.browser


def test_home_page_over_https_has_no_axe_violations(page, live_server, axe_check):
    response = page.goto("/")
    assert response.status == 200
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert (
        page.get_by_role("navigation", name="Account")
        .get_by_role("link", name="Enroll Now")
        .is_visible()
    )
    axe_check("/")
