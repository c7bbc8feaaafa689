"""Each WordPress site's database and database user on the MariaDB server of ``MARIADB_URL``
(unset: a local MariaDB at 127.0.0.1:3306, root without a password, when one answers there).

Names come from ``wordpress.layout`` (``wp_`` + hex digits) and are checked again here before
they reach a statement; passwords are bound as parameters.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

NAME = re.compile(r"^wp_[0-9a-f]{8,32}$")
# The embedded default: a MariaDB on this machine as Debian's package and .ci/run set it up.
LOCAL_URL = "mysql://root@127.0.0.1:3306"
# Access denied (wrong password; or root reserved to unix_socket logins, Debian's default).
LOGIN_REFUSED = (1045, 1698)


class MariaDBError(Exception):
    """The server is unreachable or refused a statement (the message says which)."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    @property
    def address(self) -> str:
        """DB_HOST as wp-config.php spells it."""
        return f"{self.host}:{self.port}"


def configured() -> bool:
    """True when MARIADB_URL names the server; False when the local default is tried."""
    return bool(settings.MARIADB_URL)


def server() -> Server:
    url = settings.MARIADB_URL or LOCAL_URL
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise MariaDBError("MARIADB_URL must look like mysql://user:password@host:3306")
    return Server(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
    )


@contextmanager
def connect(timeout: float = 5):
    import pymysql  # the MariaDB client loads where a WordPress database is reached

    target = server()
    try:
        conn = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            connect_timeout=timeout,
            read_timeout=60,
            write_timeout=60,
            autocommit=True,
        )
    except pymysql.MySQLError as exc:
        if exc.args and exc.args[0] in LOGIN_REFUSED:
            raise MariaDBError(
                f"MariaDB at {target.address} refused the login: {exc.args[-1]}"
            ) from exc
        raise MariaDBError(f"MariaDB at {target.address} does not answer: {exc.args[-1]}") from exc
    try:
        yield conn
    except pymysql.MySQLError as exc:
        raise MariaDBError(f"MariaDB refused: {exc.args[-1]}") from exc
    finally:
        conn.close()


def _checked(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"Refusing a database name {name!r}.")
    return name


def database_create(*, name: str, user: str, password: str) -> None:
    """Create the database and a user with rights on it only (idempotent: a second run sets
    the same password again)."""
    name, user = _checked(name), _checked(user)
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{name}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        cursor.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%%' IDENTIFIED BY %s", [password])
        cursor.execute(f"ALTER USER '{user}'@'%%' IDENTIFIED BY %s", [password])
        cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'%%'", ())


def database_drop(*, name: str, user: str) -> None:
    """Drop the database and its user (idempotent)."""
    name, user = _checked(name), _checked(user)
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%%'", ())


def database_exists(name: str) -> bool:
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def user_exists(user: str) -> bool:
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM mysql.user WHERE user = %s", [user])
        return cursor.fetchone() is not None


def database_size(name: str) -> int:
    """Bytes of data and indexes in the database."""
    with connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
            "WHERE table_schema = %s",
            [_checked(name)],
        )
        return int(cursor.fetchone()[0])


def ping(timeout: float = 2) -> str | None:
    """None when MariaDB answers, else the reason it does not."""
    try:
        with connect(timeout) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    except MariaDBError as exc:
        return str(exc)
    return None
