"""A WordPress site's parts on this machine: its Unix user, folder, wp-config.php, php-fpm pool
configuration, and WordPress's own installer run through the PHP command line.

As root, each site gets a system user (``bwp-<id>``) that owns its wp-content and temporary
files and reads its wp-config.php (mode 0400); its pool runs as that user, so one site's PHP
cannot read another's configuration even without ``open_basedir``. Not as root (the embedded
default on a laptop), every pool runs as the panel's user and ``open_basedir`` is the only wall
between sites: docs/wordpress.md says so.
"""

from __future__ import annotations

import contextlib
import functools
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil
from django.conf import settings

from wordpress.layout import SiteLayout
from wordpress.login import plugin_write
from wordpress.maintenance import maintenance_plugin_write

# Core entries a site does not take from the package: its own config and content, and the
# package's Apache file.
OWN = {"wp-config.php", "wp-content", ".htaccess"}
# Folders outside the site that core's own symlinks point into (Debian links getID3, the CA
# bundle and two JavaScript libraries to their packages): readable, nothing secret.
SHARED_READ = (
    "/usr/share/php/",
    "/usr/share/javascript/",
    "/etc/ssl/certs/",
    "/usr/share/ca-certificates/",
)
DISABLED_FUNCTIONS = "exec,passthru,shell_exec,system,proc_open,popen,pcntl_exec,dl"
SALT_ALPHABET = string.ascii_letters + string.digits + "!#%&()*+,-./:;<=>?@[]^_{|}~"
SALTS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)


class SiteSetupError(Exception):
    """A step on this machine failed; the message is the reason shown on the site's page."""


def isolated() -> bool:
    """True when sites get their own Unix users (Berth runs as root)."""
    return os.geteuid() == 0


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/bin"):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


def core_version(core: Path | None = None) -> str:
    """The WordPress version of a core tree (``wp-includes/version.php``), or ""."""
    path = Path(core or settings.WORDPRESS_CORE) / "wp-includes" / "version.php"
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    match = re.search(r"\$wp_version\s*=\s*'([^']+)'", text)
    return match.group(1) if match else ""


@functools.lru_cache(maxsize=8)
def _php_version(binary: str, changed: float) -> str:
    try:
        done = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.match(r"PHP (\S+)", done.stdout)
    return match.group(1) if match else ""


def php_version() -> str:
    """The version of the php-fpm the pools run (``8.2.36``), or "" when it is missing; asked
    once per binary (again after a package upgrade replaced it)."""
    binary = find_binary(settings.WORDPRESS_PHP_FPM)
    if binary is None:
        return ""
    try:
        changed = os.stat(binary).st_mtime
    except OSError:
        return ""
    return _php_version(binary, changed)


# -- Unix user ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    name: str


def owner_for(layout: SiteLayout) -> Owner:
    """The user the site's PHP runs as: its own (created when missing) as root, else ours."""
    if not isolated():
        entry = pwd.getpwuid(os.geteuid())
        return Owner(entry.pw_uid, entry.pw_gid, "")
    try:
        entry = pwd.getpwnam(layout.unix_user)
    except KeyError:
        _run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                str(layout.root),
                "--shell",
                "/usr/sbin/nologin",
                layout.unix_user,
            ],
            "Could not create the site's Unix user",
        )
        entry = pwd.getpwnam(layout.unix_user)
    return Owner(entry.pw_uid, entry.pw_gid, layout.unix_user)


def user_remove(layout: SiteLayout) -> None:
    if not isolated():
        return
    try:
        pwd.getpwnam(layout.unix_user)
    except KeyError:
        return
    uid = pwd.getpwnam(layout.unix_user).pw_uid
    # Nothing may run as the user any more (a PHP request outliving its pool, say).
    procs = [
        p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid
    ]
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)
    _run(["userdel", layout.unix_user], "Could not remove the site's Unix user")
    try:
        grp.getgrnam(layout.unix_user)
    except KeyError:
        return
    _run(["groupdel", layout.unix_user], "Could not remove the site's group")


def user_exists(layout: SiteLayout) -> bool:
    try:
        pwd.getpwnam(layout.unix_user)
    except KeyError:
        return False
    return True


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SiteSetupError(f"{what}: {(done.stderr or done.stdout).strip()[:300]}")


# -- files -------------------------------------------------------------------------------------


