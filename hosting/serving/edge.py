"""The production edge: materialised trees of live deployments plus a rendered nginx config.

Layout under ``EDGE_ROOT``::

    blobs/ab/cd/<digest>[.gz|.br]   local copies of blobs (hard links to the blob store when it
                                    is on the same disk, else copied or downloaded once); their
                                    mtime is the blob's first-publish time, so nginx's ETag and
                                    Last-Modified equal the embedded server's
    sites/<deployment-id>/...       one tree per deployment, hard links into blobs/ (immutable)
    live/<site-id>                  symlink to ../sites/<deployment-id>, swapped with rename(2)
    rules/<deployment-id>.json      the deployment's parsed _redirects and _headers
    pages/404.html, 503.html        Berth's own error pages
    acme/.well-known/acme-challenge/  HTTP-01 answers (written by the domains app)
    nginx/nginx.conf                rendered; nginx is reloaded only when its text changes
    logs/access.log                 JSON lines read for bandwidth

A deployment switch is a symlink swap: no reload. Hostnames, certificates, a site going
offline, or a deployment whose ``_redirects``/``_headers`` differ change the config text, and
only then is nginx tested and reloaded.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID

from django.conf import settings

from deployments.blobs import BlobStore
from hosting.serving import http as h
from hosting.serving.nginx import EdgeOptions, EdgeRedirect, EdgeSite, PhpSite, render
from hosting.serving.resolve import Release, local_blob_path
from hosting.serving.rules import HeaderBlock, Redirect
from hosting.serving.store import SUSPENDED, load_release, serving_status
from wordpress.layout import layout_for

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    trees_built: int = 0
    links_swapped: int = 0
    reloaded: bool = False
    config_changed: bool = False
    pruned: int = 0
    problems: list[str] = field(default_factory=list)


def edge_options() -> EdgeOptions:
    root = Path(settings.EDGE_ROOT)
    return EdgeOptions(
        root=root,
        listen=settings.EDGE_LISTEN,
        listen_tls=settings.EDGE_LISTEN_TLS,
        user=settings.EDGE_NGINX_USER,
        brotli_module=settings.EDGE_BROTLI_MODULE,
        access_log=str(edge_access_log()),
        deployments_domain=settings.SITES_DOMAIN,
        panel_url=settings.PANEL_URL,
    )


def edge_config_path() -> Path:
    return Path(settings.EDGE_CONFIG or Path(settings.EDGE_ROOT) / "nginx" / "nginx.conf")


def edge_access_log() -> Path:
    return Path(settings.EDGE_ACCESS_LOG or Path(settings.EDGE_ROOT) / "logs" / "access.log")


class Edge:
    def __init__(self, root: Path | None = None, store: BlobStore | None = None):
        self.root = Path(root or settings.EDGE_ROOT)
        self.store = store or BlobStore()
        for sub in ("blobs", "sites", "live", "rules", "pages", "logs", "tmp", "nginx/conf.d"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "acme" / ".well-known" / "acme-challenge").mkdir(parents=True, exist_ok=True)
        self._pages()

    def _pages(self) -> None:
        for status in (404, 503, "suspended"):
            target = self.root / "pages" / f"{status}.html"
            body = h.own_page(status)
            if not target.exists() or target.read_bytes() != body:
                self._write_atomic(target, body)
            os.utime(target, (h.PAGE_MTIME, h.PAGE_MTIME))

    @staticmethod
    def _write_atomic(target: Path, data: bytes) -> None:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    # --- blobs ----------------------------------------------------------------------------
    def cached_blob(self, digest: str, variant: str, mtime: int) -> Path:
        """The blob in the local cache, fetched once (hard link, copy or download)."""
        path = self.root / "blobs" / BlobStore.key(digest, variant)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        source = local_blob_path(self.store, digest, variant)
        if source is not None:
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
        else:
            with self.store.open(digest, variant) as handle, open(tmp, "wb") as out:
                shutil.copyfileobj(handle, out, 1024 * 1024)
        os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)
        return path

    def _link(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError as exc:
            if exc.errno not in (errno.EMLINK, errno.EXDEV, errno.EPERM):
                raise
            shutil.copy2(source, target)

    # --- trees ----------------------------------------------------------------------------
    def tree(self, deployment_id: UUID) -> Path:
        return self.root / "sites" / str(deployment_id)

    def build_tree(self, release: Release) -> bool:
        """Materialise a deployment (once: trees are immutable); True when built now."""
        final = self.tree(release.deployment_id)
        if final.is_dir():
            return False
        work = self.root / "sites" / f".{release.deployment_id}.{os.getpid()}.tmp"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for path, entry in release.files.items():
            self._link(self.cached_blob(entry.digest, "", entry.mtime), work / path)
            for suffix, size in ((".gz", entry.gzip_size), (".br", entry.brotli_size)):
                if size is not None and path + suffix not in release.files:
                    blob = self.cached_blob(entry.digest, suffix, entry.mtime)
                    self._link(blob, work / (path + suffix))
        rules = {
            "redirects": [asdict(r) for r in release.redirects],
            "headers": [asdict(b) for b in release.headers],
            "problems": release.problems,
        }
        self._write_atomic(
            self.root / "rules" / f"{release.deployment_id}.json", json.dumps(rules).encode()
        )
        os.chmod(work, 0o755)  # noqa: S103 - nginx workers read the tree
        try:
            os.rename(work, final)
        except OSError:  # built meanwhile by another sync
            shutil.rmtree(work, ignore_errors=True)
            return False
        return True

    def clone_tree(self, deployment_id: UUID, source_id: UUID) -> bool:
        """Materialise a deployment as hard links to the tree of another deployment of the same
        manifest (a rollback, a promotion): no manifest read, no blob lookups. True when built
        now; False when it exists already or cannot be linked (``build_tree`` then)."""
        final, source = self.tree(deployment_id), str(self.tree(source_id))
        if final.is_dir():
            return False
        work = str(self.root / "sites" / f".{deployment_id}.{os.getpid()}.tmp")
        shutil.rmtree(work, ignore_errors=True)
        try:
            for folder, _, names in os.walk(source):
                relative = os.path.relpath(folder, source)
                out = work if relative == "." else os.path.join(work, relative)
                os.makedirs(out, exist_ok=True)
                for name in names:
                    os.link(os.path.join(folder, name), os.path.join(out, name))
            os.chmod(work, 0o755)  # noqa: S103 - nginx workers read the tree
            rules = (self.root / "rules" / f"{source_id}.json").read_bytes()
            self._write_atomic(self.root / "rules" / f"{deployment_id}.json", rules)
            os.rename(work, final)
        except OSError:  # too many links, the source pruned meanwhile, built by another sync
            shutil.rmtree(work, ignore_errors=True)
            return False
        return True

    def problems(self, deployment_id: UUID) -> list[str]:
        return json.loads((self.root / "rules" / f"{deployment_id}.json").read_text())["problems"]

    def same_rules(self, first: UUID, second: UUID) -> bool:
        """Whether two deployments' ``_redirects``/``_headers`` render the same config."""
        data = [
            json.loads((self.root / "rules" / f"{d}.json").read_text()) for d in (first, second)
        ]
        keys = ("redirects", "headers")
        return all(data[0][k] == data[1][k] for k in keys)

    def has_tree(self, deployment_id: UUID) -> bool:
        return (
            self.tree(deployment_id).is_dir()
            and (self.root / "rules" / f"{deployment_id}.json").exists()
        )

    def rules(self, deployment_id: UUID) -> tuple[list[Redirect], list[HeaderBlock]]:
        data = json.loads((self.root / "rules" / f"{deployment_id}.json").read_text())
        redirects = [Redirect(**r) for r in data["redirects"]]
        headers = [
            HeaderBlock(b["pattern"], b["regex"], tuple(tuple(x) for x in b["headers"]), b["line"])
            for b in data["headers"]
        ]
        return redirects, headers

    def live_target(self, site_id) -> str | None:
        try:
            return os.readlink(self.root / "live" / str(site_id))
        except FileNotFoundError:
            return None

    def point(self, site_id, deployment_id) -> bool:
        """Switch ``live/<site>`` to a tree atomically; True when it changed."""
        link = self.root / "live" / str(site_id)
        target = f"../sites/{deployment_id}"
        if self.live_target(site_id) == target:
            return False
        tmp = link.with_name(f".{site_id}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        old = self.live_target(site_id)
        os.replace(tmp, link)
        if old:  # the grace period before pruning starts now
            with contextlib.suppress(FileNotFoundError):
                os.utime(self.root / "live" / old)
        return True

    def unpoint(self, site_id) -> bool:
        try:
            (self.root / "live" / str(site_id)).unlink()
            return True
        except FileNotFoundError:
            return False

    def prune(self, grace: float) -> int:
        """Delete trees no site points at (``grace`` seconds after) and blobs no tree uses."""
        now = time.time()
        live_dir = self.root / "live"
        live = {os.path.basename(os.readlink(p)) for p in live_dir.iterdir() if p.is_symlink()}
        removed = 0
        for tree in (self.root / "sites").iterdir():
            if tree.name in live or now - tree.lstat().st_mtime < grace:
                continue
            shutil.rmtree(tree, ignore_errors=True)
            (self.root / "rules" / f"{tree.name}.json").unlink(missing_ok=True)
            removed += 1
        for blob in (self.root / "blobs").glob("*/*/*"):
            stat = blob.lstat()
            if now - stat.st_ctime < grace:
                continue
            links = 1  # the cache's own name, plus the store's when hard-linked from it
            digest, _, variant = blob.name.partition(".")
            source = local_blob_path(self.store, digest, "." + variant if variant else "")
            with contextlib.suppress(OSError):
                if source is not None and os.stat(source).st_ino == stat.st_ino:
                    links = 2
            if stat.st_nlink <= links:
                blob.unlink(missing_ok=True)
        return removed

    # --- nginx ----------------------------------------------------------------------------
    def write_config(self, text: str) -> bool:
        """Write the config when its text changed (tested first); True when it changed."""
        path = edge_config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.read_text() == text:
                return False
        except FileNotFoundError:
            pass
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        if settings.EDGE_TEST_CONFIG:
            try:
                check = subprocess.run(
                    [settings.EDGE_NGINX, "-t", "-q", "-p", str(self.root), "-c", str(tmp)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
            except FileNotFoundError as exc:
                tmp.unlink(missing_ok=True)
                raise EdgeError(f"EDGE_NGINX ({settings.EDGE_NGINX}) is not installed") from exc
            if check.returncode != 0:
                tmp.unlink(missing_ok=True)
                raise EdgeError(f"nginx refused the new configuration: {check.stderr.strip()}")
        os.replace(tmp, path)
        return True

    def nginx_running(self) -> bool:
        try:
            pid = int((self.root / "nginx" / "nginx.pid").read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def reload(self) -> bool:
        """Ask nginx to reload (when it runs); True when asked."""
        command = settings.EDGE_RELOAD_COMMAND
        if command:
            args = shlex.split(command)
        else:
            if not self.nginx_running():
                log.info(
                    "The edge nginx is not running; its config is ready at %s", edge_config_path()
                )
                return False
            args = [
                settings.EDGE_NGINX,
                "-p",
                str(self.root),
                "-c",
                str(edge_config_path()),
                "-s",
                "reload",
            ]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        except FileNotFoundError as exc:
            raise EdgeError(f"Cannot run the reload command {args[0]}") from exc
        if done.returncode != 0:
            raise EdgeError(f"Reloading nginx failed: {done.stderr.strip() or done.stdout.strip()}")
        return True


def php_site(site_id) -> PhpSite:
    """A WordPress site's pool, with its own upload size and execution time (set within its
    plan), or the installation's until it has them."""
    from wordpress.models import WordPressSite

    layout = layout_for(site_id)
    limits = (
        WordPressSite.objects.filter(site_id=site_id)
        .values_list("upload_limit_mb", "max_execution_seconds")
        .first()
    )
    upload, seconds = limits or (None, None)
    return PhpSite(
        htdocs=str(layout.htdocs),
        socket=str(layout.socket),
        upload_mb=upload or settings.WORDPRESS_UPLOAD_LIMIT_MB,
        timeout_seconds=(seconds or settings.WORDPRESS_MAX_EXECUTION_SECONDS) + 30,
    )


class EdgeError(RuntimeError):
    pass


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_CERT_PATH = re.compile(r"^/[A-Za-z0-9._/@+-]+$")


def _route_is_safe(route) -> bool:
    if not _HOSTNAME.match(route.hostname):
        return False
    if route.redirect_to and not _HOSTNAME.match(route.redirect_to):
        return False
    return not route.certificate or all(_CERT_PATH.match(p) for p in route.certificate)


@contextmanager
def _locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".sync.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def edge_sync(*, reload: bool = True) -> SyncResult:
    """Bring the edge up to date: trees of live deployments, symlinks, config, reload, prune.

    Idempotent and cheap when nothing changed (a query, a readlink per site, a render and a
    compare); a file lock serialises concurrent runs.
    """
    from hosting import hostnames
    from hosting.models import Site

    root = Path(settings.EDGE_ROOT)
    result = SyncResult()
    with _locked(root):
        edge = Edge(root)
        sites: dict[UUID, EdgeSite] = {}
        rows = Site.objects.values_list(
            "pk",
            "status",
            "live_deployment_id",
            "team__subscription__status",
            "kind",
            "team__suspended_at",
            "slug",
            "preview_protection",
            "preview_secret",
            "rate_limit",
        )
        for row in rows:
            site_id, status, deployment_id, team_status, kind, suspended_at = row[:6]
            slug, protection, secret, rate = row[6:]
            lock = secret if protection != Site.PreviewProtection.OFF else ""
            status = serving_status(status, team_status, suspended_at)
            if kind == Site.Kind.WORDPRESS:  # PHP through its pool; 503 until it is online
                served = status in (Site.Status.ONLINE, SUSPENDED)
                sites[site_id] = EdgeSite(
                    site_id,
                    status if served else "offline",
                    None,
                    php=php_site(site_id),
                    rate_limit=rate,
                )
                continue
            site = EdgeSite(
                site_id, status, deployment_id, slug=slug, preview_lock=lock, rate_limit=rate
            )
            if site.offline or deployment_id is None:
                # Offline: its addresses answer 503. Nothing live yet: its own address 404s,
                # its previews serve.
                edge.unpoint(site_id)
                sites[site_id] = site
                continue
            if not edge.has_tree(deployment_id):
                if not _build(edge, deployment_id, result):
                    continue
                result.problems += [f"{site_id}: {p}" for p in edge.problems(deployment_id)]
            result.links_swapped += edge.point(site_id, deployment_id)
            site.redirects, site.headers = edge.rules(deployment_id)
            sites[site_id] = site
        own = _deployment_addresses(edge, sites, result)
        redirects: list[EdgeRedirect] = []
        for route in hostnames.routes():
            site = sites.get(route.site_id)
            if site is None:
                continue
            if not _route_is_safe(route):  # it would reach nginx's config verbatim
                result.problems.append(f"{route.site_id}: route {route!r} refused")
                continue
            if route.redirect_to:
                redirects.append(EdgeRedirect(route.hostname, route.redirect_to, route.certificate))
            elif route.certificate and all(os.path.isfile(p) for p in route.certificate):
                site.secure.append((route.hostname, route.certificate))
            elif route.certificate:
                result.problems.append(f"{route.hostname}: certificate files missing; HTTP only")
                site.hostnames.append(route.hostname)
            else:
                site.hostnames.append(route.hostname)
        served = [s for s in sites.values() if s.hostnames or s.secure] + own
        text = render(served, redirects, edge_options())
        result.config_changed = edge.write_config(text)
        if result.config_changed and reload:
            result.reloaded = edge.reload()
        result.pruned = edge.prune(settings.EDGE_TREE_GRACE)
    if result.trees_built or result.links_swapped or result.config_changed or result.pruned:
        log.info("Edge sync: %s", result)
    return result


def _twin(edge: Edge, manifest_id, deployment_id) -> UUID | None:
    """A deployment of the same manifest whose tree is on disk (the same files and rules)."""
    from deployments.models import Deployment

    if manifest_id is None:
        return None
    twins = Deployment.objects.filter(manifest_id=manifest_id).exclude(pk=deployment_id)
    return next((d for d in twins.values_list("pk", flat=True) if edge.has_tree(d)), None)


def _build(edge: Edge, deployment_id: UUID, result: SyncResult) -> bool:
    """Materialise a deployment: linked from a tree of the same manifest when there is one,
    else from its release. False when it has no release (nothing to serve)."""
    from deployments.models import Deployment

    manifest_id = (
        Deployment.objects.filter(pk=deployment_id).values_list("manifest_id", flat=True).first()
    )
    twin = _twin(edge, manifest_id, deployment_id)
    if twin is not None and edge.clone_tree(deployment_id, twin):
        result.trees_built += 1
        return True
    if edge.has_tree(deployment_id):  # built meanwhile
        return True
    release = load_release(deployment_id)
    if release is None:
        return False
    result.trees_built += edge.build_tree(release)
    return edge.has_tree(deployment_id)


# After a fast switch, the full sync (the new deployment's own address, pruning) follows
# this many seconds later, off the path of the switch.
FULL_SYNC_AFTER_SWITCH = 2


def edge_switch(site_id) -> bool:
    """Point one site's live link at its live deployment, when that is all its change needs:
    the fast path of a rollback, a promotion or a deploy to a site already served.

    It applies only when the site is online and already linked to another tree whose
    ``_redirects``/``_headers`` equal the new deployment's, so the rendered config stays the
    same and nginx needs no reload, and when a tree of the new deployment is on disk: its own
    (built ahead, as every deployment's own address is) or, for a rollback (a new deployment
    of an earlier manifest), the tree of a deployment of the same manifest, until the next
    full sync builds its own. One rename, no reload. True when it switched; False when the
    change needs a full ``edge_sync`` (anything else: routes, status, first deploy, other
    rules, a tree never built), which the caller then runs.
    """
    from hosting.models import Site

    try:
        site_id = UUID(str(site_id))
    except ValueError:
        return False
    root = Path(settings.EDGE_ROOT)
    with _locked(root):
        edge = Edge(root)
        row = (
            Site.objects.filter(pk=site_id)
            .values_list(
                "status",
                "kind",
                "team__subscription__status",
                "team__suspended_at",
                "live_deployment_id",
                "live_deployment__manifest_id",
            )
            .first()
        )
        if row is None:
            return False
        status, kind, team_status, suspended_at, deployment_id, manifest_id = row
        status = serving_status(status, team_status, suspended_at)
        if kind != Site.Kind.STATIC or status != Site.Status.ONLINE or deployment_id is None:
            return False
        current = edge.live_target(site_id)
        if current is None or not edge.has_tree(os.path.basename(current)):
            return False  # not served yet
        # Its own tree, else one of the same manifest (what a rollback or a promotion of an
        # earlier deployment restores): the same files and rules, already on disk.
        tree = deployment_id if edge.has_tree(deployment_id) else None
        tree = tree or _twin(edge, manifest_id, deployment_id)
        if tree is None or current == f"../sites/{tree}":
            return False  # no tree yet, or the change was not a switch
        if not edge.same_rules(os.path.basename(current), tree):
            return False
        edge.point(site_id, tree)
    log.info("Edge: site %s switched to %s", site_id, deployment_id)
    return True


DEPLOYMENT_LINK = "d-"
_OWN_LINK = re.compile(r"^[a-z0-9-]+--[a-z0-9-]+$")


def _deployment_addresses(edge: Edge, sites: dict, result: SyncResult) -> list[EdgeSite]:
    """Every successful deployment of a served static site at ``<short id>--<slug>``, and
    every preview at ``<preview>--<slug>`` (its newest build).

    A deployment without ``_redirects``/``_headers`` is a symlink ``live/<short id>--<slug>``
    served by the one deployment-address server block (a new deployment costs no reload); one
    with rules gets its own server block behind ``live/d-<deployment id>``. Links of
    deployments gone (or of sites offline) are removed, so prune collects their trees. A short
    id two deployments of a site share serves neither, as in the embedded server.
    """
    from deployments.models import Deployment
    from hosting.hostnames import DEPLOYMENT_ID_LENGTH

    rows = Deployment.objects.filter(
        status=Deployment.Status.SUCCESS,
        manifest__isnull=False,
        site_id__in=[pk for pk, s in sites.items() if s.php is None and not s.offline],
    ).values_list("pk", "site_id", "site__slug", "preview", "finished_at", "created_at")
    by_label: dict[str, list[tuple[UUID, UUID, str]]] = {}
    previews: dict[str, tuple] = {}
    for deployment_id, site_id, slug, preview, finished, created in rows:
        label = f"{deployment_id.hex[:DEPLOYMENT_ID_LENGTH]}--{slug}"
        by_label.setdefault(label, []).append((deployment_id, site_id, slug))
        if preview:  # a preview serves its newest build
            key, order = f"{preview}--{slug}", (finished or created, created)
            if key not in previews or previews[key][0] < order:
                previews[key] = (order, (deployment_id, site_id, slug))
    for key, (_, match) in previews.items():
        by_label.setdefault(key, []).append(match)
    found: list[EdgeSite] = []
    wanted: set[str] = set()
    for label, matches in sorted(by_label.items()):
        if len(matches) != 1:
            continue
        deployment_id, site_id, slug = matches[0]
        hostname = f"{label}.{settings.SITES_DOMAIN}"
        if not _HOSTNAME.match(hostname):
            continue
        if not edge.has_tree(deployment_id) and not _build(edge, deployment_id, result):
            continue
        redirects, headers = edge.rules(deployment_id)
        # Rules, or a slowed-down site, need a server block of their own.
        own_block = redirects or headers or sites[site_id].rate_limit
        link = f"{DEPLOYMENT_LINK}{deployment_id}" if own_block else label
        edge.point(link, deployment_id)
        wanted.add(link)
        if link != label:
            parent = sites[site_id]
            own = EdgeSite(
                site_id,
                parent.status,
                deployment_id,
                [hostname],
                link=link,
                preview_lock=parent.preview_lock,
                rate_limit=parent.rate_limit,
            )
            own.redirects, own.headers = redirects, headers
            found.append(own)
    for entry in (edge.root / "live").iterdir():
        own_link = entry.name.startswith(DEPLOYMENT_LINK) or _OWN_LINK.match(entry.name)
        if own_link and entry.name not in wanted:
            entry.unlink(missing_ok=True)
    return found


def config_digest() -> str:
    try:
        return hashlib.sha256(edge_config_path().read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""
