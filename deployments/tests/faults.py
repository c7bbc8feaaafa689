"""Private Redis and PostgreSQL servers that fault tests start, kill and restart themselves,
and small disks they fill.

The servers listen on spare loopback ports with their data in the test's tmp folder, so
killing one never touches the shared servers (5432, 6379) other tests and developers use.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from kombu import pools

from conftest import free_port, require_service


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout}s")
        time.sleep(0.05)


class RedisServer:
    """redis-server on a spare port, without persistence (a restart loses every key)."""

    def __init__(self, directory: Path):
        binary = shutil.which("redis-server")
        require_service("redis-server", bool(binary), "apt-get install redis-server")
        self.binary = binary
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(lambda: _listening(self.port), 20, "Redis listening")

    def kill(self) -> None:
        """SIGKILL: the broker vanishes with its queues, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        _wait(lambda: not _listening(self.port), 10, "Redis stopping")

    def restart(self, down: float = 1.0) -> None:
        self.kill()
        time.sleep(down)
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def postgres_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    require_service(name, bool(found), "apt-get install postgresql")
    return found


class PostgresServer:
    """A throw-away PostgreSQL cluster (initdb) on a spare port, trust authentication.

    Runs as the ``postgres`` user when the tests run as root (PostgreSQL refuses root).
    """

    def __init__(self, directory: Path):
        self.initdb, self.pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        directory.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(directory, "postgres")
        self._run([self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"])
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{directory}'\nfsync = off\n"
                # Commits reach the WAL before they are acknowledged, so a crash-restart keeps
                # every acknowledged write, as a real server does (fsync only guards the OS).
                "synchronous_commit = on\nfull_page_writes = off\nmax_connections = 50\n"
            )
        self.start()

    def _run(self, argv: list[str]) -> None:
        out = subprocess.run(
            [*self.as_user, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {out.stdout}\n{out.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "pg.log"),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )

    def restart(self) -> None:
        """Stop at once (every connection is cut) and start again: a sub-second blip."""
        self._run(
            [
                *(self.pg_ctl, "-D", str(self.data), "-l", str(self.directory / "pg.log")),
                *("-m", "immediate", "-w", "-t", "30", "restart"),
            ]
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])


class broker_at:
    """Send this process's Celery tasks to another broker for a while (a private Redis)."""

    def __init__(self, url: str):
        self.url = url

    def _reset(self, url: str) -> None:
        from controlpanel.celery import app

        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        # kombu keeps its own pools of connections and producers per broker address; closing
        # the app's pool closes those too, so drop them all and let the next send make new ones.
        pools.reset()
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    def __enter__(self):
        from controlpanel.celery import app

        self.previous = app.conf.broker_url
        self._reset(self.url)
        return self

    def __exit__(self, *exc):
        self._reset(self.previous)


class SmallDisk:
    """A tmpfs of ``size`` bytes mounted for one test (needs root): a disk that fills up.

    ``resize`` grows or shrinks it in place (the operator freeing space)."""

    def __init__(self, size: int):
        self.path = Path(tempfile.mkdtemp(prefix="berth-disk-"))
        mounted = None
        if os.geteuid() == 0 and shutil.which("mount"):
            mounted = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711", "tmpfs", str(self.path)],
                capture_output=True,
                text=True,
                check=False,
            )
        if mounted is None or mounted.returncode != 0:
            self.path.rmdir()
        require_service(
            "a small filesystem (mount -t tmpfs, as root)",
            mounted is not None and mounted.returncode == 0,
            mounted.stderr.strip() if mounted is not None else "run the tests as root",
        )

    def free(self) -> int:
        return shutil.disk_usage(self.path).free

    def used(self) -> int:
        return shutil.disk_usage(self.path).used

    def resize(self, size: int) -> None:
        subprocess.run(
            ["mount", "-o", f"remount,size={size}", str(self.path)], check=True, timeout=30
        )

    def files(self) -> dict[str, int]:
        """Every file on the disk (relative path: size)."""
        return {
            str(path.relative_to(self.path)): path.stat().st_size
            for path in self.path.rglob("*")
            if path.is_file()
        }

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, timeout=30)
        shutil.rmtree(self.path, ignore_errors=True)
