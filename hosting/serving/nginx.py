"""Rendering the edge's nginx configuration from routes, site states and deployment rules.

One ``server`` per site (its plain-HTTP hostnames together), one per hostname with a
certificate (HTTPS, its HTTP twin answering ACME and redirecting), one per redirecting
hostname, and a default server answering 404. The contract of ``hosting.serving.resolve``
becomes locations: forced rules as regex locations in file order, then the static lookup
(``try_files``), then ordinary rules as ``if`` blocks in a named location.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from hosting.serving import http as h
from hosting.serving.rules import HeaderBlock, Redirect

_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class PhpSite:
    """A WordPress site: its document root and its php-fpm pool's socket."""

    htdocs: str
    socket: str
    upload_mb: int
    timeout_seconds: int


@dataclass
class EdgeSite:
    site_id: UUID
    status: str
    deployment_id: UUID | None
    hostnames: list[str] = field(default_factory=list)  # served over plain HTTP
    secure: list[tuple[str, tuple[str, str]]] = field(default_factory=list)  # (host, (cert, key))
    redirects: list[Redirect] = field(default_factory=list)
    headers: list[HeaderBlock] = field(default_factory=list)
    php: PhpSite | None = None
    # The name under ``live/`` serving it: the site id, or ``d-<deployment id>`` for one
    # deployment's own address.
    link: str = ""
    slug: str = ""
    # The secret of the site's protected previews (hosting.preview_lock); empty when open.
    preview_lock: str = ""
    # Bytes a second each response is served at (a plan's bandwidth overage); None: full speed.
    rate_limit: int | None = None

    @property
    def live_name(self) -> str:
        return self.link or str(self.site_id)

    @property
    def offline(self) -> bool:
        return self.status in ("offline", "error", "suspended")


@dataclass
class EdgeRedirect:
    hostname: str
    target: str
    certificate: tuple[str, str] | None = None


@dataclass
class EdgeOptions:
    root: Path
    listen: str = "80"
    listen_tls: str = "443"
    user: str = ""
    brotli_module: str = ""
    pid: str = ""
    access_log: str = ""
    error_log: str = ""
    worker_processes: str = "auto"
    # Serve ``<short id or preview>--<slug>.<this>`` from ``live/<label>--<slug>`` (deployment
    # and preview addresses: one server block, a symlink each, no reload per deploy).
    deployments_domain: str = ""
    # Where a protected preview's visitor unlocks it (the panel).
    panel_url: str = ""


def q(value: str) -> str:
    """A double-quoted nginx string (callers have refused quotes, backslashes and ``$``)."""
    return '"' + value + '"'


def _target(template: str, source_regex: str, *, keep_query: bool) -> str:
    names = set(re.findall(r"\(\?P<b_([A-Za-z0-9_]+)>", source_regex))

    def fill(match: re.Match) -> str:
        name = match.group(1)
        return "${b_" + name + "}" if name in names else match.group(0)

    out = _PLACEHOLDER.sub(fill, template)
    if keep_query and "?" not in template:
        out += "$is_args$args"
    return out


def _action(rule: Redirect) -> str:
    if rule.status in (200, 404):
        prefix = "/.berth-internal/rw" if rule.status == 200 else "/.berth-internal/r404"
        return f"rewrite ^ {q(prefix + _target(rule.target, rule.regex, keep_query=False))} last;"
    return f"return {rule.status} {q(_target(rule.target, rule.regex, keep_query=True))};"


