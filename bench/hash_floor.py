"""The password-hashing floor: Argon2id verifications per second with the settings' parameters.

A login can never be faster than one verification; this measures how many one and two processes
manage on this machine, so the login benchmark can be read as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _verify_for(seconds: float, encoded: str, password: str, queue: multiprocessing.Queue) -> None:
    from portal.hashers import PortalArgon2PasswordHasher

    hasher = PortalArgon2PasswordHasher()
    count = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if not hasher.verify(password, encoded):
            raise SystemExit("verification failed")
        count += 1
    queue.put(count)


def measure(processes: int, seconds: float) -> float:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from portal.hashers import PortalArgon2PasswordHasher

    password = "correct horse battery staple 42"
    encoded = PortalArgon2PasswordHasher().encode(password, PortalArgon2PasswordHasher().salt())
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_verify_for, args=(seconds, encoded, password, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    from portal.hashers import PortalArgon2PasswordHasher as H

    result = {
        "hasher": f"argon2id m={H.memory_cost // 1024}MiB t={H.time_cost} p={H.parallelism}",
        "floor_1_process_per_s": round(measure(1, args.seconds), 1),
        "floor_2_processes_per_s": round(measure(2, args.seconds), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
