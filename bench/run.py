"""`make bench`: the portal in production mode over HTTPS, measured against the hash floor.

Starts the server as `make run` serves it (portal.serve: gunicorn, threaded workers, TLS, and the
message worker `manage.py deliver_messages` beside it) with PORTAL_ENV=production on loopback,
seeds customers through the services, then measures each flow for a fixed time after a warm-up
with the load generator in bench/loadgen.py, and how long a security code takes to reach the
outbox after the request that sends it. Prints a table and one JSON line and writes both under
var/bench/. `--smoke` runs every part briefly (for the test
suite, so the benchmark cannot rot); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import (  # noqa: E402
    Browser,
    Exhausted,
    FlowError,
    Recorder,
    run_closed_loop,
    run_open_loop,
)

PYTHON = sys.executable
CODE = re.compile(r"\b(\d{6})\b")
CODE_STEP = "security code in the outbox"  # after the send's response (the worker delivers it)
QUESTION = re.compile(r'<label for="id_answer">([^<]+)</label>|<p class="question">([^<]+)</p>')


# Waits (up to 3 minutes) until the worker has sent what seeding queued (a new-device email per
# customer), so no measured code queues behind them.
DRAIN_SCRIPT = """
import time
from security.models import OutgoingMessage
waiting = OutgoingMessage.objects.filter(status__in=["pending", "sending"])
deadline = time.monotonic() + 180
while waiting.exists() and time.monotonic() < deadline:
    time.sleep(0.2)