def _site_body(site: EdgeSite, n: int, opts: EdgeOptions, maps: list[str]) -> list[str]:
    root = opts.root
    lines = [
        f"root {root}/live/{site.live_name};",
        # The deployment addresses' block knows its site by the slug in the host name.
        "set $berth_site $berth_dsite;"
        if site.link.startswith("$")
        else f"set $berth_site {site.site_id};",
        "recursive_error_pages on;",
    ]
    if site.headers:
        # _headers match the path asked for; internal redirects change $uri, so keep it
        # (only where needed: this costs about a microsecond a request).
        lines.append('if ($berth_path = "") { set $berth_path $uri; }')
    acme = (
        "location ^~ /.well-known/acme-challenge/ "
        f"{{ root {root}/acme; default_type text/plain; try_files $uri =404; }}"
    )
    if site.offline:
        page = "suspended" if site.status == "suspended" else "503"
        return [
            *lines,
            f"add_header Cache-Control {q(h.CACHE_NO_STORE)} always;",
            "error_page 503 /.berth-internal/503;",
            acme,
            f"location = /.berth-internal/503 {{ internal; root {root}/pages; "
            f"rewrite ^ /{page}.html break; }}",
            "location / { return 503; }",
        ]
    if site.link.startswith("$"):  # the deployment addresses' block: per site, by slug
        lines += _lock_lines("$berth_lock", opts)
    elif site.link and site.preview_lock:  # one deployment's own block
        lines += _lock_lines(q(site.preview_lock), opts)
    throttle = [f"limit_rate {int(site.rate_limit)};"] if site.rate_limit else []
    if site.php is not None:  # its own root: the site's folder, not a deployment tree
        return [f"set $berth_site {site.site_id};", *throttle, *_php_body(site.php, acme)]
    lines += throttle
    # Cache-Control: ours unless a matching _headers block sets its own.
    cc_var = "$berth_cc"
    overriding = [
        b for b in site.headers if any(k.lower() == "cache-control" for k, _ in b.headers)
    ]
    if overriding:
        cc_var = f"$berth_cc_{n}"
        entries = "".join(f"    {q('~' + b.regex)} {q('')};\n" for b in overriding)
        maps.append(f"map $berth_path {cc_var} {{\n{entries}    default $berth_cc;\n}}")
    lines.append(f"add_header Cache-Control {cc_var} always;")
    for i, block in enumerate(site.headers):
        for j, (name, value) in enumerate(block.headers):
            var = f"$berth_{n}_{i}_{j}"
            maps.append(
                f"map $berth_path {var} {{ {q('~' + block.regex)} {q(value)}; default {q('')}; }}"
            )
            lines.append(f"add_header {name} {var} always;")
    # Named locations are reached from try_files, with $uri still the path asked for.
    ordinary = [
        f"    if ($uri ~ {q(r.regex)}) {{ {_action(r)} }}" for r in site.redirects if not r.force
    ]
    lines += [
        "error_page 404 /.berth-internal/404;",
        acme,
        "location = /.berth-internal/404 { internal; try_files /404.html @berth_404; }",
        f"location @berth_404 {{ root {root}/pages; rewrite ^ /404.html break; }}",
        'location ~ "^/\\.berth-internal/rw(?<berth_t>/.*)$" '
        "{ internal; try_files $berth_t $berth_t.html $berth_t/index.html =404; }",
        'location ~ "^/\\.berth-internal/r404(?<berth_t>/.*)$" '
        "{ internal; error_page 404 /.berth-internal/rw$berth_t; return 404; }",
        'location ~ "^/\\.berth-internal/" { internal; }',
    ]
    for rule in site.redirects:
        if rule.force:
            lines.append(f"location ~ {q(rule.regex)} {{ {_action(rule)} }}")
    lines += [
        "location ~ /$ { try_files ${uri}index.html @berth_miss; }",
        "location / { try_files $uri $uri.html @berth_dir; }",
        "location @berth_dir {",
        "    if (-f $request_filename/index.html) { return 301 $uri/$is_args$args; }",
        *ordinary,
        "    return 404;",
        "}",
        "location @berth_miss {",
        *ordinary,
        "    return 404;",
        "}",
    ]
    return lines


# A request limit on WordPress's login form, per client address (password guessing).
LOGIN_ZONE = "limit_req_zone $binary_remote_addr zone=berth_wp_login:10m rate=30r/m;"


