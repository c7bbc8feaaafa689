"""Fixtures every app's tests share: isolated cache, fast hashing, alice / bob / charlie.

Services: with DATABASE_URL and REDIS_URL set (CI), tests run against PostgreSQL and Redis.
A test that needs a service calls ``require_service``: it fails under CI when the service is
missing, and is skipped elsewhere.
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import uuid

import pytest
from rest_framework.test import APIClient

IN_CI = bool(os.environ.get("CI"))


def require_service(name: str, available: bool, how: str = "") -> None:
    if available:
        return
    message = f"{name} is not available{': ' + how if how else ''}"
    if IN_CI:
        pytest.fail(f"{message} (required in CI)")
    pytest.skip(message)


def require_binary(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None
    )
    require_service(name, bool(path), "install the Debian package listed in .ci/apt-packages.txt")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """A fresh cache namespace per test, so rate limits and cached lookups never leak."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"t{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    from controlpanel.settings import file_storages

    settings.STORAGES = {**settings.STORAGES, **file_storages(tmp_path / "media")}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def redis_url(settings) -> str:
    require_service("Redis", bool(settings.REDIS_URL), "set REDIS_URL")
    return settings.REDIS_URL


PASSWORD = "correct horse battery"  # noqa: S105


def make_user(email: str, name: str, **extra):
    from django.contrib.auth import get_user_model

    from accounts.services import preferences_get

    user = get_user_model().objects.create_user(email=email, password=PASSWORD, name=name, **extra)
    preferences_get(user=user)
    return user


@pytest.fixture
def alice(db):
    """The owner in access tests."""
    return make_user("alice@example.com", "Alice Liddell")


@pytest.fixture
def bob(db):
    """Another user, who must never see alice's things."""
    return make_user("bob@example.com", "Bob Builder")


@pytest.fixture
def charlie(db):
    """A third user with nothing of his own."""
    return make_user("charlie@example.com", "Charlie Chaplin")


@pytest.fixture
def operator(db):
    return make_user("ops@example.com", "Olive Operator", is_staff=True, is_superuser=True)


def bearer_client(user) -> APIClient:
    from accounts.services import token_issue

    client = APIClient()
    issued = token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    client.token = issued
    return client


@pytest.fixture
def api(alice) -> APIClient:
    """An API client signed in as alice with a bearer token."""
    return bearer_client(alice)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def web(client, alice):
    """A browser (Django test client) signed in as alice."""
    client.force_login(alice)
    return client


def run_django(statements: str, **env) -> object:
    """Run Python in a fresh process with Django set up (another web process, say) and return
    the JSON it printed last. ``env`` overrides the environment; a value of None removes it."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlpanel.settings",
        "BERTH_READ_DOTENV": "0",
        "ALLOWED_HOSTS": "testserver",
    }
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = str(value)
    out = subprocess.run(
        [sys.executable, "-c", "import django, json; django.setup()\n" + statements],
        cwd=Path(__file__).resolve().parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def self_signed_certificate(
    directory, name: str, hostnames: list[str], ips: tuple[str, ...] = (), ca: bool = False
) -> tuple[str, str]:
    """Write a self-signed certificate and its key (PEM) for test TLS listeners and routes."""
    import datetime
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names = [x509.DNSName(h) for h in hostnames]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    cert = builder.sign(key, hashes.SHA256())
    cert_path, key_path = Path(directory) / f"{name}.crt", Path(directory) / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
