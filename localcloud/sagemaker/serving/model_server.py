"""The scikit-learn inference container's model server, as one local process serving one model over HTTP.

Run as ``python -P model_server.py --port P --model-dir DIR`` (what :class:`ModelServer` does, so that
neither the project nor this folder is importable by the model's code), or as ``python -m
localcloud.sagemaker.serving.model_server ...`` by hand. As in the container, ``SAGEMAKER_PROGRAM``
(``inference.py``) names the model's module in ``SAGEMAKER_SUBMIT_DIRECTORY`` (a local folder here);
``model_fn(model_dir)`` runs once, at start-up, and the module's missing handler functions are the
container's defaults (``input_fn``: the CSV/JSON/NPY decoders, ``float32`` for CSV and JSON;
``predict_fn``: ``model.predict``; ``output_fn``: the encoder of ``Accept``).

HTTP, on 127.0.0.1 only: ``GET /ping`` answers 200 once the model is loaded (503 before);
``POST /invocations`` reads ``Content-Type`` (``application/json`` without one) and ``Accept``
(``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``, else ``application/json``, when absent or ``*/*``, as the
container does) and answers with the status, type and body of the handlers' response. The handlers get
a body of the container's text types as ``str``, decoded as its werkzeug request decodes it (U+FFFD for
bytes that are not UTF-8), and any other body as the bytes that were sent. An exception in
the model's code answers 500 with ``{"error": <class>, "message": <str>}`` (the traceback goes to stderr,
the endpoint's log); a body over ``--max-payload-bytes`` (SageMaker's 6 MB) answers 413 without running
any model code; other paths 404.

Concurrency: connections are served on threads, with keep-alive, and TCP_NODELAY (the standard library
writes headers and body apart; with Nagle's algorithm each response would wait ~40 ms for a delayed
ACK). Calls into the model's code are serialized by one lock: the real container runs each copy of the
model in a single-threaded worker process, so inference code is written without thread safety in mind.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

FRAMEWORK_DIR = Path(__file__).resolve().parent / "framework"
if str(FRAMEWORK_DIR) not in sys.path:  # run with -m: the framework stand-in is not on PYTHONPATH
    sys.path.insert(0, str(FRAMEWORK_DIR))

import numpy as np  # noqa: E402
from sagemaker_containers.beta.framework import (  # noqa: E402
    content_types,
    encoders,
    transformer,
    worker,
)

HOST = "127.0.0.1"
DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time endpoints' request limit
EXIT_ADDRESS_IN_USE = 98
_DRAIN_CHUNK = 1 << 16
_PARENT_POLL_SECONDS = 1.0


def default_input_fn(input_data: str | bytes, content_type: str) -> Any:
    """The scikit-learn container's ``input_fn``: decode, as ``float32`` for CSV and JSON."""
    array = encoders.decode(input_data, content_type)
    return array.astype(np.float32) if content_type in content_types.UTF8_TYPES else array


def default_predict_fn(input_data: Any, model: Any) -> Any:
    """The scikit-learn container's ``predict_fn``: ``model.predict``."""
    return model.predict(input_data)


def default_output_fn(prediction: Any, accept: str) -> worker.Response:
    """The scikit-learn container's ``output_fn``: the prediction encoded as ``accept``."""
    return worker.Response(response=encoders.encode(prediction, accept), mimetype=accept)