def _link_tree(source: Path, target: Path, *, replace: bool = False) -> None:
    """Hard-link core into the site (a copy where links cannot be made): read-only to the site,
    and 2,800 links cost no disk. With ``replace``, a file that is not the package's current
    one (the package was upgraded since) is swapped for it atomically."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(source):
        if entry.name in OWN:
            continue
        dest = target / entry.name
        if entry.is_symlink():
            # Debian's relative links (into /usr/share/javascript, ...) made absolute.
            link = os.path.normpath(
                os.path.join(os.path.dirname(entry.path), os.readlink(entry.path))
            )
            if not dest.is_symlink() or (replace and os.readlink(dest) != link):
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
                dest.unlink(missing_ok=True)
                os.symlink(link, dest)
        elif entry.is_dir():
            if replace and (dest.is_symlink() or dest.is_file()):
                dest.unlink()
            _link_tree(Path(entry.path), dest, replace=replace)
        elif not dest.exists() and not dest.is_symlink():
            _link_file(entry.path, dest)
        elif replace and not _same_file(entry.path, dest):
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            tmp = dest.with_name(f".{dest.name}.berth-new")
            tmp.unlink(missing_ok=True)
            _link_file(entry.path, tmp)
            os.replace(tmp, dest)


def _link_file(source: str, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _same_file(source: str, dest: Path) -> bool:
    """The site's file is the package's: the same inode, or a copy with the same bytes."""
    try:
        if os.path.samefile(source, dest):
            return True
        if os.path.getsize(source) != os.path.getsize(dest) or dest.is_symlink():
            return False
        return Path(source).read_bytes() == dest.read_bytes()
    except OSError:
        return False


def _stale_remove(core: Path, htdocs: Path) -> int:
    """Remove core files the package no longer has (as WordPress's own updater does): under
    wp-admin and wp-includes, and WordPress's own top-level scripts. Returns how many."""
    removed = 0
    for folder in ("wp-admin", "wp-includes"):
        for current, dirs, files in os.walk(htdocs / folder, topdown=True):
            relative = Path(current).relative_to(htdocs)
            for name in list(dirs):
                if not (core / relative / name).exists():
                    shutil.rmtree(Path(current) / name, ignore_errors=True)
                    dirs.remove(name)
                    removed += 1
            for name in files:
                if not os.path.lexists(core / relative / name):
                    (Path(current) / name).unlink(missing_ok=True)
                    removed += 1
    for path in htdocs.glob("wp-*.php"):
        if path.name not in OWN and not os.path.lexists(core / path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def core_relink(layout: SiteLayout) -> int:
    """Bring the site's core to the package's current version: every file linked to the
    package's current one, files the package dropped removed. wp-content and wp-config.php are
    not touched. Returns how many stale files went."""
    core = Path(settings.WORDPRESS_CORE)
    if not core_version(core):
        raise SiteSetupError(f"WordPress core is not installed at {core}.")
    if not layout.htdocs.is_dir():
        raise SiteSetupError(f"The site's files are missing ({layout.htdocs}).")
    _link_tree(core, layout.htdocs, replace=True)
    return _stale_remove(core, layout.htdocs)


MAINTENANCE_FILE = ".maintenance"


def updating(layout: SiteLayout, on: bool) -> None:
    """WordPress's own maintenance file while its core changes: every request gets "briefly
    unavailable for scheduled maintenance" (503) instead of half-old, half-new code."""
    path = layout.htdocs / MAINTENANCE_FILE
    if on:
        path.write_text("<?php $upgrading = time(); ?>")
        os.chmod(path, 0o644)
    else:
        path.unlink(missing_ok=True)


def _chown_tree(path: Path, owner: Owner) -> None:
    if not isolated():
        return
    for folder, dirs, files in os.walk(path):
        os.chown(folder, owner.uid, owner.gid)
        for name in dirs + files:
            os.chown(os.path.join(folder, name), owner.uid, owner.gid, follow_symlinks=False)


def files_create(layout: SiteLayout, owner: Owner) -> None:
    """The site's folder: core linked in, its own wp-content (themes and plugins of the
    package, copied), temporary and log folders owned by the site's user."""
    core = Path(settings.WORDPRESS_CORE)
    layout.root.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.root, 0o755)  # noqa: S103 - the web servers read the static files
    _link_tree(core, layout.htdocs)
    os.chmod(layout.htdocs, 0o755)  # noqa: S103
    if not layout.wp_content.exists():
        work = layout.htdocs / ".wp-content.tmp"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(core / "wp-content", work, symlinks=False)
        (work / "uploads").mkdir(exist_ok=True)
        os.rename(work, layout.wp_content)
    plugins_write(layout)
    _chown_tree(layout.wp_content, owner)
    for folder in (layout.tmp, layout.logs):
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)
        if isolated():
            os.chown(folder, owner.uid, owner.gid)
    layout.socket.parent.mkdir(parents=True, exist_ok=True)


