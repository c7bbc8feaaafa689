"""Where a WordPress site's parts live and what they are called, derived from the site's id.

Every name comes from the UUID (hex digits only), never from user input, so the names can
reach MariaDB statements, useradd and supervisord safely. Shared by provisioning, both site
servers and the teardown, which may run after the site's row is gone.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from django.conf import settings

# Linux keeps unix socket paths under 108 bytes.
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class SiteLayout:
    site_id: UUID

    @property
    def short(self) -> str:
        return self.site_id.hex[:16]

    # -- names ---------------------------------------------------------------------------------
    @property
    def db_name(self) -> str:
        return f"wp_{self.short}"

    @property
    def db_user(self) -> str:
        return f"wp_{self.short}"

    @property
    def unix_user(self) -> str:
        return f"bwp-{self.short}"

    @property
    def pool(self) -> str:
        """php-fpm's pool name: its workers are titled ``php-fpm: pool <name>``."""
        return f"site-{self.short}"

    @property
    def program(self) -> str:
        """The supervised php-fpm program (monitoring lists programs named php-fpm*)."""
        return f"php-fpm-{self.short}"

    # -- folders -------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return Path(settings.WORDPRESS_ROOT) / str(self.site_id)

    @property
    def htdocs(self) -> Path:
        """The document root: core files (hard links to the package's), wp-config.php and the
        site's own wp-content."""
        return self.root / "htdocs"

    @property
    def wp_content(self) -> Path:
        return self.htdocs / "wp-content"

    @property
    def wp_config(self) -> Path:
        return self.htdocs / "wp-config.php"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pool_config(self) -> Path:
        return self.root / "php-fpm.conf"

    @property
    def socket(self) -> Path:
        path = self.root.resolve() / "php-fpm.sock"
        if len(str(path)) <= MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"berth-wp-{digest}" / "php-fpm.sock"


def layout_for(site_id) -> SiteLayout:
    return SiteLayout(site_id if isinstance(site_id, UUID) else UUID(str(site_id)))
