"""Backups: backup and restore time of a 1,000-file site and of a WordPress site, the bytes a
second backup of an unchanged site adds, streaming a backup as a .tar.gz, and Berth's own
backup.

Run: python benchmarks/backups.py [--no-wordpress]

A throwaway Berth (SQLite, a local restic repository under a temporary folder) runs the
backup and restore services inline (the Celery tasks' bodies), with restic check and the
snapshot listing included, as in production. Each restore first takes its "before restore"
backup, as it does for users; the table shows both. The WordPress part needs MariaDB
(MARIADB_URL, default mysql://root@127.0.0.1:3306), php-fpm and WordPress core; its site is
deleted at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

FILES = 1000


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def back_up(site):
    from backups import services
    from backups.models import Backup

    backup, seconds = timed(services.backup_run, backup_id=Backup.objects.create(site=site).pk)
    if backup.state != Backup.State.SUCCEEDED:
        raise SystemExit(f"The backup failed: {backup.reason}")
    return backup, seconds


def restore(backup):
    from backups import services
    from backups.models import Restore

    job = Restore.objects.create(backup=backup)  # restore_create would run it eagerly here
    job, seconds = timed(services.restore_run, restore_id=job.pk)
    if job.state != Restore.State.SUCCEEDED:
        raise SystemExit(f"The restore failed: {job.reason}")
    return seconds, job.safety_backup


def row(label: str, seconds: float, backup=None, note: str = "") -> None:
    figures = f"{seconds:6.2f} s"
    if backup is not None:
        figures += f"  {backup.files:>5} files  {backup.size:>10,} bytes"
        figures += f"  +{backup.added_bytes:,} bytes stored"
    print(f"{label:<44} {figures}{('  ' + note) if note else ''}")


def static_site(user) -> None:
    from backups.downloads import backup_archive
    from hosting.files.backends import tree_for
    from hosting.services import site_create

    site = site_create(owner=user, name="Bench docs", slug="bench-docs")
    tree = tree_for(site.pk)
    rng = random.Random(7)
    words = ["harbour", "berth", "quay", "anchor", "tide", "sail", "keel", "mast"]
    for n in range(FILES):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(80, 160)))
        tree.save(f"pages/{n // 100}/page-{n}.html", io.BytesIO(f"<p>{text}</p>".encode()))

    first, seconds = back_up(site)
    row(f"static site, first backup ({FILES:,} files)", seconds, first)
    second, seconds = back_up(site)
    row("static site, second backup, nothing changed", seconds, second)
    tree.save("pages/0/page-0.html", io.BytesIO(b"<p>changed</p>"))
    third, seconds = back_up(site)
    row("static site, third backup, one file changed", seconds, third)

    archive, seconds = timed(lambda: b"".join(backup_archive(backup=first).chunks))
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = [m for m in tar if m.isfile()]
    if (len(members), sum(m.size for m in members)) != (first.files, first.size):
        raise SystemExit("The downloaded archive does not hold the backup's files.")
    label = "static site, download as .tar.gz (streamed)"
    print(f"{label:<44} {seconds:6.2f} s  {len(archive):,} bytes")

    seconds, safety = restore(first)
    row("static site, restore (with its safety backup)", seconds)
    row("  of which the before-restore backup", safety.duration or 0.0, safety)


def wordpress_site(user) -> None:
    from django.conf import settings

    from controlpanel.supervision import Supervisor
    from hosting.services import site_delete
    from teams.services import acting_team
    from wordpress.services import wordpress_problem, wordpress_site_create

    supervisor = Supervisor(settings.SUPERVISOR_DIR)
    supervisor.write_config([])
    supervisor.start()
    site = None
    try:
        problem = wordpress_problem()
        if problem:
            raise SystemExit(f"WordPress: {problem} (--no-wordpress leaves it out)")
        site = wordpress_site_create(
            owner=user,
            team=acting_team(user),
            name="Bench blog",
            title="Bench blog",
            admin_user="bench",
            admin_email="bench@example.com",
            admin_password="a-long-bench-password",  # noqa: S106
        )
        first, seconds = back_up(site)
        row("WordPress site, first backup (+ mysqldump)", seconds, first)
        second, seconds = back_up(site)
        row("WordPress site, second backup, unchanged", seconds, second)
        seconds, safety = restore(first)
        row("WordPress site, restore (with its safety backup)", seconds)
        row("  of which the before-restore backup", safety.duration or 0.0, safety)
    finally:
        if site is not None:
            site_delete(site=site)
        supervisor.shutdown()


def panel_backup() -> None:
    from backups.panel.backup import panel_backup as run

    done, seconds = timed(run)
    print(
        f"{'Berth itself (manage.py backup)':<44} {seconds:6.2f} s  {done['files']:>5} files  "
        f"{done['bytes']:>10,} bytes  +{done['added']:,} bytes stored"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-wordpress", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MARIADB_URL", "mysql://root@127.0.0.1:3306")
    os.environ.update(CELERY_TASK_ALWAYS_EAGER="1", PANEL_BACKUP_PASSWORD="bench-only")  # noqa: S106
    work = _env.setup("backups")
    work.chmod(0o711)  # a WordPress site's own user reaches its folder
    os.environ["WORDPRESS_ROOT"] = str(work / "wordpress")

    from django.conf import settings

    settings.WORDPRESS_ROOT = work / "wordpress"
    try:
        user = _env.owner()
        static_site(user)
        if not args.no_wordpress:
            wordpress_site(user)
        panel_backup()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
