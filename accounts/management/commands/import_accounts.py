"""`manage.py import_accounts FILE.csv`: load the loan-servicing export (all rows or none)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import DatabaseError

from accounts.importing import (
    HEADER,
    ImportFileError,
    ImportRejected,
    RowProblem,
    accounts_import,
)


def _plain(text: str) -> str:
    return text


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; redrawn only when the percentage moves."""

    WIDTH = 30

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.shown: tuple[str, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        percent = min(100, done * 100 // total) if total else 100
        if self.shown == (phase, percent):
            return
        self.shown = (phase, percent)
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        label = "Checking" if phase == "checking" else "Importing"
        self.out.write(f"\r{label:<10}[{bar}] {percent:3d}%", style_func=_plain, ending="")
        self.out.flush()

    def clear(self) -> None:
        if self.shown is not None:
            self.out.write("\r" + " " * (self.WIDTH + 20) + "\r", style_func=_plain, ending="")
            self.out.flush()
            self.shown = None


class Command(BaseCommand):
    help = (
        "Imports the loan-servicing export: a UTF-8 CSV file whose header is exactly "
        f"{','.join(HEADER)}. Every row is checked first; if any row is bad nothing is imported. "
        "Customers, vehicles and loan accounts are created or updated (keyed on customer_number, "
        "vin and account_number), so importing the same file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the servicing export (CSV)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        bar = ProgressBar(self.stderr) if self.stderr.isatty() else None

        def report(problem: RowProblem) -> None:
            if bar is not None:
                bar.clear()
            self.stderr.write(str(problem))

        try:
            result = accounts_import(path=path, on_problem=report, on_progress=bar)
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported.") from None
        except ImportRejected as exc:
            raise CommandError(f"{path}: {exc}.") from None
        except DatabaseError as exc:
            raise CommandError(f"{path}: the database refused the import ({exc}).") from None
        finally:
            if bar is not None:
                bar.clear()
        self.stdout.write(result.summary())
