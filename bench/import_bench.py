"""How fast does `import_accounts` load a large servicing export?

    .venv/bin/python bench/import_bench.py --rows 100000 [--reimport]

Generates N valid rows (deterministic: the same N gives the same file) into a temporary CSV and
imports them into the database named by DATABASE_URL, after `migrate`. Without DATABASE_URL it
uses a throw-away SQLite file under var/bench/, deleted afterwards. Prints one line for people and
one JSON line for scripts. --reimport also times importing the same file a second time (nothing
changes, so nothing is written).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_NAMES = ("Dana", "Marcus", "Priya", "Tomás", "Grace", "Hiroshi", "Amara", "Liam", "Sofia")
LAST_NAMES = ("Rivera", "Okafor", "Natarajan", "Álvarez", "Whitfield", "Tanaka", "Nwosu", "Chen")
VEHICLES = (("Honda", "Accord"), ("Toyota", "RAV4"), ("Ford", "F-150"), ("Hyundai", "Tucson"))


def write_rows(path: Path, rows: int) -> int:
    """Writes `rows` loan accounts; every fifth customer has two. Returns the customer count."""
    from accounts.fields import vin_check_digit
    from accounts.importing import HEADER

    customer = 0
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        while written < rows:
            customer += 1
            first = FIRST_NAMES[customer % len(FIRST_NAMES)]
            last = LAST_NAMES[customer % len(LAST_NAMES)]
            birth = date(1950, 1, 1) + timedelta(days=customer % 18_000)
            loans = 2 if customer % 5 == 0 else 1
            for _ in range(min(loans, rows - written)):
                written += 1
                # WMI, 5 characters from the serial's high part, check digit, year (N = 2022),
                # plant, 6-digit serial.
                vin = f"1HG{written // 1_000_000:05d}0NA{written % 1_000_000:06d}"
                vin = vin[:8] + vin_check_digit(vin) + vin[9:]
                make, model = VEHICLES[written % len(VEHICLES)]
                writer.writerow(
                    (
                        f"B{customer:09d}",
                        first,
                        last,
                        f"{customer % 10_000:04d}",
                        birth.isoformat(),
                        f"customer{customer}@example.com",
                        f"+1201555{customer % 10_000:04d}",
                        f"9{written:011d}",
                        vin,
                        2015 + written % 10,
                        make,
                        model,
                        f"{(written * 7_919) % 4_000_000 / 100:.2f}",
                        f"{200 + written % 600}.{written % 100:02d}",
                        (date(2026, 12, 1) + timedelta(days=written % 60)).isoformat(),
                    )
                )
    return customer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate (100,000)")
    parser.add_argument("--reimport", action="store_true", help="also time a second import")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    throwaway: Path | None = None
    if not os.environ.get("DATABASE_URL"):
        var_dir = Path(os.environ.get("PORTAL_VAR_DIR") or ROOT / "var")
        throwaway = var_dir / "bench" / f"import-{os.getpid()}.sqlite3"
        throwaway.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{throwaway}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.importing import accounts_import

    try:
        call_command("migrate", verbosity=0)
        with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
            csv_path = Path(tmp) / "servicing.csv"
            started = time.perf_counter()
            customers = write_rows(csv_path, args.rows)
            generated = time.perf_counter() - started

            started, cpu_started = time.perf_counter(), time.process_time()
            result = accounts_import(path=csv_path)
            seconds = time.perf_counter() - started
            # CPU time of this process: on a busy shared machine the wall clock says less.
            cpu_seconds = time.process_time() - cpu_started
            report = {
                "database": connection.vendor,
                "rows": result.rows,
                "customers": customers,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "rows_per_second": round(result.rows / seconds),
                "generate_seconds": round(generated, 2),
                "accounts_created": result.accounts_created,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
            if args.reimport:
                started = time.perf_counter()
                again = accounts_import(path=csv_path)
                report["reimport_seconds"] = round(time.perf_counter() - started, 2)
                report["reimport_accounts_unchanged"] = again.accounts_unchanged
    finally:
        connection.close()
        if throwaway is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{throwaway}{suffix}").unlink(missing_ok=True)

    print(
        f"import_accounts on {report['database']}: {report['rows']:,} rows in "
        f"{report['seconds']:.2f} s = {report['rows_per_second']:,} rows/s "
        f"(CPU {report['cpu_seconds']:.2f} s, peak memory {report['peak_rss_mb']} MB)"
        + (f"; re-import {report['reimport_seconds']:.2f} s" if args.reimport else "")
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
