"""The pages a visitor sees before logging in: home, Help Center (with its search), Security
Center, Contact Us and the error pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from portal import views
from portal.help import SECTIONS, search_faq
from security.ratelimits import too_many_attempts

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    ("/", "Your auto loan, online"),
    ("/help/", "Help Center"),
    ("/security/", "Security Center"),
    ("/contact/", "Contact Us"),
]
# Real lenders' and banks' names must never appear: the portal is white-label.
REAL_BANK_NAMES = re.compile(
    r"\b(Ally|Chase|Wells Fargo|Capital One|Santander|Bank of America|Citi(bank)?|"
    r"GM Financial|Toyota Financial|Honda Financial|Ford Credit|TD Bank|PNC|U\.S\. Bank)\b"
)


def questions_on(html: str) -> list[str]:
    return re.findall(r"<summary>(.*?)</summary>", html)


@pytest.mark.parametrize(("url", "heading"), PUBLIC_PAGES)
def test_public_page_answers_with_its_heading(client, url, heading):
    response = client.get(url)
    assert response.status_code == 200
    assert f">{heading}</h1>" in response.content.decode()


@pytest.mark.parametrize(("url", "heading"), PUBLIC_PAGES)
def test_public_page_is_small(client, url, heading):
    assert len(client.get(url).content) < 15 * 1024


def test_every_page_links_to_log_in_enroll_and_the_help_pages(client):
    html = client.get("/contact/").content.decode()
    for href in ('href="/login/"', 'href="/enroll/"', 'href="/help/"', 'href="/security/"'):
        assert href in html


def test_home_page_offers_log_in_and_enroll_now(client):
    html = client.get("/").content.decode()
    assert re.search(r'<a class="button" href="/login/">Log In</a>', html)
    assert re.search(r'href="/enroll/">Enroll Now</a>', html)


def test_help_center_lists_every_question_without_a_query(client):
    html = client.get("/help/").content.decode()
    shown = questions_on(html)
    assert len(shown) == sum(len(section.faqs) for section in SECTIONS)
    assert "How do I enroll for online access?" in shown
    assert "How do I change my challenge questions?" in shown
    assert "<details id=" in html and " open>" not in html


def test_help_center_search_box_is_a_get_form_labelled_ask_a_question(client):
    html = client.get("/help/").content.decode()
    assert '<form method="get" action="/help/" role="search"' in html
    assert '<label for="faq-search">Ask a question</label>' in html
    assert 'id="faq-search" type="search" name="q"' in html
    assert '<button type="submit">Search</button>' in html


def test_search_shows_the_question_whose_answer_has_the_word_and_hides_unrelated_ones(client):
    html = client.get("/help/", {"q": "slashes"}).content.decode()
    shown = questions_on(html)
    assert "The site won&#x27;t accept my date of birth. What should I do?" in shown
    assert "How do I log in?" not in shown
    assert "Should I register my device?" not in shown
    assert '<details id="date-of-birth" open>' in html
    assert "1 answer for &ldquo;slashes&rdquo;" in html


def test_search_ignores_case(client):
    html = client.get("/help/", {"q": "PHISHING"}).content.decode()
    assert questions_on(html) == [
        "What is a passkey?",
        "How can I tell I&#x27;m on the real Example Auto Finance site?",
    ]


def test_search_needs_every_word(client):
    both = client.get("/help/", {"q": "locked minutes"}).content.decode()
    assert "My online access is locked. What do I do?" in questions_on(both)
    neither = client.get("/help/", {"q": "locked giraffe"}).content.decode()
    assert questions_on(neither) == []


def test_search_ignores_filler_words_of_a_typed_question(client):
    html = client.get("/help/", {"q": "How do I register my devices?"}).content.decode()
    assert "Should I register my device?" in questions_on(html)
    assert "What are challenge questions?" not in questions_on(html)


def test_search_with_no_match_says_so_and_offers_a_way_on(client, settings):
    settings.PORTAL_SUPPORT_PHONE = "1-800-555-0199"
    html = client.get("/help/", {"q": "mortgage refinance"}).content.decode()
    assert questions_on(html) == []
    assert "No answers match &ldquo;mortgage refinance&rdquo;." in html
    assert '<a href="/help/">browse all questions</a>' in html
    assert (
        'href="/contact/">contact us</a> at <a href="tel:1-800-555-0199">1-800-555-0199</a>' in html
    )


def test_search_query_is_shown_escaped(client):
    html = client.get("/help/", {"q": "<b>zzz</b>"}).content.decode()
    assert "<b>zzz</b>" not in html
    assert "&lt;b&gt;zzz&lt;/b&gt;" in html


def test_search_finds_words_by_their_beginning():
    found = [faq.slug for section in search_faq("lock") for faq in section.faqs]
    assert "locked" in found
    assert "enroll" not in found


def test_lender_name_comes_from_settings(client, settings):
    settings.PORTAL_LENDER_NAME = "Maple Leaf Motor Credit"
    for url, _ in PUBLIC_PAGES:
        html = client.get(url).content.decode()
        assert "Maple Leaf Motor Credit" in html, url
        assert "Example Auto Finance" not in html, url
    help_html = client.get("/help/", {"q": "real site"}).content.decode()
    assert "How can I tell I&#x27;m on the real Maple Leaf Motor Credit site?" in help_html


def test_answers_quote_the_current_policy(client, settings):
    settings.PORTAL_LOCKOUT_THRESHOLD = 7
    settings.PORTAL_LOCKOUT_SECONDS = 45 * 60
    settings.PORTAL_DEVICE_LIFETIME_DAYS = 90
    html = client.get("/help/").content.decode()
    assert "After 7 unsuccessful tries in a row" in html
    assert "for 45 minutes" in html
    assert "recognize it for 90 days" in html
    contact = client.get("/contact/").content.decode()
    assert "paused for 45 minutes after 7 unsuccessful attempts in a row" in contact
    assert "30 minutes" not in contact and 'href="tel:1-800-555-0142"' in contact


def test_step_up_answer_follows_the_step_up_policy(client, settings):
    settings.PORTAL_STEP_UP_POLICY = "code"
    html = client.get("/help/", {"q": "log in"}).content.decode()
    assert "we first ask you to enter a one-time security code." in html
    settings.PORTAL_STEP_UP_POLICY = "question+code"
    html = client.get("/help/", {"q": "log in"}).content.decode()
    assert "one of your challenge questions and to enter a one-time security code." in html


def test_help_answers_use_the_words_the_portal_shows(client):
    html = client.get("/help/").content.decode()
    for words in (
        "Enter your account information.",
        "Add your vehicle(s).",
        "Create your username and password, and set up your profile",
        "Confirm it&#x27;s you: we send a 6-digit code",
        "The last 4 digits of your Social Security number (SSN)",
        "type 04121985 or 04/12/1985",
        "open Manage My Profile and select My Online Profile.",
        "Select Challenge Questions.",
        "Select Update.",
        "Forgot username?",
        "Forgot password?",
        "This wasn&#x27;t me",
    ):
        assert words in html, words


def test_contact_page_shows_support_phone_and_hours_from_settings(client, settings):
    settings.PORTAL_SUPPORT_PHONE = "1-888-555-0100"
    settings.PORTAL_SUPPORT_HOURS = "every day 7 a.m. to 11 p.m. CT"
    html = client.get("/contact/").content.decode()
    assert '<a href="tel:1-888-555-0100">1-888-555-0100</a>' in html
    assert "every day 7 a.m. to 11 p.m. CT" in html
    assert "1-800-555-0142" not in html


def test_security_center_says_what_we_never_ask_and_how_to_report(client):
    html = client.get("/security/").content.decode()
    assert ">What we will never ask</h2>" in html
    assert ">Report a suspicious message or call</h2>" in html
    assert "Register only your own, personal devices" in html
    assert "at least 15 characters" in html


@pytest.mark.parametrize("url", [url for url, _ in PUBLIC_PAGES] + ["/help/?q=lock"])
def test_no_real_bank_name_appears(client, url):
    assert not REAL_BANK_NAMES.search(client.get(url).content.decode())


def test_no_real_bank_name_in_any_answer():
    for section in SECTIONS:
        for faq in section.faqs:
            assert not REAL_BANK_NAMES.search(faq.text), faq.slug


def test_unknown_page_gets_the_portal_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert ">Page not found</h1>" in html
    assert 'href="/help/">Help Center</a>' in html


@pytest.mark.parametrize(
    ("view", "status", "heading"),
    [
        (views.server_error, 500, "Something went wrong"),
        (views.service_unavailable, 503, "Temporarily unavailable"),
        (too_many_attempts, 429, "Too many attempts"),
        (views.csrf_failure, 403, "Please try again"),
    ],
)
def test_error_pages_render_with_support_details(view, status, heading, settings):
    settings.PORTAL_SUPPORT_PHONE = "1-877-555-0111"
    request = RequestFactory().get("/", secure=True)
    request.user = AnonymousUser()
    response = view(request)
    assert response.status_code == status
    html = response.content.decode()
    assert f">{heading}</h1>" in html
    assert "1-877-555-0111" in html
    assert "Traceback" not in html


def test_answer_links_that_resolve_are_shown_and_others_left_out(client, monkeypatch):
    from portal import help as help_module

    faq = help_module.Faq(
        "sample",
        "Where do I start?",
        (("p", "Start here."),),
        links=(("Enroll Now", "enrollment:start"), ("Nowhere", "no_such:page")),
    )
    monkeypatch.setattr(help_module, "SECTIONS", [help_module.Section("Sample", [faq])])
    html = client.get("/help/").content.decode()
    assert '<p><a href="/enroll/">Enroll Now</a></p>' in html
    assert "Nowhere" not in html
