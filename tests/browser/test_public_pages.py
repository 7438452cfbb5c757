"""A visitor walks the public pages: home → Help Center → search → Security Center → Contact Us."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_visitor_finds_an_answer_and_the_help_pages_without_axe_violations(
    page, live_server, axe_check
):
    page.goto("/")
    expect(page.get_by_role("heading", level=1, name="Your auto loan, online")).to_be_visible()
    axe_check(page)

    footer = page.get_by_role("navigation", name="Help")
    footer.get_by_role("link", name="Help Center").click()
    expect(page.get_by_role("heading", level=1, name="Help Center")).to_be_visible()
    axe_check(page)

    page.get_by_label("Ask a question").fill("date of birth slashes")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(live_server.url + "/help/?q=date+of+birth+slashes")
    expect(page.get_by_text("Type the month first, then the day")).to_be_visible()
    expect(page.get_by_text("Should I register my device?")).to_have_count(0)
    axe_check(page)

    footer.get_by_role("link", name="Security Center").click()
    expect(page.get_by_role("heading", level=1, name="Security Center")).to_be_visible()
    expect(page.get_by_role("heading", name="What we will never ask")).to_be_visible()
    axe_check(page)

    footer.get_by_role("link", name="Contact Us").click()
    expect(page.get_by_role("heading", level=1, name="Contact Us")).to_be_visible()
    expect(page.get_by_role("link", name="1-800-555-0142").first).to_be_visible()
    axe_check(page)


def test_help_center_search_works_without_javascript(browser, live_server):
    context = browser.new_context(
        ignore_https_errors=True, base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto("/help/")
        page.get_by_label("Ask a question").fill("zebra crossing")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_text("No answers match")).to_be_visible()
    finally:
        context.close()


def test_header_enroll_now_button_text_differs_from_its_background(page):
    page.goto("/")
    button = page.get_by_role("navigation", name="Account").get_by_role("link", name="Enroll Now")
    colour, background = button.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
    )
    assert colour != background
