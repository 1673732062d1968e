"""moto's server on loopback, with a small control API for the daemon beside the AWS APIs.

Every request goes to moto, except those under ``/_localcloud/``: the daemon's clients (``up``,
``status``, ``down``, the CLI) use these to ask the running local cloud to deploy, wait until idle,
report what it did, or shut down. No AWS API lives under that prefix, so nothing is shadowed. Other
fronts (API Gateway's stage URLs, ``localcloud.apigateway``) take their own paths the same way; the
first front given wraps moto innermost (``localcloud.iam.front``, which decides each AWS API request by
its signer's policies when enforcement is on).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CONTROL_PREFIX = "/_localcloud/"

ControlHandler = Callable[[dict[str, Any]], Any]


class Front(Protocol):
    """Something that answers some requests itself and passes the others to the app it wraps."""

    def wrap(self, app: Any) -> Any:
        """A WSGI app that serves its own paths and passes everything else to ``app``."""


class ControlApi:
    """Routes ``POST|GET /_localcloud/<name>`` (JSON in, JSON out) to registered handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, ControlHandler] = {}

    def register(self, name: str, handler: ControlHandler) -> None:
        """Answer ``/_localcloud/<name>`` with ``handler(request_json)``."""
        self._handlers[name] = handler

    def wrap(self, app: Any) -> Any:
        """A WSGI app that serves the control API and passes everything else to ``app``."""

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith(CONTROL_PREFIX):
                return app(environ, start_response)  # type: ignore[no-any-return]
            response = self._answer(Request(environ), path.removeprefix(CONTROL_PREFIX).strip("/"))
            return response(environ, start_response)

        return dispatch

    def _answer(self, request: Request, name: str) -> Response:
        handler = self._handlers.get(name)
        if handler is None:
            return _json_response({"error": f"no such control endpoint: {name}"}, 404)
        try:
            body = request.get_json(silent=True) or {}
            return _json_response({"result": handler(body)}, 200)
        except Exception as error:
            # The client shows this message; the daemon's log holds the traceback.
            return _json_response({"error": f"{type(error).__name__}: {error}"}, 500)


class LoopbackMotoServer(ThreadedMotoServer):
    """moto's threaded server with the control API (and other ``fronts``) mounted in front of it."""

    def __init__(self, *, host: str, port: int, control: ControlApi, fronts: Sequence[Front] = ()) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._control = control
        self._fronts = tuple(fronts)
        self._failed: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            app: Any = DomainDispatcherApplication(create_backend_app)
            for front in (*self._fronts, self._control):
                app = front.wrap(app)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
        except BaseException as error:  # a port in use must fail start(), not hang it
            self._failed = error
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        """Start serving; raises what binding the port raised."""
        super().start()
        if self._failed is not None:
            raise self._failed


def _json_response(payload: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


def run_in_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start ``target`` on a daemon thread (used to shut down after answering a request)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
