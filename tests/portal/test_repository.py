"""The repository stands on its own: what a user, operator or contributor needs is inside it."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Spelled in two parts so this file does not match itself.
OUTSIDE_REFERENCES = ("../" + "shared", "platform" + " notes", "platform" + "-notes")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    files = []
    for name in names:
        path = ROOT / name
        if path.is_file() and path.suffix not in {".png", ".ico", ".woff2", ".mo"}:
            files.append(path)
    return files


def test_no_file_refers_to_notes_outside_the_repository():
    files = tracked_text_files()
    assert len(files) > 100  # the listing really found the project
    offenders = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in files
        for needle in OUTSIDE_REFERENCES
        if needle in path.read_text(encoding="utf-8", errors="replace").lower()
    ]
    assert offenders == []


def test_the_files_a_contributor_looks_for_are_there():
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md"):
        assert (ROOT / name).stat().st_size > 500, name
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Reporting a vulnerability" in (ROOT / "SECURITY.md").read_text()


def test_setuptools_is_new_enough_for_the_license_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    # PEP 639 license expressions need setuptools 77 or newer.
    assert "setuptools>=77" in project["build-system"]["requires"]


def test_the_pre_commit_hooks_run_the_linters_of_make_lint():
    hooks = (ROOT / ".pre-commit-config.yaml").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for tool in ("ruff check", "ruff format", "lint-imports", "mypy", "bandit"):
        assert tool in hooks and tool in makefile, tool