def _fastcgi(php: PhpSite) -> str:
    params = {
        "SCRIPT_FILENAME": "$document_root$fastcgi_script_name",
        "SCRIPT_NAME": "$fastcgi_script_name",
        "QUERY_STRING": "$query_string",
        "REQUEST_METHOD": "$request_method",
        "CONTENT_TYPE": "$content_type",
        "CONTENT_LENGTH": "$content_length",
        "REQUEST_URI": "$request_uri",
        "DOCUMENT_URI": "$document_uri",
        "DOCUMENT_ROOT": "$document_root",
        "SERVER_PROTOCOL": "$server_protocol",
        "REQUEST_SCHEME": "$scheme",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "berth",
        "REMOTE_ADDR": "$remote_addr",
        "REMOTE_PORT": "$remote_port",
        "SERVER_ADDR": "$server_addr",
        "SERVER_PORT": "$server_port",
        "SERVER_NAME": "$host",
        "HTTP_PROXY": "",  # httpoxy
    }
    parts = [f"fastcgi_pass {q('unix:' + php.socket)};"]
    parts += [f"fastcgi_param {name} {q(value)};" for name, value in params.items()]
    parts.append('fastcgi_param HTTPS "$https" if_not_empty;')
    parts.append(f"fastcgi_read_timeout {php.timeout_seconds}s;")
    return " ".join(parts)


def _php_body(php: PhpSite, acme: str) -> list[str]:
    """A WordPress site: static files from its folder, PHP to its pool, the same rules as the
    embedded server (wordpress/serving.py)."""
    fastcgi = _fastcgi(php)
    return [
        f"root {q(php.htdocs)};",
        "index index.php index.html;",
        f"client_max_body_size {php.upload_mb + 1}m;",
        acme,
        "location = /xmlrpc.php { return 403; }",
        "location = /wp-config.php { return 404; }",
        'location ~ "/\\.(?!well-known/)" { return 404; }',
        'location ~* "^/wp-content/uploads/.*\\.(php[0-9]?|phtml|phar)$" { return 403; }',
        "location = /wp-login.php { limit_req zone=berth_wp_login burst=10 nodelay; "
        f"limit_req_status 429; {fastcgi} }}",
        f'location ~ "\\.php$" {{ try_files $uri =404; {fastcgi} }}',
        "location / { try_files $uri $uri/ /index.php$is_args$args; }",
    ]


def _server(listen: list[str], names: list[str], body: list[str]) -> str:
    inner = [*(f"listen {item};" for item in listen), f"server_name {' '.join(names)};", *body]
    return "server {\n" + "".join(f"    {line}\n" for line in inner) + "}\n"


def _tls(cert: tuple[str, str]) -> list[str]:
    # The certificate's digest is part of the text, so a renewal written over the same paths
    # still changes the config and nginx reloads to pick it up.
    try:
        digest = hashlib.sha256(Path(cert[0]).read_bytes()).hexdigest()[:16]
    except OSError:
        digest = "missing"
    return [
        f"# certificate {digest}",
        f"ssl_certificate {q(cert[0])};",
        f"ssl_certificate_key {q(cert[1])};",
    ]


def _redirect_to_https(root: Path) -> list[str]:
    return [
        'set $berth_site "";',
        "location ^~ /.well-known/acme-challenge/ "
        f"{{ root {root}/acme; default_type text/plain; try_files $uri =404; }}",
        "location / { return 301 https://$host$request_uri; }",
    ]


