"""A WordPress site's backup: wp-content and a mysqldump of its database on the real MariaDB;
a restore brings back the rows and the files."""

from __future__ import annotations

import pytest

from backups import services
from backups.models import Backup, Restore
from backups.tests.conftest import site_with_files
from wordpress import mariadb
from wordpress.layout import layout_for
from wordpress.tests.conftest import MARIADB_URL
from wordpress.tests.factories import wordpress_site_make

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def blog(db, alice, settings, tmp_path):
    from conftest import require_service

    settings.MARIADB_URL = settings.MARIADB_URL or MARIADB_URL
    require_service("MariaDB", mariadb.ping() is None, "start MariaDB or set MARIADB_URL")
    settings.WORDPRESS_ROOT = tmp_path / "wp"
    site = wordpress_site_make(owner=alice, name="Blog")
    job = site.wordpress
    mariadb.database_create(name=job.db_name, user=job.db_user, password=job.db_password)
    content = layout_for(site.pk).wp_content
    (content / "uploads").mkdir(parents=True)
    (content / "uploads" / "photo.jpg").write_bytes(bytes(range(256)) * 100)
    (content / "themes").mkdir()
    (content / "themes" / "style.css").write_text("/* theme */")
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(job.db_name)
        cursor.execute("CREATE TABLE posts (id INT PRIMARY KEY, title TEXT)")
        cursor.executemany(
            "INSERT INTO posts VALUES (%s, %s)",
            [(i, f"Post {i}") for i in range(1, 51)],
        )
    yield site
    mariadb.database_drop(name=job.db_name, user=job.db_user)


def _rows(site):
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(site.wordpress.db_name)
        cursor.execute("SELECT id, title FROM posts ORDER BY id")
        return cursor.fetchall()


def test_wordpress_database_and_files_come_back(blog):
    before_rows = _rows(blog)
    content = layout_for(blog.pk).wp_content
    photo = (content / "uploads" / "photo.jpg").read_bytes()

    backup = services.backup_run(backup_id=Backup.objects.create(site=blog).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    assert backup.has_database and backup.verified_at

    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(blog.wordpress.db_name)
        cursor.execute("DELETE FROM posts WHERE id > 10")
        cursor.execute("UPDATE posts SET title = 'changed'")
    (content / "uploads" / "photo.jpg").unlink()
    (content / "themes" / "style.css").write_text("/* broken */")

    job = Restore.objects.create(backup=backup)
    done = services.restore_run(restore_id=job.pk)
    assert done.state == Restore.State.SUCCEEDED, done.reason
    assert done.safety_backup.type == Backup.Type.BEFORE_RESTORE
    assert done.safety_backup.state == Backup.State.SUCCEEDED

    assert _rows(blog) == before_rows
    assert (content / "uploads" / "photo.jpg").read_bytes() == photo
    assert (content / "themes" / "style.css").read_text() == "/* theme */"


def test_a_database_that_cannot_be_dumped_fails_the_backup(blog):
    mariadb.database_drop(name=blog.wordpress.db_name, user=blog.wordpress.db_user)
    failed = services.backup_run(backup_id=Backup.objects.create(site=blog).pk)
    assert failed.state == Backup.State.FAILED
    assert "database dump failed" in failed.reason
    mariadb.database_create(
        name=blog.wordpress.db_name, user=blog.wordpress.db_user, password="x-recreated"
    )


def test_a_backup_before_a_wordpress_update_finishes_before_returning(blog, alice):
    done = services.back_up_before_wordpress_update(blog, by=alice)
    assert done.state == Backup.State.SUCCEEDED and done.verified_at and done.has_database
    assert done.type == Backup.Type.BEFORE_WORDPRESS_UPDATE
    assert done.created_by == alice
    assert done.get_type_display() == "Before a WordPress update"


def test_a_failed_backup_before_an_update_raises_with_the_reason(blog):
    mariadb.database_drop(name=blog.wordpress.db_name, user=blog.wordpress.db_user)
    with pytest.raises(services.BackupFailed, match=r"before the update failed.*database dump"):
        services.back_up_before_wordpress_update(blog, by=None)
    failed = Backup.objects.get(site=blog)
    assert failed.type == Backup.Type.BEFORE_WORDPRESS_UPDATE
    assert failed.state == Backup.State.FAILED
    mariadb.database_create(
        name=blog.wordpress.db_name, user=blog.wordpress.db_user, password="x-recreated"
    )


def test_a_static_site_has_no_backup_before_a_wordpress_update(db, alice):
    with pytest.raises(services.BackupFailed, match="Only a WordPress site"):
        services.back_up_before_wordpress_update(site_with_files(alice), by=alice)
    assert not Backup.objects.exists()
