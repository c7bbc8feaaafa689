"""Maintenance mode of a WordPress site, switched from the panel.

WordPress's own ``.maintenance`` file shuts everyone out, admins included, and lapses after ten
minutes; the owner wants visitors kept out while they work. So ``wp-config.php`` defines
``BERTH_MAINTENANCE`` and this must-use plugin answers the public pages with 503 and a
Retry-After for everyone but the site's administrators; wp-admin and the login page still work.
"""

from __future__ import annotations

from pathlib import Path

PLUGIN = r"""<?php
/*
 * Plugin Name: Berth maintenance mode
 * Description: While maintenance mode is on in the Berth panel, visitors get a 503 page and
 * administrators see the site as usual (written by Berth).
 */
add_action('template_redirect', function () {
    if (!defined('BERTH_MAINTENANCE') || !BERTH_MAINTENANCE || current_user_can('manage_options')) {
        return;
    }
    header('Retry-After: 600');
    nocache_headers();
    wp_die(
        '<h1>Down for maintenance</h1><p>This site is being worked on. Please come back soon.</p>',
        'Down for maintenance',
        array('response' => 503)
    );
});
"""


def maintenance_plugin_write(wp_content: Path) -> None:
    folder = wp_content / "mu-plugins"
    folder.mkdir(exist_ok=True)
    (folder / "berth-maintenance.php").write_text(PLUGIN)