# A protected preview (hosting.preview_lock): nginx's secure_link checks the cookie signed for
# this host; a visitor without one goes to the panel, which sends them back through the unlock
# link that sets it. Checked at the server level, before any location; an empty secret means
# the previews are open.
def _lock_lines(secret: str, opts: EdgeOptions) -> list[str]:
    from hosting import preview_lock as lock

    unlock = (
        f"^{re.escape(lock.UNLOCK_PREFIX)}(?<berth_sig>{lock.SIGNATURE_PATTERN})/"
        f"(?<berth_exp>{lock.EXPIRES_PATTERN})(?<berth_next>{lock.NEXT_PATTERN})$"
    )
    cookie = "Path=/; HttpOnly; SameSite=Lax$berth_secure"
    md5 = 'secure_link_md5 "$secure_link_expires$host $berth_secret";'
    return [
        f"set $berth_secret {secret};",
        "set $berth_need $berth_secret;",
        'set $berth_unlock "";',
        f'set $berth_signed "$cookie_{lock.COOKIE},$cookie_{lock.COOKIE_EXPIRES}";',
        'if ($uri ~ "^/\\.berth-internal/") { set $berth_need ""; }',
        # The unlock link is checked instead of the cookie ($secure_link is computed once).
        f"if ($request_uri ~ {q(unlock)}) {{ "
        'set $berth_need ""; set $berth_unlock 1; set $berth_signed "$berth_sig,$berth_exp"; }',
        "secure_link $berth_signed;",
        md5,
        'if ($secure_link = "1") { set $berth_need ""; }',
        "if ($berth_need) { return 302 "
        + q(f"{opts.panel_url}{lock.PANEL_PATH}?host=$host&next=$request_uri")
        + "; }",
        f"location ^~ {lock.UNLOCK_PREFIX} {{",
        '    if ($berth_unlock = "") { return 404; }',
        '    if ($secure_link != "1") { return 403; }',
        f'    add_header Set-Cookie "{lock.COOKIE}=$berth_sig; {cookie}" always;',
        f'    add_header Set-Cookie "{lock.COOKIE_EXPIRES}=$berth_exp; {cookie}" always;',
        f"    add_header Cache-Control {q(h.CACHE_NO_STORE)} always;",
        "    return 302 $berth_next;",
        "}",
    ]


def _down_page(site: EdgeSite) -> str:
    return "suspended" if site.status == "suspended" else "503"


def _map(source: str, target: str, entries: list[tuple[str, str]]) -> str:
    lines = "".join(f"    {q(key)} {q(value)};\n" for key, value in entries)
    return f"map {source} {target} {{\n    default {q('')};\n{lines}}}"


