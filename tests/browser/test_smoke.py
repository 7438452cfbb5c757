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


def test_the_browser_is_debians_chromium(browser, browser_type_launch_args):
    from tests.conftest import CHROMIUM_BINARY, browser_executable

    assert browser_type_launch_args["executable_path"] == "/usr/bin/chromium"
    assert browser_executable(browser) == CHROMIUM_BINARY
