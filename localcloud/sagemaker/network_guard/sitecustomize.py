"""Refuses every network call of the Python process it is loaded into (a network-isolated container).

The local cloud puts this folder first on ``PYTHONPATH`` of a process that stands for a container with
``EnableNetworkIsolation``: a training script when the machine cannot give it a network namespace of its
own (no unprivileged user namespaces), and the model server of an isolated model always (the host
reaches the server on loopback, so it cannot have a namespace of its own). Python imports this module at
start-up, and its audit hook fails each call as it fails in an isolated container: ``connect``/
``sendto``/``sendmsg`` to an IP address with "Network is unreachable", a name lookup that would ask a
DNS server with "Temporary failure in name resolution" (names in ``/etc/hosts`` and numeric addresses
resolve, as they do without network). ``bind``, ``listen`` and ``accept`` pass: a model server still
serves. Unix sockets (joblib's workers) are left alone: they are not a network.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import socket
import sys
from typing import Any

_SENDS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname"})  # gethostbyname_ex's event too
_NETWORK_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})
_HOSTS_FILE = "/etc/hosts"


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if event in _SENDS and args and getattr(args[0], "family", None) in _NETWORK_FAMILIES:
        raise OSError(errno.ENETUNREACH, "Network is unreachable (the container is network-isolated)")
    if event in _LOOKUPS and args and not (_is_address(args[0]) or _in_hosts_file(args[0])):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution (network-isolated)")
    if event == "socket.gethostbyaddr" and args and not _in_hosts_file(args[0]):
        raise socket.herror(2, "Host name lookup failure (network-isolated)")  # a reverse lookup asks DNS


def _text(host: object) -> str:
    return host.decode("idna") if isinstance(host, bytes) else str(host)


def _is_address(host: object) -> bool:
    """No host (the wildcard or loopback address), or a numeric address: nothing to look up."""
    if host is None:
        return True
    try:
        ipaddress.ip_address(_text(host).split("%", 1)[0])  # an IPv6 address may carry its zone
    except ValueError:
        return False
    return True


def _in_hosts_file(host: object) -> bool:
    """Whether ``/etc/hosts`` names ``host`` (an address or a name): the C library answers it unaided."""
    return _text(host).lower() in _hosts_file_entries()


@functools.cache
def _hosts_file_entries() -> frozenset[str]:
    try:
        with open(_HOSTS_FILE, encoding="utf-8", errors="replace") as hosts:
            lines = hosts.read().splitlines()
    except OSError:
        return frozenset()
    return frozenset(word.lower() for line in lines for word in line.split("#", 1)[0].split())


sys.addaudithook(_refuse_network)