def render(sites: list[EdgeSite], redirects: list[EdgeRedirect], opts: EdgeOptions) -> str:
    """The whole nginx.conf of the edge (deterministic: same input, same text)."""
    root = opts.root
    maps: list[str] = []
    servers: list[str] = []
    tls = f"{opts.listen_tls} ssl"
    for n, site in enumerate(sorted(sites, key=lambda s: (str(s.site_id), s.link))):
        site_maps: list[str] = []
        body = _site_body(site, n, opts, site_maps)
        maps.extend(site_maps)
        if site.hostnames:
            servers.append(_server([opts.listen], sorted(site.hostnames), body))
        for hostname, cert in sorted(site.secure):
            servers.append(_server([tls], [hostname], _tls(cert) + body))
            servers.append(_server([opts.listen], [hostname], _redirect_to_https(root)))
    for red in sorted(redirects, key=lambda r: r.hostname):
        body = [
            'set $berth_site "";',
            "location ^~ /.well-known/acme-challenge/ "
            f"{{ root {root}/acme; default_type text/plain; try_files $uri =404; }}",
            f"location / {{ return 301 $scheme://{red.target}$request_uri; }}",
        ]
        servers.append(_server([opts.listen], [red.hostname], body))
        if red.certificate:
            servers.append(_server([tls], [red.hostname], _tls(red.certificate) + body))
    if opts.deployments_domain:
        # Exact names are matched first, so a site's own or custom hostname always wins.
        domain = re.escape(opts.deployments_domain)
        name = q(f"~^(?<berth_dl>[a-z0-9-]+?--(?<berth_ds>[a-z0-9-]+))\\.{domain}$")
        own = EdgeSite(UUID(int=0), "online", None, link="$berth_dl")
        # Per site, by its slug: a protected preview's secret, and the page of an offline one
        # (its addresses answer 503 as its own address does, not 404).
        locks = sorted((s.slug, s.preview_lock) for s in sites if s.slug and s.preview_lock)
        down = sorted((s.slug, _down_page(s)) for s in sites if s.slug and s.offline)
        by_slug = sorted({(s.slug, str(s.site_id)) for s in sites if s.slug})
        maps.append(_map("$berth_ds", "$berth_dsite", by_slug))
        maps.append(_map("$berth_ds", "$berth_lock", locks))
        maps.append(_map("$berth_ds", "$berth_down", down))
        body = [
            'set $berth_gate "$berth_down";',
            'if ($uri = "/.berth-internal/down") { set $berth_gate ""; }',
            "if ($berth_gate) { return 503; }",
            "error_page 503 /.berth-internal/down;",
            f"location = /.berth-internal/down {{ internal; root {root}/pages; "
            f"add_header Cache-Control {q(h.CACHE_NO_STORE)} always; "
            "rewrite ^ /$berth_down.html break; }",
            *_site_body(own, len(sites), opts, maps),
        ]
        servers.append(_server([opts.listen], [name], body))
    default = [
        'set $berth_site "";',
        'set $berth_path "";',
        f"add_header Cache-Control {q(h.CACHE_NO_STORE)} always;",
        "error_page 404 /.berth-internal/404;",
        "location = /.berth-internal/404 "
        f"{{ internal; root {root}/pages; rewrite ^ /404.html break; }}",
        "location / { return 404; }",
    ]
    servers.append(_server([f"{opts.listen} default_server"], ["_"], default))

    types = "".join(f"        {q(ctype)} {ext};\n" for ext, ctype in h.content_types().items())
    fingerprint = "~^(?:" + "|".join(str(s) for s in h.IMMUTABLE_STATUSES) + ") .*" + h.FINGERPRINT
    head = []
    if opts.brotli_module:
        head.append(f"load_module {opts.brotli_module};")
    if opts.user:
        head.append(f"user {opts.user};")
    head += [
        "pcre_jit on;",
        f"worker_processes {opts.worker_processes};",
        f"pid {opts.pid or root / 'nginx' / 'nginx.pid'};",
        f"error_log {opts.error_log or root / 'logs' / 'error.log'} warn;",
        "events { worker_connections 4096; }",
    ]
    temp = root / "tmp"
    http = [
        "types {",
        types.rstrip("\n"),
        "    }",
        f"default_type {h.DEFAULT_TYPE};",
        "types_hash_max_size 4096;",
        "types_hash_bucket_size 128;",
        "map_hash_bucket_size 128;",
        "server_names_hash_bucket_size 128;",
        "server_names_hash_max_size 65536;",
        "server_tokens off;",
        "absolute_redirect off;",
        "max_ranges 1;",
        "sendfile on;",
        "tcp_nopush on;",
        "keepalive_requests 10000;",
        "gzip_static on;",
        "gzip_vary on;",
        "gzip_proxied any;",
        *(["brotli_static on;"] if opts.brotli_module else []),
        "open_file_cache off;",
        f"client_body_temp_path {temp}/body;",
        f"proxy_temp_path {temp}/proxy;",
        f"fastcgi_temp_path {temp}/fastcgi;",
        f"uwsgi_temp_path {temp}/uwsgi;",
        f"scgi_temp_path {temp}/scgi;",
        "log_format berth escape=json " + q(_log_format()) + ";",
        f"access_log {opts.access_log or root / 'logs' / 'access.log'} berth buffer=64k flush=1s;",
        f"map {q('$status $uri')} $berth_cc {{ {q(fingerprint)} {q(h.CACHE_IMMUTABLE)}; "
        f"default {q(h.CACHE_REVALIDATE)}; }}",
        "uninitialized_variable_warn off;",
        f"map $scheme $berth_secure {{ https {q('; Secure')}; default {q('')}; }}",
        *([LOGIN_ZONE] if any(site.php for site in sites) else []),
        *maps,
        f"include {root}/nginx/conf.d/*.conf;",
    ]
    text = "# Rendered by Berth's edge_sync; edits are overwritten.\n"
    text += "\n".join(head) + "\n"
    text += "http {\n" + "".join(f"    {line}\n" for line in "\n".join(http).splitlines())
    text += "".join("    " + line + "\n" for s in servers for line in s.splitlines())
    return text + "}\n"


def _log_format() -> str:
    from hosting.serving.bandwidth import LOG_FORMAT

    return LOG_FORMAT.replace('"', '\\"')
