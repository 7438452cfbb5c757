"""The brand mark in the header: the lender's name as a wordmark, or its logo (PORTAL_LOGO_URL)
with the name as alt text; a logo on another site is allowed by the CSP, and only over https."""

from __future__ import annotations

import re

import pytest

from tests.portal.test_settings import manage


def brand(html: str) -> str:
    return re.search(r'<a class="brand"[^>]*>(.*?)</a>', html, re.S).group(1)


def test_without_a_logo_the_header_shows_the_lender_name(client, settings):
    settings.PORTAL_LENDER_NAME = "Maple Leaf Motor Credit"
    settings.PORTAL_LOGO_URL = ""
    mark = brand(client.get("/").content.decode())
    assert "Maple Leaf Motor Credit" in mark
    assert "<img" not in mark


@pytest.mark.parametrize(
    ("setting", "src"),
    [
        ("brand/logo.svg", "/static/brand/logo.svg"),
        ("https://cdn.lender.example/logo.png", "https://cdn.lender.example/logo.png"),
    ],
)
def test_a_logo_replaces_the_wordmark_with_the_lender_name_as_alt_text(
    client, settings, setting, src
):
    settings.PORTAL_LENDER_NAME = "Maple Leaf Motor Credit"
    settings.PORTAL_LOGO_URL = setting
    mark = brand(client.get("/login/").content.decode())
    assert mark == f'<img class="brand-logo" src="{src}" alt="Maple Leaf Motor Credit">'


def test_a_logo_on_another_site_is_allowed_by_the_csp_and_must_be_https(tmp_path):
    show_img_src = [
        "shell",
        "-c",
        "from django.conf import settings as s; print(' '.join(s.SECURE_CSP['img-src']))",
    ]
    result = manage(show_img_src, {"PORTAL_LOGO_URL": "https://cdn.lender.example/a.svg"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "https://cdn.lender.example"

    result = manage(show_img_src, {"PORTAL_LOGO_URL": "http://cdn.lender.example/a.svg"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: PORTAL_LOGO_URL ")