assert not waiting.exists(), "the message worker did not empty the queue"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Portal:
    """The server under test and its environment."""

    def __init__(
        self,
        run_dir: Path,
        *,
        workers: int,
        database_url: str,
        redis_url: str,
        server: str = "gunicorn",
        threads: int = 4,
    ):
        self.run_dir = run_dir
        self.server = server
        self.threads = threads
        self.port = free_port()
        self.base_url = f"https://localhost:{self.port}"
        self.outbox = run_dir / "outbox"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))},
            # Production mode needs Redis; without one (a fresh laptop) the bench runs the
            # embedded default with one process, and says so in its results.
            "PORTAL_ENV": "production" if redis_url else "local",
            "PORTAL_VAR_DIR": str(run_dir),
            "PORTAL_OUTBOX_DIR": str(self.outbox),
            "PORTAL_ALLOW_OUTBOX": "true",  # messages are read back from the outbox
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PORTAL_IDENTITY_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers if redis_url else 1),
            "WEB_THREADS": str(threads),
            # One client IP plays every customer here; real limits would stop the benchmark.
            "PORTAL_LOGIN_IP_RATE": "1000000/m",
            "PORTAL_VERIFY_IP_RATE": "1000000/h",
            "PORTAL_CODE_SEND_IP_RATE": "1000000/h",
            # Each virtual user cycles through a few customers, each asking for a code every few
            # seconds: far more often than any customer would.
            "PORTAL_CODE_RESEND_SECONDS": "0",
            "PORTAL_CODE_MAX_PER_HOUR": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def prepare(self, *, users: int, unenrolled: int) -> dict[str, Any]:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        seed_file = self.run_dir / "seed.json"
        subprocess.run(
            [PYTHON, "bench/seed.py", "--users", str(users), "--unenrolled", str(unenrolled),
             "--out", str(seed_file)],
            cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip
        return json.loads(seed_file.read_text())

    def server_command(self) -> list[str]:
        if self.server == "gunicorn":
            return [PYTHON, "-m", "portal.serve"]  # exactly what `make run` serves
        # For the serving-model comparison only: granian (Rust HTTP and TLS, WSGI threads) with
        # the same application, certificate, workers and threads.
        from portal.tls import ensure_localhost_certificate

        cert, key = ensure_localhost_certificate(self.run_dir / "tls")
        return [
            str(Path(PYTHON).parent / "granian"), "--interface", "wsgi", "portal.wsgi:application",
            "--host", "127.0.0.1", "--port", self.env["PORT"],
            "--workers", self.env["WEB_CONCURRENCY"], "--blocking-threads", str(self.threads),
            "--ssl-certificate", str(cert), "--ssl-keyfile", str(key),
            "--no-ws", "--log-level", "warning",
        ]  # fmt: skip

    def start(self) -> None:
        self.log = (self.run_dir / "server.log").open("w")
        env = dict(self.env)
        if self.server != "gunicorn":
            # The malloc settings portal.serve gives gunicorn's workers, so only the server differs.
            from portal.serve import malloc_environment

            env.update(malloc_environment(env), DJANGO_SETTINGS_MODULE="portal.settings")
        self.process = subprocess.Popen(
            self.server_command(), cwd=ROOT, env=env, stdout=self.log, stderr=self.log
        )
        # The message worker, as `make run` starts it beside the server.
        self.worker_log = (self.run_dir / "worker.log").open("w")
        self.worker = subprocess.Popen(
            [PYTHON, "manage.py", "deliver_messages"],
            cwd=ROOT, env=self.env, stdout=self.worker_log, stderr=self.worker_log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                Browser(self.base_url, Recorder()).get("/healthz")
                break
            except (OSError, FlowError) as exc:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = self.run_dir / "server.log"
                    raise SystemExit(f"server did not start; see {log}") from exc
                time.sleep(0.3)
        subprocess.run(
            [PYTHON, "manage.py", "shell", "-v", "0", "-c", DRAIN_SCRIPT],
            cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's workers and of the message worker so far (the
        arbiter only supervises)."""
        total = 0
        message_worker = [self.worker.pid] if self.worker else []
        for pid in self.worker_pids() + message_worker:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a worker that just exited
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> list[float]:
        peaks = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(round(int(match.group(1)) / 1024, 1))
        return peaks

    def stop(self) -> None:
        for process in (self.process, self.worker):
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in (getattr(self, "log", None), getattr(self, "worker_log", None)):
            if log:
                log.close()


# --- Flows -----------------------------------------------------------------------------------
def outbox_files(outbox: Path, recipient: str) -> set[Path]:
    return set(outbox.glob(f"*-email-to-{recipient}-*.eml"))


def newest_code(
    outbox: Path, recipient: str, after: float, known: set[Path] | None = None
) -> tuple[str, float]:
    """The newest code emailed to `recipient` since `after` (and not in `known`, the files
    there before the send: a customer's previous code can be less than a second older), and
    when its file was written."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        candidates = [
            p
            for p in outbox_files(outbox, recipient) - (known or set())
            if p.stat().st_mtime >= after
        ]
        for path in sorted(candidates, reverse=True):
            text = path.read_text(errors="replace")
            if "code" in text.lower():
                match = CODE.search(text.split("\n\n", 1)[-1])
                if match:
                    return match.group(1), path.stat().st_mtime
        time.sleep(0.02)
    raise FlowError("no security code arrived")


def own_user(users: list[dict[str, Any]], iteration: int) -> dict[str, Any]:
    """The customer for this turn of a virtual user, from a slice no other virtual user takes.

    Two flows of one customer at once would race for the same things a real customer never
    races for: each other's newest code in the outbox, and the attempt slots of one registered
    device (more parallel attempts than the lockout threshold are refused by design).
    """
    per_user = max(1, len(users) // 16)
    virtual_user, turn = divmod(iteration, 1_000_000)
    return users[(virtual_user * per_user + turn % per_user) % len(users)]


def login_registered(seed: dict[str, Any]):
    users = seed["users"]

    def flow(browser: Browser, iteration: int) -> None:
        user = own_user(users, iteration)
        browser.cookies = {"__Host-device": user["device"]}
        page = browser.get("/login/", step="GET login")
        response = browser.post(
            "/login/",
            {"csrfmiddlewaretoken": page.csrf(), "username": user["username"],
             "password": seed["password"]},
            step="POST password",
        )  # fmt: skip
        if response.status != 302 or not response.location.endswith("/my/vehicles/"):
            said = re.findall(
                r'class="(?:message|error)[^"]*"[^>]*>([^<]+)', response.body.decode()
            )
            raise FlowError(f"login did not land on My Vehicles: {response.status} {said[:2]}")
        vehicles = browser.get("/my/vehicles/", step="GET My Vehicles")
        if vehicles.status != 200 or b"My Vehicles" not in vehicles.body:
            raise FlowError("My Vehicles not shown")
        done = browser.post(
            "/logout/", {"csrfmiddlewaretoken": vehicles.csrf()}, step="POST logout"
        )
        if done.status != 302:
            raise FlowError("logout failed")

    return flow


def login_step_up(seed: dict[str, Any], outbox: Path):
    users = seed["users"]
    answers = seed["answers"]

    def flow(browser: Browser, iteration: int) -> None:
        user = own_user(users, iteration)
        browser.cookies = {}
        page = browser.get("/login/", step="GET login")
        response = browser.post(
            "/login/",
            {"csrfmiddlewaretoken": page.csrf(), "username": user["username"],
             "password": seed["password"]},
            step="POST password",
        )  # fmt: skip
        if not response.location.endswith("/login/verify/"):
            raise FlowError("no step-up on an unregistered device")
        page = browser.get("/login/verify/", step="GET step-up")
        sent_at = time.time() - 1
        known = outbox_files(outbox, user["email"])
        browser.post(
            "/login/verify/",
            {"csrfmiddlewaretoken": page.csrf(), "action": "send", "channel": "email"},
            step="POST send code",
        )
        answered_at = time.time()
        page = browser.get("/login/verify/", step="GET step-up")
        text = page.body.decode()
        question = next((q for q in answers if q in text), None)
        if question is None:
            raise FlowError("no known challenge question on the page")
        code, written_at = newest_code(outbox, user["email"], sent_at, known)
        # From the send's response to the file in the outbox: the queue's latency (the file may
        # be written before the response has reached the load generator: 0 then).
        browser.recorder.step(CODE_STEP, max(0.0, written_at - answered_at))
        response = browser.post(
            "/login/verify/",
            {"csrfmiddlewaretoken": page.csrf(), "answer": answers[question], "code": code},
            step="POST answer+code",
        )
        if not response.location.endswith("/login/device/"):
            raise FlowError("step-up not passed")
        page = browser.get("/login/device/", step="GET register device")
        response = browser.post(
            "/login/device/",
            {"csrfmiddlewaretoken": page.csrf(), "choice": "skip"},
            step="POST not now",
        )
        vehicles = browser.get("/my/vehicles/", step="GET My Vehicles")
        if vehicles.status != 200:
            raise FlowError("My Vehicles not shown")
        browser.post("/logout/", {"csrfmiddlewaretoken": vehicles.csrf()}, step="POST logout")

    return flow


def enrollment(seed: dict[str, Any], outbox: Path):
    pending = list(seed["unenrolled"])

    def flow(browser: Browser, iteration: int) -> None:
        if not pending:
            raise Exhausted("out of customers to enroll")
        customer = pending.pop()
        browser.cookies = {}
        page = browser.get("/enroll/", step="GET identity")
        response = browser.post(
            "/enroll/",
            {"csrfmiddlewaretoken": page.csrf(), "tin_last4": customer["tin"],
             "birth_date": customer["birth_date"], "reference": customer["account_number"]},
            step="POST identity",
        )  # fmt: skip
        if not response.location.endswith("/enroll/vehicles/"):
            raise FlowError(f"identity not verified ({response.status})")
        page = browser.get("/enroll/vehicles/", step="GET vehicles")
        browser.post(
            "/enroll/vehicles/", {"csrfmiddlewaretoken": page.csrf()}, step="POST vehicles"
        )
        page = browser.get("/enroll/profile/", step="GET profile")
        keys = re.findall(r'<option value="([a-z_0-9]+)"', page.body.decode())
        questions = list(dict.fromkeys(keys))[:3]
        form = {
            "csrfmiddlewaretoken": page.csrf(),
            "username": f"enrolled{customer['n']}",
            "password1": "tangerine submarine orbit lantern 58",
            "password2": "tangerine submarine orbit lantern 58",
        }
        for index, key in enumerate(questions, start=1):
            form[f"question_{index}"] = key
            form[f"answer_{index}"] = f"bench answer number {index}"
        response = browser.post("/enroll/profile/", form, step="POST profile")
        if not response.location.endswith("/enroll/consent/"):
            errors = re.findall(r'class="errorlist[^"]*"[^>]*><li>([^<]+)', response.body.decode())
            raise FlowError(f"profile refused ({response.status}): {errors[:2]}")
        page = browser.get("/enroll/consent/", step="GET consent")
        response = browser.post(
            "/enroll/consent/",
            {"csrfmiddlewaretoken": page.csrf(), "agree": "on"},
            step="POST consent",
        )
        if not response.location.endswith("/enroll/confirm/"):
            raise FlowError(f"consent not accepted ({response.status})")
        page = browser.get("/enroll/confirm/", step="GET confirm")
        sent_at = time.time() - 1
        browser.post(
            "/enroll/confirm/send/",
            {"csrfmiddlewaretoken": page.csrf(), "channel": "email"},
            step="POST send code",
        )
        code, _ = newest_code(outbox, customer["email"], sent_at)
        response = browser.post(
            "/enroll/confirm/",
            {"csrfmiddlewaretoken": page.csrf(), "code": code},
            step="POST code",
        )
        if not response.location.endswith("/enroll/device/"):
            raise FlowError(f"enrollment did not finish ({response.status})")
        page = browser.get("/enroll/device/", step="GET register device")
        response = browser.post(
            "/enroll/device/",
            {"csrfmiddlewaretoken": page.csrf(), "choice": "skip"},
            step="POST not now",
        )
        if not response.location.endswith("/my/vehicles/"):
            raise FlowError("enrollment did not land on My Vehicles")

    return flow


def signed_in_browser(base_url: str, seed: dict[str, Any]):
    def factory(index: int, recorder: Recorder) -> Browser:
        user = seed["users"][-(index + 1)]
        browser = Browser(base_url, recorder, cookies={"__Host-device": user["device"]})
        page = browser.get("/login/")
        browser.post(
            "/login/",
            {"csrfmiddlewaretoken": page.csrf(), "username": user["username"],
             "password": seed["password"]},
        )  # fmt: skip
        return browser

    return factory


def my_vehicles(browser: Browser, iteration: int) -> None:
    response = browser.get("/my/vehicles/", step="GET My Vehicles")
    if response.status != 200:
        raise FlowError(f"My Vehicles answered {response.status}")


# --- Page weight -------------------------------------------------------------------------------
def page_weights(base_url: str, seed: dict[str, Any]) -> dict[str, dict[str, int]]:
    anonymous = Browser(base_url, Recorder())
    home = anonymous.get("/")
    css_paths = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', home.body)
    css = sum(len(anonymous.get(path.decode()).body) for path in css_paths)
    pages = {path: anonymous.get(path).body for path in
             ("/", "/help/", "/security/", "/contact/", "/login/", "/enroll/",
              "/forgot-username/", "/forgot-password/")}  # fmt: skip
    signed_in = signed_in_browser(base_url, seed)(len(seed["users"]) // 2, Recorder())
    for path in ("/my/vehicles/", "/my/profile/", "/my/activity/"):
        pages[path] = signed_in.get(path).body
    return {path: {"html": len(body), "html_css": len(body) + css} for path, body in pages.items()}


# --- Orchestration -----------------------------------------------------------------------------
def hash_floor(seconds: float) -> dict[str, Any]:
    output = subprocess.run(
        [PYTHON, "bench/hash_floor.py", "--seconds", str(seconds)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def import_rate(rows: int, database_url: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    output = subprocess.run(
        [PYTHON, "bench/import_bench.py", "--rows", str(rows)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def postgres_database(name: str) -> str | None:
    """A fresh PostgreSQL database for the import benchmark, if a server answers locally."""
    if not shutil.which("psql"):
        return None
    base = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
    try:
        subprocess.run([*base, f"DROP DATABASE IF EXISTS {name}"], check=True, capture_output=True)
        subprocess.run([*base, f"CREATE DATABASE {name}"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError):
        return None
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every part, briefly")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--users", type=int, default=8, help="concurrent virtual users")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (1: sync)")
    parser.add_argument(
        "--server", choices=("gunicorn", "granian"), default="gunicorn",
        help="gunicorn as `make run` serves (default), or granian for comparison",
    )  # fmt: skip
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated parts, for debugging")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    )
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.warmup, args.import_rows = 2.0, 0.5, 300

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out_dir = ROOT / "var" / "bench"
    run_dir = out_dir / f"run-{stamp}{'-smoke' if args.smoke else ''}"
    run_dir.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{run_dir / 'portal.sqlite3'}"
    redis_url = args.redis_url if redis_reachable(args.redis_url) else ""
    if redis_url:
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True)

    results: dict[str, Any] = {
        "when": stamp,
        "smoke": args.smoke,
        "database": database_url.split(":")[0],
        "mode": "production + Redis" if redis_url else "local (no Redis reachable)",
        "server": f"{args.server}, {args.workers} workers x {args.threads} threads",
    }
    results["floor"] = hash_floor(1.0 if args.smoke else 8.0)
    portal = Portal(
        run_dir, workers=args.workers, database_url=database_url, redis_url=redis_url,
        server=args.server, threads=args.threads,
    )  # fmt: skip
    seed = portal.prepare(users=40 if args.smoke else 300, unenrolled=30 if args.smoke else 600)
    portal.start()
    try:
        base = portal.base_url
        common = {
            "base_url": base,
            "warmup": args.warmup,
            "duration": args.duration,
            "min_flows": 1 if args.smoke else 0,
            "server_cpu": portal.cpu_seconds,
        }
        wanted = set(args.only.split(",")) if args.only else None

        def want(part: str) -> bool:
            return wanted is None or part in wanted

        if want("login_registered"):
            results["login_registered"] = run_closed_loop(
                flow=login_registered(seed), users=args.users, **common
            )
        if want("login_step_up"):
            results["login_step_up"] = run_closed_loop(
                flow=login_step_up(seed, portal.outbox), users=args.users, **common
            )
            latency = results["login_step_up"]["steps"].get(CODE_STEP, {})
            results["code_in_outbox_s"] = {
                "count": latency.get("count", 0),
                **{q: round(latency[f"{q}_ms"] / 1000, 3) for q in ("p50", "p90", "p99")
                   if f"{q}_ms" in latency},
            }  # fmt: skip
        if want("enrollment"):
            results["enrollment"] = run_closed_loop(
                flow=enrollment(seed, portal.outbox), users=min(4, args.users), **common
            )
        if want("my_vehicles"):
            saturation = run_closed_loop(
                flow=my_vehicles, users=args.users,
                browser_factory=signed_in_browser(base, seed), **common,
            )  # fmt: skip
            half = max(1.0, saturation["flows_per_s"] / 2)
            results["my_vehicles_saturation"] = saturation
            results["my_vehicles_half"] = run_open_loop(
                base_url=base, flow=my_vehicles, rate=half, users=args.users,
                duration=args.duration, browser_factory=signed_in_browser(base, seed),
                server_cpu=portal.cpu_seconds,
            )  # fmt: skip
            results["my_vehicles_half"]["target_rate"] = round(half, 1)
        if wanted is not None:
            return  # a debugging run of some parts: the finally clause stops the server
        results["pages"] = page_weights(base, seed)
    finally:
        results["peak_rss_mb_per_worker"] = portal.peak_rss_mb()
        portal.stop()
        if wanted is not None:
            print(json.dumps(results, indent=1))
    results["import_sqlite"] = import_rate(args.import_rows, None)
    pg = postgres_database("bench_import")
    if pg:
        results["import_postgresql"] = import_rate(args.import_rows, pg)
    floor2 = results["floor"]["floor_2_processes_per_s"]
    results["ratio_login_to_floor"] = round(results["login_registered"]["flows_per_s"] / floor2, 3)
    table = render_table(results)
    print(table)
    line = json.dumps(results, separators=(",", ":"))
    print(line)
    (out_dir / f"bench-{stamp}{'-smoke' if args.smoke else ''}.txt").write_text(
        table + "\n" + line + "\n"
    )
    if not args.smoke:
        shutil.rmtree(run_dir, ignore_errors=True)
    errors = sum(results[k]["errors"] for k in
                 ("login_registered", "login_step_up", "my_vehicles_saturation",
                  "my_vehicles_half", "enrollment"))  # fmt: skip
    completed = all(results[k]["flows"] > 0 for k in
                    ("login_registered", "login_step_up", "my_vehicles_half", "enrollment"))  # fmt: skip
    sys.exit(0 if errors == 0 and completed else 1)


def render_table(r: dict[str, Any]) -> str:
    floor = r["floor"]
    rows = [
        (
            "hash floor, 1 process",
            f"{floor['floor_1_process_per_s']} verifications/s",
            floor["hasher"],
        ),
        ("hash floor, 2 processes", f"{floor['floor_2_processes_per_s']} verifications/s", ""),
    ]
    for key, label in (("login_registered", "login flow, registered device"),
                       ("login_step_up", "login flow, unregistered device (step-up)"),
                       ("enrollment", "enrollment wizard end to end")):  # fmt: skip
        result = r[key]
        rows.append((label, f"{result['flows_per_s']} flows/s", f"errors {result['errors']}"))
        rows.append(("  CPU per flow", f"server {result.get('server_cpu_ms_per_flow')} ms, "
                     f"load generator {result.get('loadgen_cpu_ms_per_flow')} ms", ""))  # fmt: skip
        for step, s in result["steps"].items():
            rows.append(
                (f"  {step}", f"p50 {s['p50_ms']} / p90 {s['p90_ms']} / p99 {s['p99_ms']} ms", "")
            )
    rows.append(("login / two-process floor", f"{r['ratio_login_to_floor']}", "target >= 0.80"))
    code = r.get("code_in_outbox_s", {})
    rows.append((f"{CODE_STEP}, after the send (step-up)",
                 f"p50 {code.get('p50')} / p90 {code.get('p90')} / p99 {code.get('p99')} s "
                 f"over {code.get('count', 0)} codes", "target: within 2 s"))  # fmt: skip
    sat, half = r["my_vehicles_saturation"], r["my_vehicles_half"]
    rows.append(("My Vehicles at saturation", f"{sat['flows_per_s']} req/s", ""))
    step = half["steps"].get("GET My Vehicles", {})
    rows.append(("My Vehicles at half saturation",
                 f"{half['flows_per_s']} req/s, p99 {step.get('p99_ms')} ms", "target p99 <= 20 ms"))  # fmt: skip
    for key in ("import_sqlite", "import_postgresql"):
        if key in r:
            rows.append((key.replace("_", " on "), f"{r[key].get('rows_per_second')} rows/s",
                         f"{r[key].get('seconds')} s for {r[key].get('rows')} rows"))  # fmt: skip
    rows.append(("peak RSS per worker", f"{r['peak_rss_mb_per_worker']} MB", "target <= 70 MB"))
    for path, weight in r["pages"].items():
        rows.append((f"page {path}", f"{weight['html']} B HTML, {weight['html_css']} B with CSS",
                     "target <= 15 KB"))  # fmt: skip
    width = max(len(a) for a, _, _ in rows)
    return "\n".join(f"{a:<{width}}  {b}  {c}".rstrip() for a, b, c in rows)


if __name__ == "__main__":
    main()
