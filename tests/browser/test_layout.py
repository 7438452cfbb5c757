"""The page frame at desktop and phone widths: one content column whose left edge is the
header's on every page, nothing that scrolls sideways at 320 px, a readable Manage My Profile
menu that opens by keyboard without moving Log Out, and a focus ring that shows on the page and
on the header alike.

With LAYOUT_SHOTS=<directory> set, full-page screenshots of each page at each width land there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in_on_registered_device

pytestmark = pytest.mark.browser

WIDTHS = (1280, 375, 320)
SIGNED_OUT = {"login": "/login/", "help": "/help/"}
SIGNED_IN = {
    "vehicles": "/my/vehicles/",
    "profile": "/my/profile/",
    "devices": "/my/profile/devices/",
    "activity": "/my/profile/activity/",
}
MENU_ITEMS = (
    "My Online Profile",
    "Challenge Questions",
    "Password",
    "Contact information",
    "Registered devices",
    "Two-step verification",
    "Electronic communications",
    "Log-in activity",
)
# One unbroken word wider than a small phone: it has to wrap.
LONG_EMAIL = "dana.rivera.keeps.a.remarkably.long.mailbox.name@example-customer-mail.example"


# --- colour contrast (WCAG 2 relative luminance) ---------------------------------------------
def rgb(css: str) -> tuple[float, float, float]:
    red, green, blue = (float(n) for n in re.findall(r"[\d.]+", css)[:3])
    return red, green, blue


def contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        def linear(value: float) -> float:
            value /= 255
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (linear(v) for v in rgb(colour))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# The background actually behind an element: its own or that of the nearest ancestor that has
# one (a transparent background shows its parent's).
BACKGROUND_JS = """el => {
  for (let node = el; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (!/^rgba\\(.*, 0\\)$/.test(bg) && bg !== 'transparent') return bg;
  }
  return 'rgb(255, 255, 255)';
}"""


def colours(locator) -> tuple[str, str]:
    return locator.evaluate("el => getComputedStyle(el).color"), locator.evaluate(BACKGROUND_JS)


# --- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def customer_page(page, live_server, make_user):
    """A customer signed in from a registered device (so the password is enough), with two
    vehicles and a long email address."""
    log_in_on_registered_device(page, make_user(email=LONG_EMAIL, loans=2), live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("My Vehicles")
    return page


def left_edges(page) -> tuple[float, float]:
    """(header content's left edge, main column's left edge), in CSS pixels."""
    header = page.locator(".site-header .brand").bounding_box()["x"]
    main = page.locator("main h1").bounding_box()["x"]
    return header, main


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def shoot(page, name: str, width: int) -> None:
    directory = os.environ.get("LAYOUT_SHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{directory}/{name}-{width}.png", full_page=True)


def check_frame(page, pages: dict[str, str], shots: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        column = set()
        for name, url in pages.items():
            page.goto(url)
            header, main = left_edges(page)
            assert main == header, f"{url} at {width} px: main at {main}, header at {header}"
            column.add(main)
            assert not scrolls_sideways(page), f"{url} scrolls sideways at {width} px"
            shoot(page, f"{shots}-{name}", width)
        assert len(column) == 1, f"the column moves between pages at {width} px: {column}"


# --- tests ---------------------------------------------------------------------------------------
def test_signed_out_pages_share_the_header_column_and_fit_a_small_phone(page):
    check_frame(page, SIGNED_OUT, "out")


def test_signed_in_pages_and_their_tables_share_the_column_and_fit_a_small_phone(customer_page):
    page = customer_page
    page.goto("/my/profile/")
    expect(page.get_by_role("main")).to_contain_text(LONG_EMAIL)
    check_frame(page, SIGNED_IN | SIGNED_OUT, "in")


@pytest.mark.parametrize("width", WIDTHS)
def test_manage_my_profile_opens_by_keyboard_readable_and_leaves_log_out_in_place(
    customer_page, width
):
    page = customer_page
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/my/vehicles/")
    account = page.get_by_role("navigation", name="Account")
    summary = account.locator("summary", has_text="Manage My Profile")
    log_out = account.get_by_role("button", name="Log Out")
    before = log_out.bounding_box()
    text, background = colours(summary)
    assert contrast(text, background) >= 4.5, f"closed: {text} on {background}"

    summary.focus()
    page.keyboard.press("Enter")
    for item in MENU_ITEMS:
        expect(account.get_by_role("link", name=item)).to_be_visible()
    text, background = colours(summary)
    assert contrast(text, background) >= 4.5, f"open: {text} on {background}"
    first = account.get_by_role("link", name=MENU_ITEMS[0])
    text, background = colours(first)
    assert contrast(text, background) >= 4.5, f"menu item: {text} on {background}"

    after = log_out.bounding_box()
    assert (after["x"], after["y"]) == (before["x"], before["y"]), "opening moved Log Out"
    assert after["x"] >= 0 and after["x"] + after["width"] <= width
    assert not scrolls_sideways(page)
    shoot(page, "menu-open", width)

    page.keyboard.press("Tab")  # from the summary into the list
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("My Online Profile")


def test_focus_ring_stands_out_on_the_page_and_on_the_header(page):
    page.goto("/login/")
    for link in (
        page.get_by_role("navigation", name="Account").get_by_role("link", name="Log In"),
        page.get_by_role("main").get_by_role("link", name="Forgot password?"),
    ):
        link.focus()
        ring = link.evaluate(
            "el => [getComputedStyle(el).outlineColor, getComputedStyle(el).outlineWidth,"
            " getComputedStyle(el).boxShadow]"
        )
        outline, outline_width, halo = ring
        background = link.evaluate(f"el => ({BACKGROUND_JS})(el.parentElement)")
        assert float(outline_width.removesuffix("px")) >= 2
        # The ring is the outline plus the halo around it: the part meeting the background
        # around the control must differ from it by 3:1 or more.
        outer = halo if halo != "none" else outline
        assert contrast(outer, background) >= 3 or contrast(outline, background) >= 3, (
            f"{outline} / {halo} on {background}"
        )
        assert contrast(outline, outer) >= 3 or outer == outline
