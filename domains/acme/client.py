"""Talking to an ACME CA with the ``acme`` library: account, order, challenges, certificate.

Berth keeps one account per directory URL (``AcmeAccount``, key encrypted at rest). The CA's
listener is trusted through the system store, or ``ACME_CA_BUNDLE`` for a private CA.
"""

from __future__ import annotations

from dataclasses import dataclass

import josepy as jose
from acme import client as acme_client
from acme import errors as acme_errors
from acme import messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.db import IntegrityError

from domains.models import AcmeAccount

USER_AGENT = "Berth (acme-python)"


class AcmeProblem(Exception):
    """The CA refused or the order failed; ``str(exc)`` is the CA's reason, for people."""


def new_private_key_pem() -> str:
    """A certificate's private key: ECDSA P-256, PEM (PKCS#8)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _account(directory_url: str) -> AcmeAccount:
    account = AcmeAccount.objects.filter(directory_url=directory_url).first()
    if account is not None:
        return account
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    try:
        return AcmeAccount.objects.create(
            directory_url=directory_url, key=pem, email=settings.ACME_EMAIL
        )
    except IntegrityError:  # another worker made it first
        return AcmeAccount.objects.get(directory_url=directory_url)


@dataclass
class Session:
    client: acme_client.ClientV2
    account_key: jose.JWK


def connect(directory_url: str) -> Session:
    """A client with Berth's account at ``directory_url`` (registered on first use)."""
    account = _account(directory_url)
    key = jose.JWKRSA(key=serialization.load_pem_private_key(account.key.encode(), password=None))
    net = acme_client.ClientNetwork(
        key, verify_ssl=settings.ACME_CA_BUNDLE or True, user_agent=USER_AGENT
    )
    try:
        directory = acme_client.ClientV2.get_directory(directory_url, net)
    except Exception as exc:
        raise AcmeProblem(f"The certificate authority cannot be reached: {exc}") from exc
    client = acme_client.ClientV2(directory, net)
    registration = messages.NewRegistration.from_data(
        email=account.email or None, terms_of_service_agreed=True
    )
    try:
        regr = client.new_account(registration)
        uri = regr.uri
    except acme_errors.ConflictError as exc:
        # The account exists (the CA knows the key): use it.
        uri = exc.location
        net.account = messages.RegistrationResource(uri=uri, body=messages.Registration())
    except messages.Error as exc:
        raise AcmeProblem(describe(exc)) from exc
    if uri and uri != account.uri:
        AcmeAccount.objects.filter(pk=account.pk).update(uri=uri)
    return Session(client, key)


def describe(exc: BaseException) -> str:
    """The CA's reason for a failure, as one readable line."""
    if isinstance(exc, acme_errors.ValidationError):
        reasons = []
        for authzr in exc.failed_authzrs:
            for chall in authzr.body.challenges:
                if chall.error is not None:
                    name = authzr.body.identifier.value
                    reasons.append(f"{name}: {chall.error.detail or chall.error.typ}")
        return "; ".join(reasons) or "The CA could not validate the challenges."
    if isinstance(exc, acme_errors.IssuanceError):
        return f"The CA refused to issue: {exc.error.detail or exc.error.typ}"
    if isinstance(exc, messages.Error):
        return exc.detail or exc.typ or str(exc)
    if isinstance(exc, acme_errors.TimeoutError):
        return "The CA did not finish validating in time."
    return str(exc) or exc.__class__.__name__
