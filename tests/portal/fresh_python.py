"""Runs a snippet in a fresh interpreter from the project root: for what only shows in a new
process (the modules it imports, the malloc settings it starts with)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, env: Mapping[str, str]) -> str:
    """The snippet's standard output; a failing snippet fails the test."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout
