"""The network guard of isolated containers: what a guarded Python process can and cannot do.

The guard stands for a container without network: it must fail what the network namespace fails (the
same errors), and leave alone what works without network (listening on loopback, Unix sockets, names
and addresses the C library answers from ``/etc/hosts``). No network is used: the guard refuses before
anything is sent, and the namespace has none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from localcloud.sagemaker import isolation

# Each check prints "ok" or the error's class and errno; the addresses are loopback or TEST-NET-1
# (192.0.2.0/24, never routed).
PROBE = """
import json
import socket


def udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("192.0.2.1", 53))


def listen():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()


def unix():
    a, b = socket.socketpair()
    a.sendall(b"x")
    assert b.recv(1) == b"x"


checks = {
    "connect to loopback": lambda: socket.create_connection(("127.0.0.1", 9), timeout=2),
    "connect to an address": lambda: socket.create_connection(("192.0.2.1", 443), timeout=2),
    "datagram": udp,
    "look up an AWS host": lambda: socket.getaddrinfo("s3.us-east-1.amazonaws.com", 443),
    "gethostbyname": lambda: socket.gethostbyname("sts.amazonaws.com"),
    "reverse lookup": lambda: socket.gethostbyaddr("192.0.2.1"),
    "look up localhost": lambda: socket.getaddrinfo("localhost", 80),
    "numeric address": lambda: socket.getaddrinfo("127.0.0.1", 80),
    "listen on loopback": listen,
    "unix socket": unix,
}
seen = {}
for name, check in checks.items():
    try:
        check()
        seen[name] = "ok"
    except OSError as error:
        seen[name] = f"{type(error).__name__} {error.errno}"
print(json.dumps(seen))
"""

EXPECTED = {
    "connect to loopback": "OSError 101",  # ENETUNREACH
    "connect to an address": "OSError 101",
    "datagram": "OSError 101",
    "look up an AWS host": "gaierror -3",  # EAI_AGAIN: no DNS server to ask
    "gethostbyname": "gaierror -3",
    "reverse lookup": "herror 2",
    "look up localhost": "ok",
    "numeric address": "ok",
    "listen on loopback": "ok",
    "unix socket": "ok",
}


def _probe(command: list[str], environment: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(
        [*command, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    return dict(json.loads(done.stdout))


def test_a_guarded_process_makes_no_network_call_and_still_listens() -> None:
    # Given a Python process started with the guard (as an isolated model server is)
    environment = isolation.guarded({"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

    # When it tries connections, a datagram and lookups, and listens
    seen = _probe([sys.executable], environment)

    # Then each network call failed as without network; listening and local answers worked
    assert seen == EXPECTED


def test_the_guard_fails_what_the_network_namespace_fails() -> None:
    if isolation.available() is not isolation.Isolation.NAMESPACE:
        pytest.skip("no unprivileged user namespaces on this machine")
    # Given the same checks run in a network namespace of their own (an isolated training script's)
    command, environment, _ = isolation.isolate([sys.executable], {"PATH": os.environ.get("PATH", "")})

    # Then they end as under the guard
    assert _probe(command, environment) == EXPECTED
