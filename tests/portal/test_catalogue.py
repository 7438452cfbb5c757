"""The Spanish catalogue is complete: every string marked for translation has a Spanish text
that is not fuzzy, so no customer meets an English sentence on a Spanish page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
# Not customer-facing, or not sources: the staff console's own admin template, tests, tools.
SKIPPED_DIRS = (".venv", "node_modules", "var", "tests", "bench", "build", ".git", "admin")


def entries(po: Path, *flags: str) -> str:
    return subprocess.run(
        ["msgattrib", *flags, str(po)], capture_output=True, text=True, check=True
    ).stdout


def test_makemessages_finds_nothing_untranslated_or_fuzzy(tmp_path, monkeypatch):
    """makemessages over a copy of the sources and the catalogue (it writes into the catalogue
    of the tree it runs in): a string marked since the catalogue was last updated comes out
    untranslated, and fails here with its msgid."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.mo"))
    copy = tree / "locale" / "es" / "LC_MESSAGES" / "django.po"
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command("makemessages", locale=["es"], no_obsolete=True, verbosity=0)
    untranslated = entries(copy, "--untranslated", "--no-obsolete")
    fuzzy = entries(copy, "--only-fuzzy", "--no-obsolete")
    assert "msgid" not in untranslated, untranslated[:3000]
    assert "msgid" not in fuzzy, fuzzy[:3000]


def test_the_committed_catalogue_has_no_untranslated_fuzzy_or_obsolete_entry():
    assert CATALOGUE.stat().st_size > 10_000
    for flags in (["--untranslated"], ["--only-fuzzy"], ["--only-obsolete"]):
        assert "msgid" not in entries(CATALOGUE, *flags), flags


@pytest.mark.parametrize("flag", ["--check-format", "--check-header"])
def test_the_catalogue_compiles_cleanly(tmp_path, flag):
    result = subprocess.run(
        ["msgfmt", flag, "-o", str(tmp_path / "django.mo"), str(CATALOGUE)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
