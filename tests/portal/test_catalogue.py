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
IGNORED = [
    ".venv/*",
    "node_modules/*",
    "var/*",
    "tests/*",
    "bench/*",
    "build/*",
    "templates/admin/*",
]


def entries(po: Path, *flags: str) -> str:
    return subprocess.run(
        ["msgattrib", *flags, str(po)], capture_output=True, text=True, check=True
    ).stdout


def test_makemessages_finds_nothing_untranslated_or_fuzzy(tmp_path, monkeypatch):
    """makemessages over the sources, into a copy of the catalogue: a string marked since the
    catalogue was last updated comes out untranslated, and fails here with its msgid."""
    copy = tmp_path / "es" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(CATALOGUE, copy)
    monkeypatch.chdir(ROOT)
    with override_settings(LOCALE_PATHS=[tmp_path]):
        call_command(
            "makemessages", locale=["es"], ignore_patterns=IGNORED, no_obsolete=True,
            verbosity=0,
        )  # fmt: skip
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
