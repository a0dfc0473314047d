"""The production recipe: docker-compose.prod.yml, Dockerfile, deploy/nginx.conf, env.example.

`docker compose config` validates the file when the compose client exists; the structure and the
settings are always checked by parsing the files. No database is needed: the conftest's autouse
fixtures are replaced by no-ops in this module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.prod.yml"
ENV_EXAMPLE = ROOT / "env.example"
APP_SERVICES = ("migrate", "web", "worker")
BACKENDS = ("db", "redis", "ollama", "chromadb")
SERVICES = (*APP_SERVICES, "nginx", *BACKENDS)


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    """Overrides the conftest fixture: these checks need no database."""
    yield


@pytest.fixture(autouse=True)
def _clean_side_channels() -> None:
    """Overrides the conftest fixture: these checks need no Redis nor SMTP."""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def documented_settings() -> set[str]:
    """Names in env.example, whether set (NAME=…) or shown commented (# NAME=…)."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def settings_read_by_the_app() -> set[str]:
    """Every environment variable the code reads: config helpers and os.environ/os.getenv."""
    config = (ROOT / "nexus" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r"""_(?:env|bool|int)\(\s*["']([A-Z][A-Z0-9_]*)["']""", config))
    sources = [*sorted((ROOT / "nexus").rglob("*.py")), *(ROOT / n for n in ("app.py", "worker.py"))]
    sources.append(ROOT / "gunicorn.conf.py")
    pattern = r"""os\.(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    for path in sources:
        names.update(re.findall(pattern, path.read_text(encoding="utf-8")))
    return names


def compose_client() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose`, if one is installed and works."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_config_is_valid() -> None:
    command = compose_client()
    if command is None:
        pytest.skip("no compose client here (`docker compose version` fails): YAML checked below instead")
    env = {**os.environ, "NEXUS_ENV_FILE": str(ENV_EXAMPLE)}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "--env-file", str(ENV_EXAMPLE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_service_is_there(services: dict[str, Any]) -> None:
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"services missing from docker-compose.prod.yml: {missing}"


def test_only_nginx_publishes_ports(services: dict[str, Any]) -> None:
    publishing = sorted(name for name, svc in services.items() if svc.get("ports"))
    assert publishing == ["nginx"]
    assert {str(p).split(":")[-1] for p in services["nginx"]["ports"]} == {"80", "443"}


def _networks(service: dict[str, Any]) -> list[str]:
    networks = service.get("networks", [])
    return list(networks) if isinstance(networks, dict) else networks


def test_backends_live_on_an_internal_network(compose: dict[str, Any], services: dict[str, Any]) -> None:
    networks = compose["networks"]
    for name in (*BACKENDS, *APP_SERVICES):
        attached = _networks(services[name])
        assert attached, f"{name} has no explicit network (it would join the default one)"
        if name in BACKENDS:
            outside = [n for n in attached if not (networks[n] or {}).get("internal")]
            assert not outside, f"{name} is on a non-internal network: {outside}"
    public = [n for n in _networks(services["nginx"]) if not (networks[n] or {}).get("internal")]
    assert public, "nginx needs a public (non-internal) network"
    others = [s for s, svc in services.items() if s != "nginx" and set(public) & set(_networks(svc))]
    assert not others, f"only nginx belongs on the public network, not {others}"


def test_migrate_runs_once_before_web_and_worker(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["flask", "--app", "app", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_app_services_share_one_image_and_production_settings(services: dict[str, Any]) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["NEXUS_ENV"] == "production", name
        assert "env_file" in services[name], name
    web = services["web"]
    assert web["command"][:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert str(web["environment"]["PROXY_COUNT"]) == "1"
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert services["worker"]["healthcheck"]["disable"] is True


def test_backend_images_and_volumes(services: dict[str, Any]) -> None:
    assert services["db"]["image"].startswith("pgvector/pgvector:pg")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["image"] == "redis:7-alpine"
    assert any(v.endswith(":/root/.ollama") for v in services["ollama"]["volumes"])
    assert services["chromadb"]["image"] == "chromadb/chroma:1.5.9"
    # Chroma 1.x persists to /data; the 0.x path /chroma/chroma would lose the index silently.
    assert any(v.endswith(":/data") for v in services["chromadb"]["volumes"])


def test_app_environment_names_are_real_settings(services: dict[str, Any]) -> None:
    read = settings_read_by_the_app()
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - read
        assert not unknown, f"{name} sets variables the app never reads: {sorted(unknown)}"


def test_every_compose_variable_is_documented() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    assert used, "the regex no longer finds ${VAR} in the compose file"
    missing = used - documented_settings()
    assert not missing, f"add to env.example: {sorted(missing)}"


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, defaults nested; $$ is a literal $."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            value, i = _substitute(text, i + 2, env)
            out.append(value)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _substitute(text: str, start: int, env: dict[str, str]) -> tuple[str, int]:
    """Resolve the expression opening at `start` (after "${"); return (value, index after "}")."""
    depth, end = 1, start
    while depth:
        if end >= len(text):
            raise ValueError(f"unbalanced ${{ at {start}")
        depth += 1 if text.startswith("${", end) else -1 if text[end] == "}" else 0
        end += 2 if text.startswith("${", end) else 1
    name, op, rest = re.match(
        r"([A-Za-z_][A-Za-z0-9_]*)(:-|:\?)?(.*)", text[start : end - 1], re.DOTALL
    ).groups()
    if env.get(name):
        return env[name], end
    if op == ":?":
        raise ValueError(f"{name} is required: {rest}")
    return interpolate(rest, env) if op == ":-" else "", end


def example_env() -> dict[str, str]:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


def test_compose_interpolates_with_env_example() -> None:
    """The file resolves with env.example's values, and fails loudly without a DB password."""
    resolved = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"), example_env()))
    env = resolved["services"]["web"]["environment"]
    assert env["DATABASE_URL"] == "postgresql://nexus:CHANGE-ME-database-password@db:5432/nexus"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["OPENAI_BASE_URL"] == "http://ollama:11434/v1"
    assert resolved["services"]["web"]["env_file"] == ".env"
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD is required"):
        interpolate(COMPOSE.read_text(encoding="utf-8"), {})


