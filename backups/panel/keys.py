"""The encryption keys in Berth's own backup. The database keeps secrets (repository
passwords, OAuth tokens, private keys) encrypted with them: a restored database is readable
only with the same keys, so the backup carries them, in a file marked as secret."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection

from controlpanel.crypto import EncryptedTextField, keys_in_use

FILE = "secrets/ENCRYPTION-KEYS.json"
WARNING = (
    "SECRET: Berth's encryption keys. With them, anyone holding this backup's database can "
    "read every secret Berth keeps (repository passwords, OAuth tokens, private keys). Keep "
    "them as safe as the backup password, and never in the same place as an unencrypted copy."
)


class KeysError(Exception):
    """The keys of a backup and of this machine do not fit (the message says what to do)."""


def write(stage: Path) -> Path:
    path = stage / FILE
    path.parent.mkdir(mode=0o700)
    payload = {
        "warning": WARNING,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(payload, out, indent=1)
    return path


def read(path: Path) -> dict:
    keys = json.loads(path.read_text())
    if not keys.get("SECRET_KEY"):
        raise KeysError(f"The backup's key file {FILE} holds no SECRET_KEY.")
    return keys


def _field_keys(keys: dict) -> list[str]:
    return [k for k in keys.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip()]


def write_env_file(keys: dict, target: Path) -> None:
    """The keys as environment variables (``KEY='value'`` lines), readable by the owner only."""
    lines = [f"# {WARNING}", f"SECRET_KEY={shlex.quote(keys['SECRET_KEY'])}"]
    if _field_keys(keys):
        lines.append(f"FIELD_ENCRYPTION_KEYS={shlex.quote(keys['FIELD_ENCRYPTION_KEYS'])}")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")


def secret_key_file() -> Path | None:
    """``var/secret_key`` when this Berth's SECRET_KEY comes from it (the embedded default),
    else None (it comes from the environment)."""
    if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
        return None
    return Path(settings.VAR_DIR) / "secret_key"


def plan(keys: dict) -> Path | None:
    """Whether this machine can read the backup's secrets: None when its keys already do, the
    ``var/secret_key`` file to write the backup's key into when that makes them; KeysError
    (saying how to set them) otherwise."""
    wanted = set(keys_in_use(_field_keys(keys), keys["SECRET_KEY"]))
    have = set(keys_in_use(settings.FIELD_ENCRYPTION_KEYS, settings.SECRET_KEY))
    if wanted <= have:
        return None
    path = secret_key_file()
    if path is not None and not _field_keys(keys) and not settings.FIELD_ENCRYPTION_KEYS:
        return path
    raise KeysError(
        "This machine's SECRET_KEY / FIELD_ENCRYPTION_KEYS differ from the backup's, so the "
        "restored secrets could not be read. Write the backup's keys out with "
        "`manage.py restore --secrets-to FILE`, set them in Berth's environment, and run the "
        "restore again."
    )


def put_in_place(keys: dict, path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(keys["SECRET_KEY"])


def encrypted_samples(limit_per_field: int = 1) -> list[str]:
    """A few stored ciphertexts, read raw (not through the field, which would decrypt them
    with this process's keys)."""
    samples = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, EncryptedTextField):
                    continue
                column, table = quote(field.column), quote(model._meta.db_table)
                cursor.execute(
                    f"SELECT {column} FROM {table} WHERE {column} <> '' LIMIT %s",  # noqa: S608
                    [limit_per_field],
                )
                samples += [row[0] for row in cursor.fetchall() if row[0]]
    return samples


def check_readable(keys: dict) -> int:
    """Decrypt stored secrets with the backup's keys; how many were read. KeysError if one
    cannot be."""
    fernet = MultiFernet(
        [Fernet(k.encode()) for k in keys_in_use(_field_keys(keys), keys["SECRET_KEY"])]
    )
    samples = encrypted_samples()
    for token in samples:
        try:
            fernet.decrypt(token.encode())
        except InvalidToken as exc:
            raise KeysError(
                "A secret in the restored database cannot be read with the backup's keys."
            ) from exc
    return len(samples)