def load_transformer(program: str, submit_directory: Path) -> transformer.Transformer:
    """Import the model's module from ``submit_directory`` and wrap its handler functions.

    Raises
    ------
    ValueError
        If the module defines ``transform_fn`` together with ``input_fn``, ``predict_fn`` or ``output_fn``.
    """
    sys.path.insert(0, str(submit_directory))
    module_name = program[: -len(".py")] if program.endswith(".py") else program
    module: ModuleType = importlib.import_module(module_name)
    handlers = {name: getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")}
    transform_fn = getattr(module, "transform_fn", None)
    if transform_fn is not None and any(handlers.values()):
        raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    return transformer.Transformer(
        model_fn=getattr(module, "model_fn", None) or transformer.default_model_fn,
        input_fn=handlers["input_fn"] or default_input_fn,
        predict_fn=handlers["predict_fn"] or default_predict_fn,
        output_fn=handlers["output_fn"] or default_output_fn,
        transform_fn=transform_fn,
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port: int, *, max_payload_bytes: int, default_accept: str) -> None:
        super().__init__((HOST, port), _Handler)
        self.max_payload_bytes = max_payload_bytes
        self.default_accept = default_accept
        self.model: transformer.Transformer | None = None  # set once model_fn has run
        self.model_lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localcloud-model-server"

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/ping":
            loaded = self._server.model is not None
            self._answer(HTTPStatus.OK if loaded else HTTPStatus.SERVICE_UNAVAILABLE, content_types.JSON, b"")
        else:
            self._refuse(path)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True  # where the next request starts is unknown
            self._error(HTTPStatus.BAD_REQUEST, "BadRequest", "unreadable Content-Length or chunk size")
            return
        if body is None:
            limit = self._server.max_payload_bytes
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLarge", f"body over {limit} bytes")
        elif path == "/invocations":
            self._invoke(body)
        else:
            self._refuse(path)

    def _refuse(self, path: str) -> None:
        if path in ("/ping", "/invocations"):
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "MethodNotAllowed", f"{self.command} {path}")
        else:
            self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no such path: {path}")

    def _invoke(self, body: bytes) -> None:
        server = self._server
        if server.model is None:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "ModelNotLoaded", "the model is still loading")
            return
        content_type = (
            self.headers.get("ContentType") or self.headers.get("Content-Type") or content_types.JSON
        )
        accept = self.headers.get("Accept")
        if not accept or accept == content_types.ANY:
            accept = server.default_accept
        content = body.decode("utf-8", errors="replace") if content_type in content_types.UTF8_TYPES else body
        try:
            with server.model_lock:
                response = server.model.transform(content, content_type, accept)
        except Exception as error:
            sys.stderr.write(traceback.format_exc())
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, type(error).__name__, str(error))
            return
        extra = [(k, v) for k, v in response.headers.items() if k.lower() not in _OWN_HEADERS]
        self._answer(response.status_code, response.content_type, response.get_data(), extra)

    def _read_body(self) -> bytes | None:
        """The request's body, or None when it is over the limit (then read and dropped)."""
        limit = self._server.max_payload_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self._drain(length)
            return None
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
            total += size
            if total > limit:
                self._drain(size)
            else:
                parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return None if total > limit else b"".join(parts)

    def _drain(self, length: int) -> None:
        # Reading what the client sends keeps the connection usable and spares the client a reset.
        while length > 0:
            read = len(self.rfile.read(min(length, _DRAIN_CHUNK)))
            if read == 0:
                self.close_connection = True
                return
            length -= read

    def _error(self, status: int, error: str, message: str) -> None:
        body = json.dumps({"error": error, "message": message}).encode("utf-8")
        self._answer(status, content_types.JSON, body)

    def _answer(
        self, status: int, content_type: str, body: bytes, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log: one line per request would drown the model's own lines."""


_OWN_HEADERS = {"content-type", "content-length", "connection", "transfer-encoding", "date", "server"}


def _hide_editable_installs() -> None:
    """Drop the import hooks of packages installed in development mode (``pip install -e``).

    The project itself is installed that way in its virtualenv; without this, inference code importing
    the project's packages would work here and fail in the real image.
    """

    def editable(hook: object) -> bool:
        return str(getattr(hook, "__module__", "")).startswith("__editable__")

    sys.meta_path[:] = [finder for finder in sys.meta_path if not editable(finder)]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if not editable(hook)]
    sys.path[:] = [entry for entry in sys.path if not entry.startswith("__editable__")]
    sys.path_importer_cache.clear()


def _exit_with_parent() -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--model-dir", type=Path, required=True, help="the extracted model (/opt/ml/model)")
    parser.add_argument("--max-payload-bytes", type=int, default=DEFAULT_MAX_PAYLOAD_BYTES)
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process dies")
    parser.add_argument(
        "--hide-editable-installs", action="store_true", help="make development-mode packages unimportable"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve the model until SIGTERM or SIGINT; 1 if it cannot be loaded, 98 if the port is taken."""
    args = _arguments(argv)
    if args.hide_editable_installs:
        _hide_editable_installs()
    if args.exit_with_parent:
        threading.Thread(target=_exit_with_parent, daemon=True).start()
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or content_types.JSON
    try:
        server = _Server(args.port, max_payload_bytes=args.max_payload_bytes, default_accept=default_accept)
    except OSError as error:
        print(f"cannot listen on {HOST}:{args.port}: {error}", file=sys.stderr)
        return EXIT_ADDRESS_IN_USE if error.errno == errno.EADDRINUSE else 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        program = os.environ.get("SAGEMAKER_PROGRAM")
        if not program:
            raise ValueError("SAGEMAKER_PROGRAM is not set: it names the model's inference module")
        submit_directory = Path(os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY") or args.model_dir / "code")
        model = load_transformer(program, submit_directory)
        model.initialize(str(args.model_dir.resolve()))
    except Exception:
        sys.stderr.write(traceback.format_exc())
        server.shutdown()
        return 1
    server.model = model
    print(f"model server listening on http://{HOST}:{server.server_port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
