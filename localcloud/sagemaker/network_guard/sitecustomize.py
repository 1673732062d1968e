"""Refuses every network connection of the Python process it is loaded into (a network-isolated job).

The local cloud puts this folder first on ``PYTHONPATH`` of a network-isolated training script when the
machine cannot give the script a network namespace of its own (no unprivileged user namespaces): then
Python imports this module at start-up, and every ``connect``/``sendto`` to an IP address fails as it
fails in a SageMaker container with ``EnableNetworkIsolation``, "Network is unreachable". Unix sockets
(joblib's workers) are left alone: they are not a network.
"""

from __future__ import annotations

import errno
import socket
import sys
from typing import Any

_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_NETWORK_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if event in _EVENTS and args and getattr(args[0], "family", None) in _NETWORK_FAMILIES:
        raise OSError(errno.ENETUNREACH, "Network is unreachable (the training job is network-isolated)")


sys.addaudithook(_refuse_network)
