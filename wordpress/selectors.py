"""Reads of WordPress sites for the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from hosting.models import Site
from wordpress import mariadb, pools, system
from wordpress.layout import layout_for
from wordpress.models import WordPressSite


@dataclass(frozen=True)
class WordPressDetail:
    job: WordPressSite
    pool_state: str
    core_version: str  # of the installed package: an update is waiting when it differs
    php_version: str
    database_bytes: int | None
    files_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.files_bytes + (self.database_bytes or 0)

    @property
    def update_available(self) -> bool:
        installed, packaged = self.job.version, self.core_version
        return bool(installed and packaged and installed != packaged)


def wordpress_for(*, site: Site) -> WordPressSite | None:
    return WordPressSite.objects.filter(pk=site.pk).first()


def wordpress_detail(*, site: Site) -> WordPressDetail | None:
    job = wordpress_for(site=site)
    if job is None:
        return None
    database = None
    if job.state == WordPressSite.State.DONE:
        try:
            database = mariadb.database_size(job.db_name)
        except mariadb.MariaDBError:
            database = None
    return WordPressDetail(
        job=job,
        pool_state=pools.pool_state(layout_for(site.pk)),
        core_version=system.core_version(),
        php_version=system.php_version(),
        database_bytes=database,
        files_bytes=system.files_bytes(layout_for(site.pk))
        if job.state == WordPressSite.State.DONE
        else 0,
    )
