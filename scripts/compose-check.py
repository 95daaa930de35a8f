"""Runs the container recipe's commands, as the Dockerfile and compose.yaml write them, on
this machine: there is no container runtime here, so nothing is built into an image, but
every command the image and the compose file run is run here with their environment
(scripts/compose-check.sh, under scripts/with-postgres.sh, from `make test`).

What differs from a container is only where things are:
  - a listen address 0.0.0.0:<port> becomes 127.0.0.1 and a free port (local servers stay
    on loopback), and HOOKLINE_PUBLIC_URL follows it;
  - the database host `postgres` is the throwaway cluster on 127.0.0.1;
  - SQLite's /var/lib/hookline and the image's site root are a temp dir and target/site;
  - the test's receiver is on loopback, which needs HOOKLINE_ALLOW_PRIVATE_TARGETS.

Checked:
  - the Dockerfile is multi-stage, its image runs as a non-root user with a health check,
    and its build stage's make targets exist (make -n);
  - the image's own command on its default SQLite database serves, and its health check
    passes;
  - the postgres service's health check passes against the cluster, with its user and
    database created as the postgres image would;
  - the compose nodes start together on one fresh database (migrating at the same time),
    pass their health checks, and deliver 40 events, published half to each, each once;
  - a stopped node's health check fails, and the node exited cleanly.

Usage: compose-check.py HOOKLINE_BIN
"""

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 40


def fail(message):
    print(f"[compose-check] FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


# --- the recipes ---------------------------------------------------------------------


def dockerfile_stages(text):
    """[(FROM line, [(instruction, arguments)])], continuation lines joined."""
    stages, line = [], ""
    for raw in text.splitlines():
        if not line and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        line += raw.rstrip()
        if line.endswith("\\"):
            line = line[:-1] + " "
            continue
        instruction, _, args = line.strip().partition(" ")
        line = ""
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append((args.strip(), []))
        else:
            check(stages, f"{instruction} before FROM")
            stages[-1][1].append((instruction, args.strip()))
    return stages


def exec_form(args, what):
    try:
        argv = json.loads(args)
    except json.JSONDecodeError:
        fail(f"{what} is not in exec form (a JSON list): {args}")
    check(isinstance(argv, list) and all(isinstance(a, str) for a in argv), f"{what}: {args}")
    return argv


def image_of(stages):
    """The last stage's environment, user, command and health check."""
    env, user, entrypoint, cmd, health = {}, None, [], [], None
    for instruction, args in stages[-1][1]:
        if instruction == "ENV":
            for pair in shlex.split(args):
                key, sep, value = pair.partition("=")
                check(sep, f"ENV {pair}: write KEY=value")
                env[key] = value
        elif instruction == "USER":
            user = args
        elif instruction == "ENTRYPOINT":
            entrypoint = exec_form(args, "ENTRYPOINT")
        elif instruction == "CMD":
            cmd = exec_form(args, "CMD")
        elif instruction == "HEALTHCHECK":
            check(" CMD " in f" {args} ", f"HEALTHCHECK without CMD: {args}")
            health = exec_form(args.split("CMD", 1)[1].strip(), "HEALTHCHECK CMD")
    return {"env": env, "user": user, "entrypoint": entrypoint, "cmd": cmd, "health": health}


def make_targets(stages):
    """The make targets the build stages run."""
    targets = []
    for _, instructions in stages[:-1]:
        for instruction, args in instructions:
            if instruction != "RUN":
                continue
            for command in re.split(r"&&|;", args):
                words = shlex.split(command)
                if words and words[0] == "make":
                    targets += [w for w in words[1:] if not w.startswith("-")]
    return targets


def interpolate(value, env):
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}."""

    def one(m):
        name, op, rest = m.group(1), m.group(2), m.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            fail(f"compose needs {name}: {rest}")
        return rest if op == ":-" else ""

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}", one, str(value))


# --- running things -------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        if (d / name).exists():
            return str(d / name)
    fail(f"no {name} on this machine")


def as_postgres(argv):
    return ["runuser", "-u", "postgres", "--", *argv] if os.getuid() == 0 else argv


class Node:
    """A `hookline` process started with a recipe's argv and environment."""

    def __init__(self, name, argv, env, log_dir):
        self.name, self.env = name, env
        self.log = open(log_dir / f"{name}.log", "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://{env['HOOKLINE_LISTEN']}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail(f"{self.name} did not stop within 20 s of SIGTERM")
        return self.proc.returncode

    def show_log(self):
        self.log.flush()
        sys.stderr.write(Path(self.log.name).read_text(errors="replace")[-4000:])


def healthy(argv, env, node, deadline_s=60):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if node.proc.poll() is not None:
            node.show_log()
            fail(f"{node.name} exited with {node.proc.returncode} before it was healthy")
        if subprocess.run(argv, env=env, capture_output=True).returncode == 0:
            return time.monotonic() - start
        time.sleep(0.2)
    node.show_log()
    fail(f"{node.name}: its health check {argv} did not pass within {deadline_s} s")


def request(base, method, path, key, body=None):
    req = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"null")


