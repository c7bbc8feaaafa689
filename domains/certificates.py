"""Certificates: request, issue through ACME (HTTP-01 or DNS-01), renew, install on the edge.

A ``Certificate`` row is the job record of one order. ``certificate_issue`` claims a pending
row, runs the order and ends it ``active`` (files written under EDGE_ROOT/certs, routes
announced) or back to ``pending`` with a later ``next_attempt_at`` (backoff), and ``failed``
with the CA's reason after CERT_MAX_ATTEMPTS.

acme, josepy and pyOpenSSL (~8 MiB) are imported inside the functions that use them: only the
worker issuing a certificate needs them, not every process that loads this module.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from controlpanel.enqueue import enqueue_on_commit
from domains import zones
from domains.dns import verify as dns_verify
from domains.models import AcmeChallenge, Certificate, Domain
from domains.names import check_labels
from hosting.hostnames import hostnames_changed

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,255}$")
ORDER_TIMEOUT = datetime.timedelta(seconds=120)
OPEN = [Certificate.Status.PENDING, Certificate.Status.ISSUING]


def backoff(attempts: int) -> datetime.timedelta:
    """5 minutes, then 15, 45, 2¼ hours, ... capped at a day."""
    return datetime.timedelta(minutes=min(5 * 3 ** max(attempts - 1, 0), 24 * 60))


# --- requesting -------------------------------------------------------------------------------
def _default_names(domain: Domain) -> list[str]:
    names = [domain.serving_name]
    if domain.redirect != Domain.Redirect.NONE:
        other = domain.hostnames[1]
        # The companion name joins only if it reaches the edge, else the order would fail.
        if domain.dns_hosted or dns_verify.points_at_edge(
            other, domain.site.hostname if domain.site_id else None
        ):
            names.append(other)
    return names


def _clean_names(domain: Domain, names: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in names:
        name = (raw or "").strip().lower().rstrip(".")
        try:
            check_labels(name, allow_wildcard=True)
        except ValidationError as exc:
            raise ValidationError({"names": exc.messages}) from exc
        base = name[2:] if name.startswith("*.") else name
        if base != domain.name and not base.endswith("." + domain.name):
            raise ValidationError({"names": f"{name} is not {domain.name} or under it."})
        if name not in cleaned:
            cleaned.append(name)
    if not cleaned:
        raise ValidationError({"names": "Name at least one host name."})
    if len(cleaned) > 20:
        raise ValidationError({"names": "A certificate holds at most 20 names."})
    return cleaned


def certificate_request(
    *,
    domain: Domain,
    names: list[str] | None = None,
    challenge: str | None = None,
    renewal_of: Certificate | None = None,
) -> Certificate:
    """Queue a new certificate for ``domain`` (verified) and start issuing after commit."""
    if not domain.is_verified:
        raise ValidationError("Verify the domain before asking for a certificate.")
    if not settings.ACME_DIRECTORY_URL:
        raise ValidationError("HTTPS is not configured on this Berth (ACME_DIRECTORY_URL).")
    names = _clean_names(domain, names or _default_names(domain))
    wildcard = any(n.startswith("*.") for n in names)
    hosted = domain.dns_hosted and bool(settings.PDNS_API_URL)
    if challenge in (None, ""):
        challenge = Certificate.Challenge.DNS01 if hosted else Certificate.Challenge.HTTP01
    if challenge not in Certificate.Challenge.values:
        raise ValidationError({"challenge": "Choose http-01 or dns-01."})
    if challenge == Certificate.Challenge.DNS01 and not hosted:
        raise ValidationError({"challenge": "DNS-01 needs the domain's DNS hosted by Berth."})
    if wildcard and challenge != Certificate.Challenge.DNS01:
        raise ValidationError({"names": "Wildcard names need DNS-01 (DNS hosted by Berth)."})
    if Certificate.objects.filter(domain=domain, status__in=OPEN).exists():
        raise ValidationError("A certificate for this domain is already being issued.")
    cert = Certificate.objects.create(
        domain=domain,
        names=names,
        challenge=challenge,
        directory_url=settings.ACME_DIRECTORY_URL,
        renewal_of=renewal_of,
    )
    certificate_enqueue(cert)
    return cert


def certificate_request_auto(*, domain: Domain) -> Certificate | None:
    """Issue on verification: request one unless HTTPS is off or one is active or under way."""
    if not (settings.ACME_AUTO_ISSUE and settings.ACME_DIRECTORY_URL and domain.site_id):
        return None
    names = set(_default_names(domain))
    covered = Certificate.objects.filter(
        domain=domain, status__in=[*OPEN, Certificate.Status.ACTIVE]
    )
    if any(names <= set(c.names) for c in covered) or covered.filter(status__in=OPEN).exists():
        return None
    try:
        return certificate_request(domain=domain)
    except ValidationError:
        log.info("No automatic certificate for %s", domain.name, exc_info=True)
        return None


def certificate_enqueue(cert: Certificate) -> None:
    """Queue the issuing task of a pending certificate after commit; its row keeps the task id."""
    task_id = enqueue_on_commit("domains.tasks.certificate_issue", str(cert.pk))
    Certificate.objects.filter(pk=cert.pk, task_id="").update(task_id=task_id)


# --- issuing ----------------------------------------------------------------------------------
def certificate_issue(*, certificate_id) -> Certificate | None:
    """Run the ACME order of a pending certificate (safe to call twice: the row is claimed)."""
    from domains.acme import client as ca

    now = timezone.now()
    claimed = (
        Certificate.objects.filter(pk=certificate_id, status=Certificate.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=Certificate.Status.ISSUING, started_at=now)
    )
    if claimed != 1:
        return None
    cert = Certificate.objects.select_related("domain", "domain__site").get(pk=certificate_id)
    try:
        _run_order(cert)
    except Exception as exc:
        reason = ca.describe(exc) if not isinstance(exc, ca.AcmeProblem) else str(exc)
        log.warning("Certificate %s for %s failed: %s", cert.pk, cert.names, reason)
        _failed(cert, reason)
    finally:
        _cleanup_challenges(cert)
    cert.refresh_from_db()
    return cert


def _failed(cert: Certificate, reason: str) -> None:
    attempts = cert.attempts + 1
    final = attempts >= settings.CERT_MAX_ATTEMPTS
    Certificate.objects.filter(pk=cert.pk).update(
        status=Certificate.Status.FAILED if final else Certificate.Status.PENDING,
        attempts=attempts,
        error=reason[:2000],
        next_attempt_at=None if final else timezone.now() + backoff(attempts),
    )


def _run_order(cert: Certificate) -> None:
    from acme import challenges, crypto_util

    from domains.acme import client as ca

    session = ca.connect(cert.directory_url)
    key_pem = ca.new_private_key_pem()
    csr = crypto_util.make_csr(key_pem.encode(), cert.names)
    try:
        order = session.client.new_order(csr)
    except ca.messages.Error as exc:
        raise ca.AcmeProblem(ca.describe(exc)) from exc
    Certificate.objects.filter(pk=cert.pk).update(order_url=order.uri or "")
    answers = []
    dns_values: dict[str, list[str]] = {}
    for authzr in order.authorizations:
        if authzr.body.status == ca.messages.STATUS_VALID:
            continue
        hostname = authzr.body.identifier.value
        wanted = challenges.HTTP01 if cert.challenge == "http-01" else challenges.DNS01
        challb = next((c for c in authzr.body.challenges if isinstance(c.chall, wanted)), None)
        if challb is None:
            raise ca.AcmeProblem(f"The CA offers no {cert.challenge} challenge for {hostname}.")
        response, validation = challb.response_and_validation(session.account_key)
        token = challb.chall.encode("token")
        AcmeChallenge.objects.create(
            certificate=cert,
            kind=cert.challenge,
            hostname=hostname,
            token=token,
            key_authorization=validation,
        )
        if cert.challenge == "http-01":
            _write_challenge_file(token, validation)
        else:
            dns_values.setdefault(_acme_record_name(cert.domain, hostname), []).append(validation)
        answers.append((challb, response))
    for name, values in dns_values.items():
        zones.managed_txt_set(domain=cert.domain, name=name, values=values)
        if cert.domain.zone_error:
            raise ca.AcmeProblem(f"The DNS-01 record was not published: {cert.domain.zone_error}")
    for challb, response in answers:
        session.client.answer_challenge(challb, response)
    deadline = datetime.datetime.now() + ORDER_TIMEOUT
    finished = session.client.poll_and_finalize(order, deadline)
    _activate(cert, key_pem, finished.fullchain_pem)


def _acme_record_name(domain: Domain, hostname: str) -> str:
    relative = "" if hostname == domain.name else hostname[: -len(domain.name) - 1]
    return "_acme-challenge" + (f".{relative}" if relative else "")


def _activate(cert: Certificate, key_pem: str, fullchain_pem: str) -> None:
    from cryptography import x509

    leaf = x509.load_pem_x509_certificate(fullchain_pem.encode())
    with transaction.atomic():
        Certificate.objects.filter(domain=cert.domain, status=Certificate.Status.ACTIVE).exclude(
            pk=cert.pk
        ).update(status=Certificate.Status.REPLACED)
        cert.status = Certificate.Status.ACTIVE
        cert.private_key = key_pem
        cert.certificate_pem = fullchain_pem
        cert.issuer = leaf.issuer.rfc4514_string()[:300]
        cert.serial = format(leaf.serial_number, "x")[:100]
        cert.not_before = leaf.not_valid_before_utc
        cert.not_after = leaf.not_valid_after_utc
        cert.issued_at = timezone.now()
        cert.error = ""
        cert.next_attempt_at = None
        cert.attempts += 1
        cert.save()
        write_certificate_files(cert)
        site_id = cert.domain.site_id
        transaction.on_commit(lambda: hostnames_changed.send(sender=Certificate, site_id=site_id))


def _cleanup_challenges(cert: Certificate) -> None:
    rows = list(AcmeChallenge.objects.filter(certificate=cert))
    for row in rows:
        if row.kind == "http-01":
            _challenge_path(row.token).unlink(missing_ok=True)
    if any(r.kind == "dns-01" for r in rows):
        names = {_acme_record_name(cert.domain, r.hostname) for r in rows}
        for name in names:
            zones.managed_txt_set(domain=cert.domain, name=name, values=[])
    AcmeChallenge.objects.filter(certificate=cert).delete()


# --- HTTP-01: the embedded server asks; the edge reads files ----------------------------------
def _challenge_path(token: str) -> Path:
    if not TOKEN_RE.match(token):
        raise ValueError("Not an ACME token.")
    return Path(settings.EDGE_ROOT) / "acme" / ".well-known" / "acme-challenge" / token


def _write_challenge_file(token: str, key_authorization: str) -> None:
    path = _challenge_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key_authorization)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def challenge_response(token: str) -> str | None:
    """The key authorization for an HTTP-01 token of a running order (embedded server)."""
    if not TOKEN_RE.match(token or ""):
        return None
    return (
        AcmeChallenge.objects.filter(token=token, kind="http-01")
        .values_list("key_authorization", flat=True)
        .first()
    )


# --- certificate files for the edge -----------------------------------------------------------
def certificate_dir(domain_name: str) -> Path:
    return Path(settings.EDGE_ROOT) / "certs" / domain_name


def certificate_paths(domain_name: str) -> tuple[str, str]:
    folder = certificate_dir(domain_name)
    return str(folder / "fullchain.pem"), str(folder / "privkey.pem")


def _write(path: Path, data: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_certificate_files(cert: Certificate) -> tuple[str, str]:
    """Install an active certificate for the edge: chain 0644, key 0600."""
    chain, key = certificate_paths(cert.domain.name)
    Path(chain).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write(Path(key), cert.private_key, 0o600)
    _write(Path(chain), cert.certificate_pem, 0o644)
    return chain, key


def ensure_certificate_files(cert: Certificate) -> tuple[str, str]:
    """The edge's files for ``cert``, written again if missing or stale (a fresh edge root)."""
    chain, key = certificate_paths(cert.domain.name)
    try:
        fresh = Path(chain).read_text() == cert.certificate_pem and Path(key).exists()
    except OSError:
        fresh = False
    if not fresh:
        write_certificate_files(cert)
    return chain, key


