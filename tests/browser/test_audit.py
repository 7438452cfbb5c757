"""`make audit`: every public and every signed-in page through Lighthouse (accessibility and best
practices), axe (with the Manage My Profile menu closed and open) and full-page screenshots at
375 and 1280 px. Problems are collected over all pages and reported in one assertion, so one run
lists everything there is to fix; scores and findings are written to var/audit/, screenshots to
var/screenshots/.

Lighthouse comes from package.json (`npm ci`) and drives Debian's Chromium only (CHROME_PATH)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_profile import ANSWERS, log_in
from tests.conftest import CHROMIUM

pytestmark = pytest.mark.audit

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
REPORT_DIR = ROOT / "var" / "audit"
SCREENSHOT_DIR = ROOT / "var" / "screenshots"
WIDTHS = (375, 1280)
MIN_ACCESSIBILITY = 100
MIN_BEST_PRACTICES = 95
LIGHTHOUSE_RUNS_AT_ONCE = 2  # about 12 s a page; the machines have two cores

# (file name, URL name): what a visitor reaches without data, and every signed-in page.
PUBLIC_PAGES = [
    ("home", "home"),
    ("log-in", "signin:login"),
    ("enroll", "enrollment:start"),
    ("forgot-username", "recovery:forgot_username"),
    ("forgot-password", "recovery:forgot_password"),
    ("help-center", "help_center"),
    ("security-center", "security_center"),
    ("contact-us", "contact"),
]
SIGNED_IN_PAGES = [
    ("my-vehicles", "profile:vehicles"),
    ("add-vehicle", "profile:add_vehicle"),
    ("my-online-profile", "profile:profile"),
    ("challenge-questions", "profile:challenge_questions"),
    ("password", "profile:password"),
    ("contact-information", "profile:contact"),
    ("registered-devices", "profile:devices"),
    ("two-step", "profile:two_step"),
    ("authenticator-set-up", "profile:two_step_app"),
    ("electronic-communications", "profile:esign"),
    ("log-in-activity", "profile:activity"),
]
MENU = "details.menu"


# --- Lighthouse -----------------------------------------------------------------------------------
def lighthouse(url: str, report: Path, headers: Path | None) -> dict[str, Any]:
    """One Lighthouse run; returns its JSON report (also kept at `report`)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--chrome-flags=--headless=new --no-sandbox --ignore-certificate-errors",
        "--only-categories=accessibility,best-practices",
        "--output=json",
        "--disable-full-page-screenshot",  # not needed for these two categories; saves seconds
        f"--output-path={report}",
        "--quiet",
    ]
    if headers is not None:
        command.append(f"--extra-headers={headers}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    if run.returncode != 0 or not report.exists():
        return {"runtimeError": {"message": (run.stderr or run.stdout)[-2000:]}}
    return json.loads(report.read_text())


def failing_audits(result: dict[str, Any]) -> list[str]:
    """The audits of both categories that did not pass, each with a few of its elements."""
    lines = []
    for category in result["categories"].values():
        for ref in category["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if audit["score"] is None or audit["score"] >= 1:
                continue
            items = audit.get("details", {}).get("items", [])
            where = []
            for item in items[:5]:
                node = item.get("node") or {}
                where.append(
                    node.get("selector")
                    or item.get("description")
                    or item.get("source", {}).get("url")
                    or item.get("url")
                    or json.dumps(item)[:120]
                )
            more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
            lines.append(f"{ref['id']}: {audit['title']} [{'; '.join(map(str, where))}{more}]")
    return lines


def scores(result: dict[str, Any]) -> dict[str, int | None]:
    return {
        key: None if category["score"] is None else round(category["score"] * 100)
        for key, category in result.get("categories", {}).items()
    }


# --- axe ------------------------------------------------------------------------------------------
def axe_findings(axe: Any, page: Any, context: str | None = None) -> list[str]:
    """Every violation, and every color-contrast result axe could not decide (needs review),
    in `context` (a selector; the whole page without one)."""
    response = axe.run(page, context=context).response
    findings = [
        f"{v['id']} ({v['impact']}): {v['help']} [{'; '.join(' '.join(n['target']) for n in v['nodes'])}]"
        for v in response["violations"]
    ]
    for item in response["incomplete"]:
        if item["id"] == "color-contrast":
            for node in item["nodes"]:
                reason = node["any"][0]["message"] if node["any"] else ""
                findings.append(
                    f"color-contrast needs review: {' '.join(node['target'])}: {reason}"
                )
    return findings


# --- The audit ------------------------------------------------------------------------------------
@pytest.fixture
def signed_in(page, make_user, settings):
    """A customer logged in through the real step-up, with an authenticator app set-up started
    (its page only exists while one is pending). The audit stays on re-authenticated pages far
    longer than the few minutes a customer gets, so here the password counts for an hour."""
    settings.PORTAL_REAUTH_SECONDS = 60 * 60
    log_in(page, make_user(), ANSWERS)
    page.goto(reverse("profile:two_step"))
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code", exact=False)).to_be_visible()
    return page


@pytest.mark.timeout(600)
def test_every_page_passes_lighthouse_and_axe_and_is_photographed(
    signed_in, browser, live_server, tmp_path
):
    assert LIGHTHOUSE.exists(), "Lighthouse is not installed: run `make audit` (npm ci)"
    started = time.monotonic()
    pages = [(name, reverse(url), False) for name, url in PUBLIC_PAGES] + [
        (name, reverse(url), True) for name, url in SIGNED_IN_PAGES
    ]
    cookies = signed_in.context.cookies()
    headers = tmp_path / "signed-in-headers.json"
    headers.write_text(
        json.dumps({"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)})
    )
    lighthouse_dir = REPORT_DIR / "lighthouse"
    lighthouse_dir.mkdir(parents=True, exist_ok=True)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {name: [] for name, _, _ in pages}

    # Lighthouse runs in the background (its own Chromium per run) while this thread drives
    # Playwright through axe and the screenshots.
    with ThreadPoolExecutor(max_workers=LIGHTHOUSE_RUNS_AT_ONCE) as pool:
        runs: dict[str, Future[dict[str, Any]]] = {
            name: pool.submit(
                lighthouse,
                live_server.url + path,
                lighthouse_dir / f"{name}.json",
                headers if private else None,
            )
            for name, path, private in pages
        }

        from axe_playwright_python.sync_playwright import Axe

        axe = Axe()
        anonymous = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
        # Injecting axe needs a context that bypasses CSP; the screenshots keep the real CSP.
        axe_anonymous = browser.new_context(
            ignore_https_errors=True, base_url=live_server.url, bypass_csp=True
        )
        axe_signed_in = browser.new_context(
            ignore_https_errors=True, base_url=live_server.url, bypass_csp=True
        )
        axe_signed_in.add_cookies(cookies)
        axe_results: dict[str, dict[str, list[str]]] = {}
        for name, path, private in pages:
            shown = signed_in if private else anonymous.new_page()
            checked = (axe_signed_in if private else axe_anonymous).new_page()
            response = checked.goto(path)
            if response is None or response.status != 200 or checked.url != live_server.url + path:
                problems[name].append(
                    f"did not open: {path} answered {response and response.status}, "
                    f"ended at {checked.url}"
                )
            axe_results[name] = {"menu closed": axe_findings(axe, checked)}
            menu = checked.locator(MENU)
            if private:
                menu.locator("summary").click()
                if menu.evaluate("menu => menu.open"):
                    # The open menu itself, with the header it sits in. The page under it was
                    # checked with the menu closed; with it open axe cannot see the colours of
                    # what the menu covers, and reports those as "needs review".
                    axe_results[name]["menu open"] = axe_findings(axe, checked, ".site-header")
                else:
                    problems[name].append("the Manage My Profile menu did not open")
            for state, findings in axe_results[name].items():
                problems[name] += [f"axe, {state}: {finding}" for finding in findings]
            checked.close()

            shown.goto(path)
            for width in WIDTHS:
                shown.set_viewport_size({"width": width, "height": 800})
                shown.screenshot(path=SCREENSHOT_DIR / f"{name}-{width}.png", full_page=True)
            if private and name == "my-vehicles":
                shown.locator(MENU).locator("summary").click()
                for width in WIDTHS:
                    shown.set_viewport_size({"width": width, "height": 800})
                    shown.screenshot(
                        path=SCREENSHOT_DIR / f"{name}-menu-open-{width}.png", full_page=True
                    )
                shown.locator(MENU).locator("summary").click()
            if not private:
                shown.close()
        for context in (anonymous, axe_anonymous, axe_signed_in):
            context.close()
        browser_seconds = time.monotonic() - started

        lighthouse_results = {name: run.result() for name, run in runs.items()}

    summary = {}
    for name, path, _ in pages:
        result = lighthouse_results[name]
        if result.get("runtimeError"):
            problems[name].append(f"Lighthouse could not run: {result['runtimeError']['message']}")
            summary[name] = {"path": path, "scores": {}, "failing": [], "axe": axe_results[name]}
            continue
        got = scores(result)
        failing = failing_audits(result)
        if result.get("finalDisplayedUrl") != live_server.url + path:
            problems[name].append(f"Lighthouse ended at {result.get('finalDisplayedUrl')}")
        accessibility, best = got.get("accessibility"), got.get("best-practices")
        if (
            accessibility is None
            or accessibility < MIN_ACCESSIBILITY
            or (best is None or best < MIN_BEST_PRACTICES)
        ):
            problems[name].append(
                f"Lighthouse accessibility {accessibility} (needs {MIN_ACCESSIBILITY}), "
                f"best practices {best} (needs {MIN_BEST_PRACTICES})"
            )
            problems[name] += [f"Lighthouse: {line}" for line in failing]
        summary[name] = {"path": path, "scores": got, "failing": failing, "axe": axe_results[name]}
    write_reports(summary, problems, time.monotonic() - started, browser_seconds)

    failures = {name: items for name, items in problems.items() if items}
    assert not failures, "\n".join(
        f"{name} ({len(items)}):\n  " + "\n  ".join(items) for name, items in failures.items()
    )


def write_reports(
    summary: dict[str, Any], problems: dict[str, list[str]], seconds: float, browser_seconds: float
) -> None:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.json").write_text(json.dumps(summary, indent=2))
    lines = [
        "# make audit",
        "",
        f"{len(summary)} pages in {seconds:.0f} s (axe and screenshots: {browser_seconds:.0f} s, "
        "beside Lighthouse). Lighthouse reports: var/audit/lighthouse/; screenshots: "
        "var/screenshots/.",
        "",
        "| Page | Path | Accessibility | Best practices | Problems |",
        "|---|---|---|---|---|",
    ]
    for name, entry in summary.items():
        got = entry["scores"]
        lines.append(
            f"| {name} | {entry['path']} | {got.get('accessibility')} | "
            f"{got.get('best-practices')} | {len(problems[name])} |"
        )
    for name, items in problems.items():
        if items or summary[name]["failing"]:
            lines += ["", f"## {name}", ""]
            lines += [f"- {item}" for item in items]
            lines += [
                f"- (not failing the run) Lighthouse: {line}"
                for line in summary[name]["failing"]
                if f"Lighthouse: {line}" not in items
            ]
    (REPORT_DIR / "report.md").write_text("\n".join(lines) + "\n")
