"""`make scale-test`: the production topology on this machine, and what it must withstand.

Built from the files an operator installs (README, Deployment): nginx runs deploy/nginx.conf as
`python -m portal.deploy nginx` renders it; two portal instances, the message worker and the
daily purge run the commands of deploy/systemd/'s units (gunicorn with deploy/gunicorn.conf.py)
with the units' Environment= lines and an environment file made from .env.example, read as
systemd reads it. PostgreSQL and a Redis of the test's own hold all shared state. Against the
running topology it shows: the parallel lockout spread over both instances locks after exactly
the threshold; rate limits and sessions are shared; the login benchmark's flows per second
through nginx, with a pg_dump taken meanwhile that restores into a fresh database a customer can
sign in from; stopping one instance loses no request and no data; Redis stopped makes sign-in
fail closed with a clear page and recovers by itself; PostgreSQL restarted mid-load fails
requests cleanly and loses nothing; the purge runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Browser, Recorder, run_closed_loop  # noqa: E402
from bench.run import free_port, login_registered, my_vehicles, signed_in_browser  # noqa: E402
from portal import deploy  # noqa: E402

PYTHON = sys.executable
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qAtc"]
DATABASE = "portal_scale_test"
RESTORED_DATABASE = "portal_scale_restore"
PG_CLIENT = ["-h", "127.0.0.1", "-U", "postgres"]


class Topology:
    def __init__(self, run_dir: Path, instances: int) -> None:
        self.run_dir = run_dir
        self.ports = [free_port() for _ in range(instances)]
        self.https_port, self.http_port, self.redis_port = free_port(), free_port(), free_port()
        self.base_url = f"https://localhost:{self.https_port}"
        self.outbox = run_dir / "outbox"
        # The units as installed, pointing at this checkout and its virtualenv.
        self.units = run_dir / "units"
        deploy.render_units(self.units, prefix=str(ROOT), venv=sys.prefix)
        # /etc/portal/portal.env as the README has it made: .env.example with its blanks filled.
        variables = deploy.read_env_file(ROOT / ".env.example")
        variables.update({
            "PORTAL_VAR_DIR": str(run_dir),
            "PORTAL_OUTBOX_DIR": str(self.outbox),
            "PORTAL_ALLOW_OUTBOX": "true",  # messages are read back from the outbox
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PORTAL_IDENTITY_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EMAIL_HOST": "",
            "WEB_CONCURRENCY": "1",
            # The benchmark plays every customer from one IP; the identity-check limit is low
            # (10/h) to show limits are shared.
            "PORTAL_LOGIN_IP_RATE": "1000000/m",
            "PORTAL_VERIFY_IP_RATE": "10/h",
            "PYTHONUNBUFFERED": "1",
        })  # fmt: skip
        self.env_file = run_dir / "portal.env"
        deploy.write_env_file(self.env_file, variables)
        # What systemd gives a service: a plain PATH and the environment file.
        self.base_env = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG"}}
        self.env = {**self.base_env, **deploy.read_env_file(self.env_file)}
        self.instances: dict[int, subprocess.Popen] = {}
        self.redis: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True
        ).stdout.strip() == "PONG")  # fmt: skip

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=10)

    def prepare(self, users: int) -> dict[str, Any]:
        subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {DATABASE}"], check=True)
        subprocess.run([*PG_ADMIN, f"CREATE DATABASE {DATABASE}"], check=True)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=self.env,
            check=True,
        )  # fmt: skip
        seed_file = self.run_dir / "seed.json"
        subprocess.run(
            [PYTHON, "bench/seed.py", "--users", str(users), "--unenrolled", "0", "--out",
             str(seed_file)], cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip
        return json.loads(seed_file.read_text())

    def unit(
        self, name: str, instance: str = "", env_file: Path | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """A unit's command and environment: its Environment= lines, then the env file's."""
        command, unit_env = deploy.unit_service(self.units / name, instance)
        return command, {**self.base_env, **unit_env,
                         **deploy.read_env_file(env_file or self.env_file)}  # fmt: skip

    def start_instance(self, port: int, env_file: Path | None = None) -> None:
        """portal-web@PORT.service: gunicorn with deploy/gunicorn.conf.py."""
        log = (self.run_dir / f"instance-{port}.log").open("a")
        command, env = self.unit("portal-web@.service", str(port), env_file)
        self.instances[port] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        wait_for(lambda: self.instance_healthy(port), timeout=60)

    def instance_healthy(self, port: int) -> bool:
        import http.client

        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            return conn.getresponse().status == 200
        except OSError:
            return False

    def start_worker(self) -> None:
        """portal-worker.service: the message worker beside the instances."""
        log = (self.run_dir / "worker.log").open("a")
        command, env = self.unit("portal-worker.service")
        self.worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)

    def purge(self) -> subprocess.CompletedProcess:
        """portal-purge.service, as its daily timer starts it."""
        command, env = self.unit("portal-purge.service")
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)  # finishes a delivery in progress, then exits
            self.worker.wait(timeout=60)

    def stop_instance(self, port: int) -> None:
        process = self.instances.pop(port)
        process.send_signal(signal.SIGTERM)  # gunicorn: finish in-flight requests, then exit
        process.wait(timeout=60)

    def start_nginx(self) -> None:
        from portal.tls import ensure_localhost_certificate

        cert, key = ensure_localhost_certificate(self.run_dir / "tls")
        path = self.run_dir / "nginx.conf"
        subprocess.run(
            [PYTHON, "-m", "portal.deploy", "nginx", "--host", "localhost",
             *(f"--upstream=127.0.0.1:{port}" for port in self.ports),
             "--cert", str(cert), "--key", str(key), "--run-dir", str(self.run_dir),
             "--listen-http", f"127.0.0.1:{self.http_port}",
             "--listen-https", f"127.0.0.1:{self.https_port}", "--out", str(path)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        subprocess.run(["nginx", "-t", "-q", "-c", str(path)], check=True)
        subprocess.run(["nginx", "-c", str(path)], check=True)

    def stop_nginx(self) -> None:
        pid_file = self.run_dir / "nginx.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGQUIT)

    def django(self, code: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=self.env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout.strip().splitlines()[-1]

    def shutdown(self) -> None:
        for port in list(self.instances):
            self.stop_instance(port)
        self.stop_worker()
        self.stop_nginx()
        self.stop_redis()


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for a service to start")
        time.sleep(0.2)


def check(results: dict[str, Any], name: str, ok: bool, detail: str) -> None:
    results["checks"][name] = {"ok": ok, "detail": detail}
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


# --- the checks -------------------------------------------------------------------------------
def parallel_lockout(top: Topology, seed: dict[str, Any], results: dict[str, Any]) -> None:
    victim = seed["users"][0]["username"]

    def attempt(index: int) -> int:
        browser = Browser(top.base_url, Recorder())
        page = browser.get("/login/")
        response = browser.post(
            "/login/",
            {"csrfmiddlewaretoken": page.csrf(), "username": victim, "password": f"wrong {index}"},
        )
        browser.close()
        return response.status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    counts = top.django(
        "from security.models import SecurityEvent as E;"
        f"print(E.objects.filter(user__username='{victim}', kind='login_failed').count(),"
        f" E.objects.filter(user__username='{victim}', kind='locked').count())"
    ).split()
    failed, locked = int(counts[0]), int(counts[1])
    check(
        results, "parallel lockout across instances",
        failed == 5 and locked == 1 and all(s == 200 for s in statuses),
        f"20 parallel wrong passwords through nginx: {failed} checked as failures, "
        f"{locked} lock, statuses {sorted(set(statuses))}",
    )  # fmt: skip


class DirectClient:
    """Requests straight to one instance, with the headers nginx would add, and a cookie jar."""

    def __init__(self, top: Topology, cookies: dict[str, str]) -> None:
        self.top, self.cookies = top, dict(cookies)

    def call(self, port: int, method: str, path: str, body: str = "") -> tuple[int, bytes]:
        import http.client
        from http.cookies import SimpleCookie

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Host": f"localhost:{self.top.https_port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "192.0.2.10",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.top.base_url
            headers["Referer"] = self.top.base_url + path
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response.status, response.read()

    def login(self, port: int, username: str, password: str) -> tuple[int, bytes]:
        from urllib.parse import urlencode

        from bench.loadgen import CSRF

        _, page = self.call(port, "GET", "/login/")
        token = CSRF.search(page).group(1).decode()  # type: ignore[union-attr]
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
        return self.call(port, "POST", "/login/", urlencode(form))


def shared_sessions(top: Topology, seed: dict[str, Any], results: dict[str, Any]) -> None:
    user = seed["users"][1]
    a, b = top.ports[0], top.ports[1]
    client = DirectClient(top, {"__Host-device": user["device"]})
    status, login_body = client.login(a, user["username"], seed["password"])
    other_status, body = client.call(b, "GET", "/my/vehicles/")
    check(
        results, "sessions shared between instances",
        status == 302 and other_status == 200 and b"My Vehicles" in body,
        f"logged in through instance A ({status}), My Vehicles through instance B ({other_status})"
        + ("" if status == 302 else f": {login_body[:300]!r}"),
    )  # fmt: skip


def backup_during_load(top: Topology, delay: float) -> dict[str, Any]:
    """Starts pg_dump (custom format) `delay` seconds from now, in the background; the returned
    dict gets the outcome once the thread it holds is joined."""
    outcome: dict[str, Any] = {"file": top.run_dir / "backup.dump"}

    def dump() -> None:
        time.sleep(delay)
        started = time.monotonic()
        result = subprocess.run(
            ["pg_dump", *PG_CLIENT, "--format=custom", f"--file={outcome['file']}", DATABASE],
            capture_output=True, text=True,
        )  # fmt: skip
        outcome.update(seconds=round(time.monotonic() - started, 1), returncode=result.returncode,
                       stderr=result.stderr.strip()[:300])  # fmt: skip

    outcome["thread"] = threading.Thread(target=dump)
    outcome["thread"].start()
    return outcome


def restore_drill(
    top: Topology, seed: dict[str, Any], backup: dict[str, Any], results: dict[str, Any]
) -> None:
    """The dump taken under load restores into a fresh database, and an instance started on it
    (an environment file differing only in DATABASE_URL) signs a customer in."""
    backup["thread"].join()
    if backup["returncode"] != 0:
        check(results, "backup under load restores", False, f"pg_dump failed: {backup['stderr']}")
        return
    subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {RESTORED_DATABASE}"], check=True)
    subprocess.run([*PG_ADMIN, f"CREATE DATABASE {RESTORED_DATABASE}"], check=True)
    started = time.monotonic()
    restored = subprocess.run(
        ["pg_restore", *PG_CLIENT, "--no-owner", "--exit-on-error", f"--dbname={RESTORED_DATABASE}",
         str(backup["file"])], capture_output=True, text=True,
    )  # fmt: skip
    restore_seconds = round(time.monotonic() - started, 1)
    count = "SELECT count(*) FROM accounts_user"
    live, copy = (
        subprocess.run(["psql", *PG_CLIENT, "-d", name, "-qAtc", count], capture_output=True,
                       text=True).stdout.strip()
        for name in (DATABASE, RESTORED_DATABASE)
    )  # fmt: skip
    variables = deploy.read_env_file(top.env_file)
    variables["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{RESTORED_DATABASE}"
    variables["REDIS_URL"] = f"redis://127.0.0.1:{top.redis_port}/1"  # its own sessions
    env_file = top.run_dir / "portal-restored.env"
    deploy.write_env_file(env_file, variables)
    port = free_port()
    status = vehicles = 0
    body = b""
    try:
        top.start_instance(port, env_file)
        user = seed["users"][3]
        client = DirectClient(top, {"__Host-device": user["device"]})
        status, _ = client.login(port, user["username"], seed["password"])
        vehicles, body = client.call(port, "GET", "/my/vehicles/")
    finally:
        if port in top.instances:
            top.stop_instance(port)
        subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {RESTORED_DATABASE}"], check=False)
    size_kib = backup["file"].stat().st_size // 1024
    results["backup"] = {"dump_seconds": backup["seconds"], "dump_kib": size_kib,
                         "restore_seconds": restore_seconds}  # fmt: skip
    check(
        results, "backup under load restores",
        restored.returncode == 0 and live == copy != "" and status == 302 and vehicles == 200
        and b"My Vehicles" in body,
        f"pg_dump -Fc during the login benchmark: {size_kib} KiB in {backup['seconds']} s; "
        f"pg_restore into a fresh database: {restore_seconds} s"
        + ("" if restored.returncode == 0 else f" ({restored.stderr.strip()[:200]})")
        + f", {copy} of {live} users; an instance on it signed a customer in ({status}) and "
        f"showed My Vehicles ({vehicles})",
    )  # fmt: skip


def shared_rate_limits(top: Topology, results: dict[str, Any]) -> None:
    # PORTAL_VERIFY_IP_RATE is 10/h for this topology: through nginx's round robin, each instance
    # alone would allow ten, so a refusal at the eleventh shows the count is shared.
    statuses = []
    browser = Browser(top.base_url, Recorder())
    for index in range(11):
        page = browser.get("/enroll/")
        if page.status == 429:
            statuses.append(429)
            continue
        response = browser.post(
            "/enroll/",
            {"csrfmiddlewaretoken": page.csrf(), "tin_last4": "0000", "birth_date": "01/01/1970",
             "reference": f"80000000{index:02d}"},
        )  # fmt: skip
        statuses.append(response.status)
    check(
        results, "rate limits shared between instances",
        statuses[:10].count(429) == 0 and statuses[10] == 429,
        f"identity checks 1-10 answered {sorted(set(statuses[:10]))}, the 11th {statuses[10]}",
    )  # fmt: skip


def instance_stop_under_load(top: Topology, seed: dict[str, Any], results: dict[str, Any]) -> None:
    """SIGTERM one instance (gunicorn finishes what it has in flight) while customers browse and
    log in through nginx. Page views are idempotent, so nginx retries them on the other instance
    and none may fail; a POST that had already reached the stopped instance is not retried (by
    design: it could apply twice), so the login flows are checked for lost or doubled data."""
    before = int(top.django("from security.models import SecurityEvent as E;"
                            "print(E.objects.filter(kind='login_ok').count())"))  # fmt: skip
    stopped = top.ports[1]
    timer = threading.Timer(4.0, top.stop_instance, args=(stopped,))
    outcome: dict[str, Any] = {}

    def logins() -> None:
        outcome["logins"] = run_closed_loop(
            base_url=top.base_url, flow=login_registered(seed), users=4, warmup=0.0, duration=10.0
        )

    login_thread = threading.Thread(target=logins)
    timer.start()
    login_thread.start()
    views = run_closed_loop(
        base_url=top.base_url, flow=my_vehicles, users=4, warmup=0.0, duration=10.0,
        browser_factory=signed_in_browser(top.base_url, seed),
    )  # fmt: skip
    login_thread.join()
    timer.join()
    load = outcome["logins"]
    after = int(top.django("from security.models import SecurityEvent as E;"
                           "print(E.objects.filter(kind='login_ok').count())"))  # fmt: skip
    recorded = after - before
    check(
        results, "one instance stopped mid-load",
        views["errors"] == 0 and views["flows"] > 0 and load["flows"] <= recorded
        # + 4 logins of the page-view browsers, + 4 flows cut off by the end of the run
        <= load["flows"] + load["errors"] + 8,
        f"instance {stopped} stopped at 4 s: {views['flows']} My Vehicles views, "
        f"{views['errors']} failed; {load['flows']} login flows completed, {load['errors']} "
        f"interrupted {load['error_samples'][:2]}; {recorded} logins recorded (none lost, "
        "none doubled)",
    )  # fmt: skip
    top.start_instance(stopped)


def redis_outage(top: Topology, seed: dict[str, Any], results: dict[str, Any]) -> None:
    user = seed["users"][2]
    browser = Browser(top.base_url, Recorder(), cookies={"__Host-device": user["device"]})
    page = browser.get("/login/")
    form = {"csrfmiddlewaretoken": page.csrf(), "username": user["username"],
            "password": seed["password"]}  # fmt: skip
    top.stop_redis()
    down = browser.request("POST", "/login/", form, expect_ok=False)
    body = down.body.decode(errors="replace")
    top.start_redis()
    time.sleep(1)
    browser = Browser(top.base_url, Recorder(), cookies={"__Host-device": user["device"]})
    page = browser.get("/login/")
    form["csrfmiddlewaretoken"] = page.csrf()
    response = browser.post("/login/", form)
    check(
        results, "Redis stopped: fails closed, recovers",
        down.status == 503 and "temporarily unavailable" in body and response.status == 302,
        f"with Redis down a correct password answered {down.status} (a clear page, not signed "
        f"in); after Redis returned, the same login answered {response.status}",
    )  # fmt: skip


def postgres_restart(top: Topology, seed: dict[str, Any], results: dict[str, Any]) -> None:
    version = next(iter(sorted(os.listdir("/etc/postgresql"))))
    before = int(top.django("from security.models import SecurityEvent as E;"
                            "print(E.objects.filter(kind='login_ok').count())"))  # fmt: skip
    restart = threading.Timer(
        3.0, subprocess.run,
        args=(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],),
        kwargs={"check": True},
    )  # fmt: skip
    restart.start()
    recorder_statuses: list[int] = []
    load = run_closed_loop(
        base_url=top.base_url, flow=login_registered(seed), users=4, warmup=0.0, duration=10.0
    )
    restart.join()
    wait_for(lambda: top.instance_healthy(top.ports[0]), timeout=30)
    after = int(top.django("from security.models import SecurityEvent as E;"
                           "print(E.objects.filter(kind='login_ok').count())"))  # fmt: skip
    integrity = top.django(
        "from django.db import connection; c = connection.cursor();"
        "c.execute('SELECT count(*) FROM security_securityevent WHERE id IN "
        "(SELECT id FROM security_securityevent GROUP BY id HAVING count(*) > 1)');"
        "print(c.fetchone()[0])"
    )
    del recorder_statuses
    check(
        results, "PostgreSQL restarted mid-load",
        after - before >= load["flows"] and integrity == "0",
        f"{load['flows']} login flows completed, {load['errors']} failed cleanly during the "
        f"restart ({load['error_samples'][:1]}); {after - before} logins recorded, no duplicates",
    )  # fmt: skip


def metrics_scraped(top: Topology, results: dict[str, Any]) -> None:
    """Prometheus scrapes each instance on loopback: every instance answers, and each counted
    the logins nginx sent it (the counters of all its worker processes, added up)."""
    import http.client

    logins = {}
    for port in top.ports:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/metrics", headers={"Host": "localhost"})
        response = conn.getresponse()
        text = response.read().decode()
        found = re.search(r'^portal_logins_total\{outcome="succeeded"\} ([0-9.e+]+)$', text, re.M)
        logins[port] = float(found.group(1)) if response.status == 200 and found else 0.0
    results["metrics_logins_by_instance"] = logins
    check(results, "metrics scraped from both instances", all(v > 0 for v in logins.values()),
          ", ".join(f"{port}: {n:.0f} logins" for port, n in logins.items()))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--skip-postgres-restart", action="store_true")
    args = parser.parse_args()
    for tool in ("nginx", "psql", "pg_dump", "pg_restore", "redis-server"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (make scale-test installs nginx)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_dir = ROOT / "var" / "bench" / f"scale-{stamp}"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"when": stamp, "checks": {}}
    top = Topology(run_dir, instances=2)
    try:
        top.start_redis()
        seed = top.prepare(users=200)
        for port in top.ports:
            top.start_instance(port)
        top.start_worker()
        top.start_nginx()
        parallel_lockout(top, seed, results)
        shared_sessions(top, seed, results)
        shared_rate_limits(top, results)
        # Throughput: the registered-device login flow through nginx over both instances, with
        # the nightly backup taken meanwhile.
        backup = backup_during_load(top, delay=3.0 + args.duration / 3)
        throughput = run_closed_loop(
            base_url=top.base_url, flow=login_registered(seed), users=8, warmup=3.0,
            duration=args.duration,
        )  # fmt: skip
        results["login_flows_per_s_via_nginx"] = throughput["flows_per_s"]
        check(results, "login benchmark through nginx, 2 instances", throughput["errors"] == 0,
              f"{throughput['flows_per_s']} flows/s, steps {throughput['steps']}")  # fmt: skip
        vehicles = run_closed_loop(
            base_url=top.base_url, flow=my_vehicles, users=8, warmup=1.0, duration=5.0,
            browser_factory=signed_in_browser(top.base_url, seed),
        )  # fmt: skip
        results["my_vehicles_per_s_via_nginx"] = vehicles["flows_per_s"]
        metrics_scraped(top, results)
        restore_drill(top, seed, backup, results)
        instance_stop_under_load(top, seed, results)
        redis_outage(top, seed, results)
        if not args.skip_postgres_restart:
            postgres_restart(top, seed, results)
        purged = top.purge()
        check(results, "daily purge (portal-purge.service) runs", purged.returncode == 0,
              (purged.stdout.strip() or purged.stderr.strip())[-300:])  # fmt: skip
    finally:
        top.shutdown()
    line = json.dumps(results, separators=(",", ":"))
    print(line)
    (ROOT / "var" / "bench" / f"scale-{stamp}.json").write_text(line + "\n")
    sys.exit(0 if all(c["ok"] for c in results["checks"].values()) else 1)


if __name__ == "__main__":
    main()