def certificate_files_remove(*, domain: Domain) -> None:
    shutil.rmtree(certificate_dir(domain.name), ignore_errors=True)


# --- upkeep -----------------------------------------------------------------------------------
def certificates_maintain() -> dict:
    """Periodic: start due retries, renew certificates CERT_RENEW_DAYS before expiry, mark
    expired ones. Returns counts."""
    now = timezone.now()
    retried = renewed = expired = 0
    due = Certificate.objects.filter(status=Certificate.Status.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    for pk in due.values_list("pk", flat=True):
        enqueue_on_commit("domains.tasks.certificate_issue", str(pk))
        retried += 1
    # A worker that died mid-order leaves "issuing"; give it back after the order's time.
    Certificate.objects.filter(
        status=Certificate.Status.ISSUING, started_at__lt=now - 10 * ORDER_TIMEOUT
    ).update(status=Certificate.Status.PENDING, next_attempt_at=now)
    expired = Certificate.objects.filter(
        status=Certificate.Status.ACTIVE, not_after__lte=now
    ).update(status=Certificate.Status.EXPIRED)
    renew_before = now + datetime.timedelta(days=settings.CERT_RENEW_DAYS)
    for cert in Certificate.objects.filter(
        status=Certificate.Status.ACTIVE, not_after__lte=renew_before
    ).select_related("domain", "domain__site"):
        if Certificate.objects.filter(domain=cert.domain, status__in=OPEN).exists():
            continue
        if not cert.domain.is_verified:
            continue
        try:
            certificate_request(
                domain=cert.domain,
                names=cert.names,
                challenge=cert.challenge,
                renewal_of=cert,
            )
            renewed += 1
        except ValidationError:
            log.warning("Cannot renew certificate %s", cert.pk, exc_info=True)
    return {"retried": retried, "renewed": renewed, "expired": expired}