class Receiver(BaseHTTPRequestHandler):
    ids = []
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with Receiver.lock:
            Receiver.ids.append(self.headers.get("webhook-id"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


# --- the checks ------------------------------------------------------------------------


def main(bin_path):
    stages = dockerfile_stages((ROOT / "Dockerfile").read_text())
    check(len(stages) >= 2, "the Dockerfile is not multi-stage")
    image = image_of(stages)
    check(image["user"] not in (None, "root", "0"), f"the image runs as {image['user']}")
    check(image["health"], "the image has no HEALTHCHECK")
    check(image["entrypoint"] + image["cmd"], "the image has no command")
    targets = make_targets(stages)
    check(targets, "the build stage runs no make target")
    dry = subprocess.run(["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True)
    check(dry.returncode == 0, f"make -n {' '.join(targets)}: {dry.stderr}")
    print(f"[compose-check] Dockerfile: {len(stages)} stages, user {image['user']}, "
          f"builds with make {' '.join(targets)}", file=sys.stderr)

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    nodes = {n: s for n, s in services.items() if s.get("build") in (".", "./")}
    check(len(nodes) >= 2, "compose.yaml runs fewer than two nodes")
    pg_service = services["postgres"]

    cluster = os.environ["HOOKLINE_TEST_PG_URL"]  # postgres://postgres@127.0.0.1:PORT
    pg_host, pg_port = cluster.rsplit("@", 1)[1].split(":")
    work = Path(tempfile.mkdtemp(prefix="hookline-compose-check."))
    started = []

    def resolve(argv):
        program = {"hookline": bin_path}.get(argv[0], argv[0])
        return [program, *argv[1:]]

    def local_env(recipe_env, extra=None):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        env.update(recipe_env)
        env.update(extra or {})
        listen = env.get("HOOKLINE_LISTEN", "127.0.0.1:3000")
        port = free_port()
        check(listen.rsplit(":", 1)[0] in ("0.0.0.0", "[::]"),
              f"a container must listen on all interfaces, not {listen}")
        env["HOOKLINE_LISTEN"] = f"127.0.0.1:{port}"
        if "HOOKLINE_PUBLIC_URL" in env:
            env["HOOKLINE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        site = env.get("HOOKLINE_SITE_ROOT")
        if site:
            env["HOOKLINE_SITE_ROOT"] = str(ROOT / "target/site")
        env["HOOKLINE_ALLOW_PRIVATE_TARGETS"] = "true"
        env.setdefault("RUST_LOG", "warn")
        return env

    try:
        # The image alone: its default SQLite database, its command, its health check.
        env = local_env(image["env"])
        url = env["DATABASE_URL"]
        check(url.startswith("sqlite:///var/lib/hookline/"), f"the image's database: {url}")
        env["DATABASE_URL"] = url.replace("sqlite:///var/lib/hookline", f"sqlite://{work}")
        node = Node("image", resolve(image["entrypoint"] + image["cmd"]), env, work)
        started.append(node)
        took = healthy(resolve(image["health"]), env, node)
        check(node.stop() == 0, "the image's server did not exit cleanly")
        print(f"[compose-check] image on SQLite: healthy after {took:.1f} s", file=sys.stderr)

        # Postgres as the postgres image makes it, and its health check.
        pg_env = pg_service["environment"]
        user, password, db = pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"]
        psql = as_postgres([pg_bin("psql"), "-h", pg_host, "-p", pg_port, "-U", "postgres",
                            "-v", "ON_ERROR_STOP=1", "-q"])
        subprocess.run([*psql, "-c", f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'",
                        "-c", f"CREATE DATABASE \"{db}\" OWNER \"{user}\""], check=True)
        test = pg_service["healthcheck"]["test"]
        check(test[0] == "CMD" and test[1] == "pg_isready", f"postgres health check: {test}")
        ready = subprocess.run([pg_bin("pg_isready"), *test[2:], "-h", pg_host, "-p", pg_port],
                               capture_output=True, text=True)
        check(ready.returncode == 0, f"postgres health check failed: {ready.stdout}{ready.stderr}")

        # The nodes, started together on the same fresh database.
        variables = {"HOOKLINE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()}
        running = []
        for name, service in nodes.items():
            env = {k: interpolate(v, variables) for k, v in service["environment"].items()}
            env = local_env(image["env"], env)
            db_url = env["DATABASE_URL"]
            check("@postgres:5432/" in db_url, f"{name}: its database is {db_url}")
            env["DATABASE_URL"] = db_url.replace("@postgres:5432/", f"@{pg_host}:{pg_port}/")
            check(service.get("depends_on", {}).get("postgres", {}).get("condition")
                  == "service_healthy", f"{name} does not wait for a healthy postgres")
            argv = service.get("entrypoint", image["entrypoint"]) + service.get("command", image["cmd"])
            health = service.get("healthcheck", {}).get("test", ["CMD", *image["health"]])
            check(health[0] == "CMD", f"{name}: health check {health}")
            node = Node(name, resolve(argv), env, work)
            started.append(node)
            running.append((node, resolve(health[1:])))
        for node, health in running:
            took = healthy(health, node.env, node)
            print(f"[compose-check] {node.name} on Postgres: healthy after {took:.1f} s",
                  file=sys.stderr)

        first = running[0][0]
        made = subprocess.run(
            [bin_path, "api-key", "create", "--json", "--name", "compose-check", "--scope", "admin"],
            env=first.env, capture_output=True, text=True)
        check(made.returncode == 0, f"api-key create: {made.stderr}")
        key = json.loads(made.stdout)["key"]

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        request(first.base, "POST", "/api/v1/event-types", key, {"name": "order.created"})
        request(first.base, "POST", "/api/v1/endpoints", key,
                {"name": "orders", "url": hook, "event_types": ["order.created"]})
        for i in range(EVENTS):
            node = running[i % len(running)][0]
            request(node.base, "POST", "/api/v1/events", key,
                    {"event_type": "order.created", "data": {"n": i}})
        deadline = time.monotonic() + 60
        while len(set(Receiver.ids)) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a duplicate would arrive by now
        ids = list(Receiver.ids)
        check(len(set(ids)) == EVENTS, f"{len(set(ids))} of {EVENTS} events arrived")
        check(len(ids) == EVENTS, f"{len(ids) - EVENTS} deliveries arrived twice")
        print(f"[compose-check] {EVENTS} events published across {len(running)} nodes: "
              f"each delivered once", file=sys.stderr)

        last, health = running[-1]
        check(last.stop() == 0, f"{last.name} did not exit cleanly on SIGTERM")
        gone = subprocess.run(health, env=last.env, capture_output=True)
        check(gone.returncode != 0, f"{last.name}'s health check passed after it stopped")
        print(f"[compose-check] {last.name} stopped: its health check fails", file=sys.stderr)
    except SystemExit:
        for node in started:
            node.show_log()
        raise
    finally:
        for node in started:
            node.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("[compose-check] the container recipe's commands all ran", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