def plugins_write(layout: SiteLayout) -> None:
    """Berth's must-use plugins: "Log in to WordPress" from the panel, and maintenance mode."""
    plugin_write(layout.wp_content)
    maintenance_plugin_write(layout.wp_content)


def files_bytes(layout: SiteLayout) -> int:
    """Bytes of the site's own files: wp-content, configuration, logs, temporary files. Core's
    hard links to the package take no space of the site's and are not counted (a core copied
    where links could not be made is)."""
    total = 0
    for folder, _dirs, files in os.walk(layout.root):
        for name in files:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if (stat.st_mode & 0o170000) == 0o100000 and stat.st_nlink == 1:
                total += stat.st_size
    return total


def files_remove(layout: SiteLayout) -> None:
    shutil.rmtree(layout.root, ignore_errors=True)
    if layout.root.exists():
        raise SiteSetupError(f"Could not remove {layout.root}.")
    if layout.socket.parent != layout.root:
        shutil.rmtree(layout.socket.parent, ignore_errors=True)


def _php(value: str) -> str:
    """A single-quoted PHP string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _salts(layout: SiteLayout) -> str:
    """The keys and salts of the site's wp-config.php as they are (rewriting the file must not
    sign everyone out), new random ones for those missing."""
    try:
        current = layout.wp_config.read_text()
    except OSError:
        current = ""
    lines = []
    for name in SALTS:
        found = re.search(rf"^define\('{name}', ('(?:[^'\\]|\\.)*')\);$", current, re.M)
        if found:
            value = found.group(1)
        else:
            value = _php("".join(secrets.choice(SALT_ALPHABET) for _ in range(64)))
        lines.append(f"define({_php(name)}, {value});")
    return "\n".join(lines)


def wp_config_write(
    layout: SiteLayout,
    owner: Owner,
    *,
    db_host: str,
    db_password: str,
    default_url: str,
    login_key: str,
    debug: bool = False,
    maintenance: bool = False,
) -> None:
    """wp-config.php with the site's database, unique keys and salts (kept when the file is
    rewritten), debug and maintenance mode, and its address taken from the request's Host (the
    servers only pass this site's hostnames to its pool)."""
    if not layout.htdocs.is_dir():
        raise SiteSetupError(f"The site's files are missing ({layout.htdocs}).")
    salts = _salts(layout)
    flag = "true" if debug else "false"
    text = f"""<?php
// Written by Berth for this site; regenerated by Berth, edits are lost.
define('DB_NAME', {_php(layout.db_name)});
define('DB_USER', {_php(layout.db_user)});
define('DB_PASSWORD', {_php(db_password)});
define('DB_HOST', {_php(db_host)});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';

$berth_host = isset($_SERVER['HTTP_HOST']) ? $_SERVER['HTTP_HOST'] : '';
if (preg_match('/^[A-Za-z0-9.-]+(:[0-9]{{1,5}})?$/', $berth_host)) {{
    $berth_scheme = (!empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off') ? 'https' : 'http';
    define('WP_HOME', $berth_scheme . '://' . $berth_host);
}} else {{
    define('WP_HOME', {_php(default_url)});
}}
define('WP_SITEURL', WP_HOME);
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('FS_METHOD', 'direct');
define('WP_AUTO_UPDATE_CORE', false);
define('DISALLOW_FILE_EDIT', true);
define('BERTH_LOGIN_KEY', {_php(login_key)});
// Debug mode from the panel: errors shown on the pages (the pool lets them through) and
// logged to the site's logs folder, never to a file under wp-content.
define('WP_DEBUG', {flag});
define('WP_DEBUG_DISPLAY', {flag});
define('WP_DEBUG_LOG', false);
// Maintenance mode from the panel: visitors get 503 (Berth's must-use plugin), admins work.
define('BERTH_MAINTENANCE', {"true" if maintenance else "false"});
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""
    tmp = layout.wp_config.with_name(".wp-config.php.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if isolated():
        os.chown(tmp, owner.uid, owner.gid)
    os.replace(tmp, layout.wp_config)


def socket_group() -> int:
    name = settings.WORDPRESS_SOCKET_GROUP
    if name:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError as exc:
            raise SiteSetupError(f"WORDPRESS_SOCKET_GROUP {name!r} is not a group here.") from exc
    return os.getegid()


def pool_config_write(
    layout: SiteLayout,
    owner: Owner,
    *,
    memory_mb: int,
    upload_mb: int,
    max_seconds: int,
    debug: bool = False,
) -> None:
    """The php-fpm configuration of the site's own master and pool (root-owned, 0600): the
    PHP limits as admin values, which the site's code cannot raise."""
    group = grp.getgrgid(socket_group()).gr_name
    basedir = ":".join([f"{layout.htdocs}/", f"{layout.tmp}/", *SHARED_READ])
    lines = [
        "; Written by Berth for this site; regenerated by Berth, edits are lost.",
        "[global]",
        f"error_log = {layout.root}/php-fpm.log",
        "daemonize = no",
        "",
        f"[{layout.pool}]",
    ]
    if isolated():
        lines += [f"user = {owner.name}", f"group = {owner.name}"]
    lines += [
        f"listen = {layout.socket}",
        f"listen.owner = {pwd.getpwuid(os.geteuid()).pw_name}",
        f"listen.group = {group}",
        "listen.mode = 0660",
        "pm = ondemand",
        f"pm.max_children = {settings.WORDPRESS_MAX_CHILDREN}",
        "pm.process_idle_timeout = 30s",
        "pm.max_requests = 500",
        "chdir = /",
        "clear_env = yes",
        "catch_workers_output = yes",
        "security.limit_extensions = .php",
        f"request_terminate_timeout = {max_seconds + 30}s",
        f"php_admin_value[open_basedir] = {basedir}",
        f"php_admin_value[memory_limit] = {memory_mb}M",
        f"php_admin_value[upload_max_filesize] = {upload_mb}M",
        f"php_admin_value[post_max_size] = {upload_mb + 1}M",
        f"php_admin_value[max_execution_time] = {max_seconds}",
        f"php_admin_value[upload_tmp_dir] = {layout.tmp}",
        f"php_admin_value[sys_temp_dir] = {layout.tmp}",
        f"php_admin_value[session.save_path] = {layout.tmp}",
        f"php_admin_value[error_log] = {layout.logs}/php-error.log",
        "php_admin_flag[log_errors] = on",
        f"php_admin_flag[display_errors] = {'on' if debug else 'off'}",
        "php_admin_flag[allow_url_include] = off",
        "php_admin_flag[expose_php] = off",
        f"php_admin_value[disable_functions] = {DISABLED_FUNCTIONS}",
        "",
    ]
    for line in lines:
        if "\n" in line or "\r" in line:
            raise SiteSetupError("A pool setting may not span lines.")
    tmp = layout.pool_config.with_name(".php-fpm.conf.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines))
    os.replace(tmp, layout.pool_config)


def pool_command(layout: SiteLayout) -> list[str]:
    """php-fpm in the foreground, started through ``wordpress.poolrun`` (which first ends the
    workers of a master that crashed)."""
    binary = find_binary(settings.WORDPRESS_PHP_FPM) or settings.WORDPRESS_PHP_FPM
    fpm = [binary, "--nodaemonize", "--fpm-config", str(layout.pool_config)]
    return [sys.executable, "-m", "wordpress.poolrun", layout.pool, *fpm]


# -- WordPress's installer ---------------------------------------------------------------------

INSTALLER = r"""<?php
// WordPress's own installer (wp_install), run once by Berth through the PHP command line.
$input = json_decode(stream_get_contents(STDIN), true);
$_SERVER['HTTP_HOST'] = $input['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);
function wp_new_blog_notification($title, $url, $user_id, $password) {}
require $input['htdocs'] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
if (is_blog_installed()) {
    echo json_encode(['installed' => false, 'version' => $GLOBALS['wp_version']]);
    exit(0);
}
$result = wp_install(
    $input['title'], $input['user'], $input['email'], true, '', wp_slash($input['password'])
);
if (is_wp_error($result)) {
    fwrite(STDERR, $result->get_error_message());
    exit(2);
}
update_option('permalink_structure', '/%postname%/');
echo json_encode(['installed' => true, 'version' => $GLOBALS['wp_version']]);
"""


ADMIN_CREDENTIAL_SCRIPT = r"""<?php
// Set the password of the site's administrator (WordPress hashes it), run by Berth.
$input = json_decode(stream_get_contents(STDIN), true);
$_SERVER['HTTP_HOST'] = $input['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
require $input['htdocs'] . '/wp-load.php';
$user = get_user_by('login', $input['user']);
if (!$user || !user_can($user, 'manage_options')) {
    $admins = get_users(array('role' => 'administrator', 'orderby' => 'ID', 'number' => 1));
    $user = $admins ? $admins[0] : null;
}
if (!$user) {
    fwrite(STDERR, 'This site has no administrator.');
    exit(2);
}
wp_set_password($input['password'], $user->ID);
echo json_encode(['user' => $user->user_login]);
"""


UPGRADER = r"""<?php
// WordPress's own database upgrade (wp_upgrade) after its core files changed, run by Berth.
$input = json_decode(stream_get_contents(STDIN), true);
$_SERVER['HTTP_HOST'] = $input['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);
require $input['htdocs'] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_upgrade();
echo json_encode([
    'version' => $GLOBALS['wp_version'],
    'db_version' => (int) get_option('db_version'),
]);
"""


def wordpress_upgrade(layout: SiteLayout, owner: Owner, *, host: str) -> str:
    """Run WordPress's database upgrade for the core now in the site; returns its version."""
    result = run_php(layout, owner, UPGRADER, {"host": host}, what="WordPress's upgrade")
    if "version" not in result:
        raise SiteSetupError(f"WordPress's upgrade said: {json.dumps(result)[:300]}")
    return str(result["version"])


def run_php(
    layout: SiteLayout,
    owner: Owner,
    script: str,
    payload: dict,
    *,
    what: str,
    timeout: int = 300,
) -> dict:
    """Run a PHP script of Berth's against the site, as the site's user and inside its
    ``open_basedir``; returns the JSON object it prints last. Secrets travel on stdin, never
    on the command line. Raises ``SiteSetupError`` naming ``what`` failed, and why."""
    php = find_binary(settings.WORDPRESS_PHP)
    if php is None:
        raise SiteSetupError(f"The PHP command line ({settings.WORDPRESS_PHP}) is not installed.")
    if not layout.htdocs.is_dir() or not layout.tmp.is_dir():
        raise SiteSetupError(f"The site's files are missing ({layout.root}).")
    path = layout.tmp / f"berth-{secrets.token_hex(8)}.php"
    path.write_text(script)
    os.chmod(path, 0o444)
    basedir = ":".join([f"{layout.htdocs}/", f"{layout.tmp}/", *SHARED_READ])
    kwargs = {}
    if isolated():
        kwargs = {"user": owner.uid, "group": owner.gid, "extra_groups": []}
    try:
        done = subprocess.run(
            [php, "-d", f"open_basedir={basedir}", "-d", "display_errors=stderr", str(path)],
            input=json.dumps({"htdocs": str(layout.htdocs), **payload}),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=layout.tmp,
            env={"PATH": "/usr/bin:/bin", "HOME": str(layout.tmp)},
            **kwargs,
        )
    except subprocess.TimeoutExpired as exc:
        raise SiteSetupError(f"{what} did not finish within {timeout} s.") from exc
    finally:
        path.unlink(missing_ok=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SiteSetupError(f"{what} failed: " + (detail[-1][:300] if detail else "no output"))
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise SiteSetupError(f"{what} said: {done.stdout.strip()[:300]}") from exc
    if not isinstance(result, dict):
        raise SiteSetupError(f"{what} said: {done.stdout.strip()[:300]}")
    return result


def wordpress_install(
    layout: SiteLayout,
    owner: Owner,
    *,
    host: str,
    title: str,
    user: str,
    email: str,
    password: str,
) -> str:
    """Run ``wp_install`` as the site's user; returns the version installed (idempotent: an
    installed site is left as it is)."""
    payload = {"host": host, "title": title, "user": user, "email": email, "password": password}
    result = run_php(layout, owner, INSTALLER, payload, what="WordPress's installer")
    if "version" not in result:
        raise SiteSetupError(f"WordPress's installer said: {json.dumps(result)[:300]}")
    return str(result["version"])


def admin_password_set(layout: SiteLayout, owner: Owner, *, host: str, user: str, password: str):
    """Set the administrator's password in the site's WordPress (``user``, or the first
    administrator when that login is gone); returns the login whose password changed."""
    payload = {"host": host, "user": user, "password": password}
    result = run_php(layout, owner, ADMIN_CREDENTIAL_SCRIPT, payload, what="Setting the password")
    return str(result.get("user", user))
