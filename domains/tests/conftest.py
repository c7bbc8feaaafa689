"""Fixtures of the domains tests: real PowerDNS and pebble on loopback, started once a session."""

from __future__ import annotations

import pytest

from conftest import free_port, require_binary
from domains.tests.servers import ChallengeServer, PebbleServer, PowerDnsServer


@pytest.fixture(scope="session")
def pdns_server(tmp_path_factory):
    binary = require_binary("pdns_server")
    server = PowerDnsServer(
        binary, tmp_path_factory.mktemp("pdns"), dns_port=free_port(), api_port=free_port()
    )
    yield server
    server.stop()


@pytest.fixture
def pdns(pdns_server, settings, tmp_path):
    """PowerDNS configured for Berth, answering verification lookups; zones wiped afterwards."""
    settings.PDNS_API_URL = pdns_server.api_url
    settings.PDNS_API_KEY = pdns_server.api_key
    settings.DNS_RESOLVERS = [f"127.0.0.1:{pdns_server.dns_port}"]
    settings.DNS_NAMESERVERS = ["ns1.berth.test", "ns2.berth.test"]
    yield pdns_server
    pdns_server.delete_all_zones()


@pytest.fixture(autouse=True)
def _domains_settings(settings, tmp_path):
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.EDGE_IPV4 = ["127.0.0.1"]
    settings.EDGE_IPV6 = []
    settings.BERTH_REGISTRY_TLDS = {"test": "12.00", "berth": "0"}
    settings.SITES_DOMAIN = "sites.localhost"
    settings.ACME_AUTO_ISSUE = False
    settings.PDNS_API_URL = ""
    settings.DNS_RESOLVERS = ["127.0.0.1:9"]  # nothing answers unless a test starts PowerDNS


@pytest.fixture(scope="session")
def pebble_server(pdns_server, tmp_path_factory):
    binary = require_binary("pebble")
    ports = {k: free_port() for k in ("acme", "management", "http", "tls")}
    server = PebbleServer(
        binary, tmp_path_factory.mktemp("pebble"), dns_port=pdns_server.dns_port, ports=ports
    )
    yield server
    server.stop()


@pytest.fixture
def pebble(pebble_server, pdns, settings):
    settings.ACME_DIRECTORY_URL = pebble_server.directory_url
    settings.ACME_CA_BUNDLE = str(pebble_server.listener_cert)
    settings.ACME_EMAIL = "ops@example.com"
    return pebble_server


@pytest.fixture
def challenge_server(pebble_server, settings):
    """Answers HTTP-01 on pebble's httpPort the way the embedded site server does."""
    server = ChallengeServer(pebble_server.http_port, "responder")
    yield server
    server.stop()


@pytest.fixture
def edge_challenge_server(pebble_server, settings):
    """Answers HTTP-01 from <EDGE_ROOT>/acme files, the way the nginx edge does."""
    server = ChallengeServer(pebble_server.http_port, "files", settings.EDGE_ROOT)
    yield server
    server.stop()
