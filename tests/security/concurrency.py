"""Helpers for tests that need real concurrency: a database several connections can write at
once, and a way to start several threads at the same instant.

Django's SQLite test database lives in shared-cache memory, where a second writer fails at once
with "database table is locked" instead of waiting; concurrency tests therefore run on a file
database (WAL, IMMEDIATE transactions, busy timeout: the production settings), as the platform
notes advise. On PostgreSQL the test database is used as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections


@pytest.fixture
def concurrent_db(transactional_db: Any, tmp_path: Path) -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connections.settings["default"]
    original_name = settings_dict["NAME"]
    memory_connection = connections["default"]
    settings_dict["NAME"] = str(tmp_path / "concurrency.sqlite3")
    file_connection = connections.create_connection("default")
    connections["default"] = file_connection
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        file_connection.close()
        settings_dict["NAME"] = original_name
        connections["default"] = memory_connection


def run_at_once[T](count: int, work: Callable[[], T]) -> list[T]:
    """Runs `work` in `count` threads released together; returns every result (or raises)."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
