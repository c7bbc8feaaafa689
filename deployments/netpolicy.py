"""What a build's network may reach: the internet, not the host's private neighbourhood.

slirp4netns makes every connection of a build from the host itself. ``--disable-host-loopback``
stops 127.0.0.1 and the host as 10.0.2.2, but the host's other addresses, the cloud metadata
service (169.254.169.254), and private networks (10/8, 172.16/12, 192.168/16, 100.64/10, …)
would still be reached through it. So, before the build's command starts, the runner adds
``unreachable`` routes for those ranges to the build's own network namespace: a connection to
them fails at once with "No route to host", inside the namespace, before slirp4netns sees it.

Routes, not a firewall: no iptables or nftables is needed (their modules cannot be loaded
without root), and routes are core to every kernel. The build cannot change them: its
processes hold no capabilities in their namespace. Done from a forked child of the worker that
joins the namespace (``setns``) and speaks rtnetlink itself, since a helper program started
inside the build's user namespace would lose its capabilities at ``exec``. slirp4netns's own
subnet (10.0.2.0/24: the DNS forwarder at 10.0.2.3) stays reachable: a more specific route.

The machine's DNS resolver is asked by slirp4netns on the build's behalf (10.0.2.3), so a
private resolver keeps working; names resolving to private addresses are unreachable like the
addresses themselves. Builds have no IPv6 (slirp4netns runs without it).
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import struct
import time
from contextlib import suppress

from django.conf import settings

# Special-purpose IPv4 ranges (RFC 6890) a build has no business reaching.
BLOCKED = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "169.254.0.0/16",  # link-local: cloud metadata services (169.254.169.254)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments
    "192.168.0.0/16",  # private
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, broadcast
)
SLIRP_GATEWAY = "10.0.2.2"

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
RTM_NEWROUTE = 24
RTM_GETADDR = 22
RTM_GETLINK = 18
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
LOOPBACK_WAIT = 10.0  # seconds for bubblewrap to bring the namespace's loopback up
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_DUMP = 0x300
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RTN_UNICAST = 1
RTN_UNREACHABLE = 7
RTA_DST = 1
RTA_GATEWAY = 5
IFA_ADDRESS = 1
IFA_LOCAL = 2


class PolicyError(Exception):
    pass


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * ((4 - length % 4) % 4)


def _message(kind: int, flags: int, body: bytes, seq: int) -> bytes:
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def _route(network: ipaddress.IPv4Network, *, via: str = "") -> bytes:
    kind = RTN_UNICAST if via else RTN_UNREACHABLE
    body = struct.pack(
        "=BBBBBBBBI",
        socket.AF_INET,
        network.prefixlen,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_STATIC,
        RT_SCOPE_UNIVERSE,
        kind,
        0,
    )
    body += _attr(RTA_DST, network.network_address.packed)
    if via:
        body += _attr(RTA_GATEWAY, ipaddress.IPv4Address(via).packed)
    return body


def _acknowledged(sock: socket.socket, seq: int) -> int:
    """The errno of the kernel's answer to request ``seq`` (0: done)."""
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + 16 <= len(data):
            length, kind, _flags, got, _pid = struct.unpack_from("=IHHII", data, offset)
            if kind == NLMSG_ERROR and got == seq:
                return -struct.unpack_from("=i", data, offset + 16)[0]
            offset += max((length + 3) & ~3, 16)


def _dump(kind: int, body: bytes):
    """The messages (type, payload) of an rtnetlink dump in the current network namespace."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        sock.send(_message(kind, NLM_F_REQUEST | NLM_F_DUMP, body, 1))
        while True:
            data = sock.recv(65536)
            offset = 0
            while offset + 16 <= len(data):
                length, got, _f, _s, _p = struct.unpack_from("=IHHII", data, offset)
                if got in (NLMSG_DONE, NLMSG_ERROR):
                    return
                yield got, data[offset + 16 : offset + length]
                offset += max((length + 3) & ~3, 16)


def _addresses() -> list[tuple[int, ipaddress.IPv4Address]]:
    """(interface index, address) of every IPv4 address in the current network namespace."""
    found = []
    for _kind, payload in _dump(RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)):
        index = struct.unpack_from("=I", payload, 4)[0]
        position = 8
        while position + 4 <= len(payload):
            size, attr = struct.unpack_from("=HH", payload, position)
            if size < 4:
                break
            if attr in (IFA_LOCAL, IFA_ADDRESS) and size == 8:
                address = ipaddress.IPv4Address(payload[position + 4 : position + 8])
                if (index, address) not in found:
                    found.append((index, address))
            position += (size + 3) & ~3
    return found


def _loopback_up() -> bool:
    """Whether bubblewrap has set up the namespace's loopback (127.0.0.1 on ``lo``, up)."""
    if not any(address.is_loopback for _, address in _addresses()):
        return False
    links = _dump(RTM_GETLINK, struct.pack("=BBHiII", socket.AF_UNSPEC, 0, 0, 0, 0, 0))
    for _kind, payload in links:
        _family, _pad, _type, _index, flags, _change = struct.unpack_from("=BBHiII", payload)
        if flags & IFF_LOOPBACK:
            return bool(flags & IFF_UP)
    return False


