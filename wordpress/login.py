"""One-time, short-lived links that log the owner in to their WordPress as its administrator.

The panel signs ``<expires>.<nonce>`` with a key only the site's wp-config.php and Berth know
(HMAC of SECRET_KEY and the site's id); Berth's must-use plugin in the site checks the
signature and the expiry, refuses a nonce it has seen, and sets WordPress's own login cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

LIFETIME = 60  # seconds a link stays valid
PARAMETER = "berth_login"

PLUGIN = r"""<?php
/*
 * Plugin Name: Berth login
 * Description: One-time links from the Berth panel that log its owner in (written by Berth).
 */
add_action('init', function () {
    if (!isset($_GET['berth_login']) || !defined('BERTH_LOGIN_KEY')) {
        return;
    }
    $parts = explode('.', (string) $_GET['berth_login']);
    $refuse = function ($why) {
        wp_die(esc_html($why) . ' Ask the panel for a new link.', 'Link refused', 403);
    };
    if (count($parts) !== 3 || !ctype_digit($parts[0]) || !ctype_alnum($parts[1])) {
        $refuse('This login link is damaged.');
    }
    list($expires, $nonce, $signature) = $parts;
    $expected = hash_hmac('sha256', $expires . '.' . $nonce, BERTH_LOGIN_KEY);
    if (!hash_equals($expected, $signature)) {
        $refuse('This login link is not valid.');
    }
    if ((int) $expires < time() || (int) $expires > time() + 300) {
        $refuse('This login link has expired.');
    }
    // One use: add_option fails when the nonce was stored before.
    if (!add_option('berth_login_' . $nonce, (int) $expires, '', 'no')) {
        $refuse('This login link was used already.');
    }
    $admins = get_users(array('role' => 'administrator', 'orderby' => 'ID', 'number' => 1));
    if (!$admins) {
        $refuse('This site has no administrator.');
    }
    wp_set_auth_cookie($admins[0]->ID, false, is_ssl());
    wp_safe_redirect(admin_url());
    exit;
});
"""


def login_key(site_id) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"wordpress-login:{site_id}".encode(), hashlib.sha256
    ).hexdigest()


@dataclass(frozen=True)
class LoginLink:
    url: str
    expires_at: float


def login_link(*, site_id, site_url: str, now: float | None = None) -> LoginLink:
    expires = int((now or time.time()) + LIFETIME)
    nonce = secrets.token_hex(16)
    signed = f"{expires}.{nonce}"
    signature = hmac.new(login_key(site_id).encode(), signed.encode(), hashlib.sha256).hexdigest()
    return LoginLink(f"{site_url}/wp-login.php?{PARAMETER}={signed}.{signature}", expires)


def plugin_write(wp_content: Path) -> None:
    folder = wp_content / "mu-plugins"
    folder.mkdir(exist_ok=True)
    (folder / "berth-login.php").write_text(PLUGIN)