def test_every_setting_is_documented() -> None:
    read = settings_read_by_the_app()
    assert {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "WEB_CONCURRENCY"} <= read, "scan went stale"
    missing = read - documented_settings()
    assert not missing, f"add to env.example (with a comment): {sorted(missing)}"


def test_dockerfile_runs_gunicorn_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in text and (ROOT / "deploy" / "healthcheck.py").exists()
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]' in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", "instance", ".git"} <= set(ignored)


def test_nginx_streams_sse_unbuffered_and_serves_static() -> None:
    text = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    sse = re.search(r"location \^~ /dashboard/eleve/aria/ \{(.*?)\}", text, flags=re.DOTALL)
    assert sse, "no dedicated location for ARIA's SSE streams"
    assert "proxy_buffering off;" in sse.group(1)
    assert "proxy_set_header" not in sse.group(1), "it would drop the server-level proxy headers"
    assert "gzip on;" in text and "gzip_comp_level 6;" in text
    assert re.search(r"location /static/ \{[^}]*root /srv;", text)


def test_nginx_config_syntax(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed here: syntax not checked")
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    site = site.replace("server web:8000;", "server 127.0.0.1:9;")
    site = site.replace("/etc/nginx/certs/", f"{tmp_path}/")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)", version)
    if found and (int(found.group(1)), int(found.group(2))) < (1, 25):
        site = site.replace("http2 on;", "")  # the directive appeared in 1.25.1; the image has 1.27
    _self_signed(tmp_path)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _self_signed(folder: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    keys = ["-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            *keys,
        ],
        capture_output=True,
        check=True,
    )


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_container_healthcheck_follows_healthz(status: int, exit_code: int) -> None:
    handler = type("Handler", (_Health,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "PORT": str(server.server_address[1])}
        script = ROOT / "deploy" / "healthcheck.py"
        result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, check=False)
        assert result.returncode == exit_code
    finally:
        server.shutdown()
        server.server_close()