def host_addresses() -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses of this machine's interfaces (loopback excluded): services bound to
    0.0.0.0 answer on them."""
    found: list[ipaddress.IPv4Address] = []
    for _index, address in _addresses():
        if not address.is_loopback and address not in found:
            found.append(address)
    return found


def allowed_networks() -> list[ipaddress.IPv4Network]:
    """Private ranges the operator lets builds reach (a package mirror on the LAN)."""
    try:
        return [ipaddress.IPv4Network(text, strict=False) for text in settings.BUILD_NETWORK_ALLOW]
    except ValueError as exc:
        raise PolicyError(f"BUILD_NETWORK_ALLOW: {exc}") from None


def blocked_routes() -> list[tuple[ipaddress.IPv4Network, str]]:
    """(network, "") for each range made unreachable: the special-purpose ranges and the
    host's own addresses."""
    blocked = [ipaddress.IPv4Network(text) for text in BLOCKED]
    for address in host_addresses():
        if not any(address in network for network in blocked):
            blocked.append(ipaddress.IPv4Network(f"{address}/32"))
    return [(network, "") for network in blocked]


def allowed_routes() -> list[tuple[ipaddress.IPv4Network, str]]:
    """(network, slirp4netns's gateway) for the ranges BUILD_NETWORK_ALLOW lets through; added
    once slirp4netns has configured its interface (the gateway must be on a link by then)."""
    return [(network, SLIRP_GATEWAY) for network in allowed_networks()]


def _apply_here(wanted: list[tuple[ipaddress.IPv4Network, str]], wait_for_loopback: bool) -> None:
    if wait_for_loopback:
        # bubblewrap configures the namespace's loopback while it is being set up; two
        # rtnetlink writers at once in a new namespace make bubblewrap's fail now and then.
        deadline = time.monotonic() + LOOPBACK_WAIT
        while not _loopback_up():
            if time.monotonic() > deadline:
                raise PolicyError("the sandbox's loopback did not come up")
            time.sleep(0.005)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        for seq, (network, via) in enumerate(wanted, start=1):
            sock.send(_message(RTM_NEWROUTE, flags, _route(network, via=via), seq))
            error = _acknowledged(sock, seq)
            if error:
                raise PolicyError(f"route {network}: {os.strerror(error)}")


def apply(
    wanted: list[tuple[ipaddress.IPv4Network, str]],
    *,
    net: int,
    user: int | None,
    wait_for_loopback: bool = False,
) -> None:
    """Add routes to the build's network namespace (open as ``net``; ``user``: its user
    namespace, joined first when the panel is not root). bubblewrap's child is still blocked
    before the command. Raises PolicyError: a build never runs without its policy."""
    libc = ctypes.CDLL(None, use_errno=True)
    namespaces = [("net", net, CLONE_NEWNET)]
    if user is not None:  # to hold capabilities over the network namespace
        namespaces.insert(0, ("user", user, CLONE_NEWUSER))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: joins the namespaces, adds the routes, reports, exits
        code = 1
        try:
            os.close(read_end)
            for name, fd, kind in namespaces:
                if libc.setns(fd, kind) != 0:
                    why = os.strerror(ctypes.get_errno())
                    raise PolicyError(f"joining its {name} namespace: {why}")
            _apply_here(wanted, wait_for_loopback)
            code = 0
        except BaseException as exc:  # reported to the parent, never raised in the child
            with suppress(OSError):
                os.write(write_end, str(exc).encode()[:500])
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        reason = reader.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise PolicyError(reason or "the helper process failed")
