"""A short run of `make bench`, so the benchmark cannot rot: every flow completes without error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_smoke_run_completes_every_flow_without_errors():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    # Production mode with the local Redis if one answers (its own database number: the bench
    # flushes it), else the embedded default; the bench reports which.
    env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    outcome = {
        flow: (part["flows"], part["errors"], part["error_samples"])
        for flow, part in summary.items()
        if isinstance(part, dict) and "flows" in part
    }
    assert result.returncode == 0, (outcome, result.stderr[-2000:])
    for flow in ("login_registered", "login_step_up", "my_vehicles_half", "enrollment"):
        assert summary[flow]["flows"] > 0 and summary[flow]["errors"] == 0, flow
    assert summary["floor"]["floor_2_processes_per_s"] > 0
    # The message worker ran beside the server and delivered the step-up codes from its queue.
    assert summary["code_in_outbox_s"]["count"] > 0
    assert summary["code_in_outbox_s"]["p50"] < 2.0, summary["code_in_outbox_s"]
    assert summary["import_sqlite"]["rows"] == 300
    assert all(weight["html"] > 500 for weight in summary["pages"].values())
