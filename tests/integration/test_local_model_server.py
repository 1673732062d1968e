"""The local model server: a model's own inference code served over loopback as SageMaker's sklearn container.

Each test writes a small inference module (``model_fn`` reads a coefficient from the model folder) and
starts a real model server process for it, then talks HTTP to it.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import tarfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localcloud.sagemaker.serving import ModelServer, ModelServerError
from tests.integration.localcloud_fixtures.support import eventually

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
CODE_IN_ARCHIVE = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}

# Handler functions as an endpoint's inference.py writes them: its own parsing, a 4xx answer for a
# request it rejects, and the container's Response with the deprecated positional ``accept``.
INFERENCE = """
import json
import os

from sagemaker_containers.beta.framework import worker


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        model = json.load(f)
    with open(os.path.join(model_dir, "server.pid"), "w") as f:
        f.write(str(os.getpid()))
    return model


def input_fn(body, content_type):
    print(f"input_fn: {len(body)} bytes of {content_type}", flush=True)
    if content_type == "text/csv":
        return [[float(v) for v in line.split(",")] for line in body.splitlines() if line]
    return json.loads(body)["instances"]


def predict_fn(rows, model):
    if any(13 in row for row in rows):
        raise RuntimeError("unlucky row")
    if any(value < 0 for row in rows for value in row):
        return {"rejected": "values must not be negative"}
    return [model["coefficient"] * sum(row) for row in rows]


def output_fn(prediction, accept):
    if isinstance(prediction, dict):
        body = json.dumps({"error": "BadRequest", "message": prediction["rejected"]})
        return worker.Response(body, status=400, mimetype="application/json")
    if accept == "text/csv":
        return worker.Response(response="".join(f"{p}\\n" for p in prediction), mimetype="text/csv")
    if accept == "text/plain":
        return " ".join(str(p) for p in prediction), "text/plain"
    return worker.Response(json.dumps({"predictions": prediction}), accept, mimetype=accept)
"""

# Only model_fn: the container's default input_fn, predict_fn (model.predict) and output_fn.
DEFAULTS_ONLY = """
import numpy as np


class Doubler:
    def predict(self, data):
        return np.atleast_2d(data).sum(axis=1) * 2


def model_fn(model_dir):
    return Doubler()
"""

# transform_fn instead of the three request functions; it shows what the container handed it.
TRANSFORM_ONLY = """
from sagemaker_containers.beta.framework import worker


def model_fn(model_dir):
    return 3


def transform_fn(model, body, content_type, accept):
    text = f"{model} {type(body).__name__} {content_type} {accept}"
    return worker.Response(response=text, status=201, mimetype="text/plain")
"""


def _model_archive(folder: Path, code: str, coefficient: float = 2.0) -> Path:
    """A model.tar.gz as training writes it, with its inference code under code/."""
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (
            ("model.json", json.dumps({"coefficient": coefficient})),
            ("code/inference.py", code),
        ):
            data = text.encode("utf-8")
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return archive


def _start(
    folder: Path,
    code: str,
    environment: dict[str, str] | None = None,
    ship: Callable[[list[str]], None] | None = None,
) -> ModelServer:
    archive = _model_archive(folder, textwrap.dedent(code))
    return ModelServer.start(archive, folder / "model", environment or CODE_IN_ARCHIVE, ship=ship)


class Log:
    """The lines the model server shipped."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def ship(self, lines: list[str]) -> None:
        self.lines.extend(lines)

    def has(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))


@pytest.fixture(scope="module")
def log() -> Log:
    return Log()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, log: Log) -> Iterator[ModelServer]:
    with _start(tmp_path_factory.mktemp("served"), INFERENCE, ship=log.ship) as started:
        yield started


def test_ping_answers_200_once_the_model_is_loaded(server: ModelServer) -> None:
    # Given a started server (start() returned: model_fn ran, from the code inside the archive)
    # When SageMaker's health check calls it
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/ping")
    response = connection.getresponse()

    # Then it is healthy, and model_fn found the extracted model in the model folder
    assert response.status == 200
    assert server.ping()
    assert (server.model_dir / "server.pid").is_file()


def test_csv_and_json_requests_are_predicted_by_the_models_own_code(server: ModelServer) -> None:
    # When rows are sent as CSV and as JSON
    csv_answer = server.invoke(b"1,2\n3,4\n", "text/csv", "text/csv")
    json_answer = server.invoke(b'{"instances": [[1, 2], [3, 4]]}', "application/json", "application/json")

    # Then each comes back from predict_fn (coefficient 2) in the accepted type
    assert csv_answer == (200, "text/csv; charset=utf-8", b"6.0\n14.0\n")
    assert json_answer.status == 200
    assert json_answer.content_type == "application/json"
    assert json.loads(json_answer.body) == {"predictions": [6.0, 14.0]}


def test_accept_defaults_to_json_and_a_tuple_answer_is_a_200(server: ModelServer) -> None:
    # When a CSV request names no Accept, then */*; then one asks for a type output_fn answers as a tuple
    no_accept = server.invoke(b"1,1\n", "text/csv")
    any_type = server.invoke(b"1,1\n", "text/csv", "*/*")
    plain = server.invoke(b"1,1\n2,2\n", "text/csv", "text/plain")

    # Then the container's default (application/json) applies, and the tuple's type is the answer's
    assert no_accept.content_type == any_type.content_type == "application/json"
    assert json.loads(no_accept.body) == {"predictions": [4.0]}
    assert plain == (200, "text/plain; charset=utf-8", b"4.0 8.0")


def test_a_4xx_response_from_output_fn_passes_through_with_its_body(server: ModelServer) -> None:
    # When the model's code rejects a row
    answer = server.invoke(b"1,-1\n", "text/csv", "application/json")

    # Then the caller gets output_fn's status, type and body
    assert answer.status == 400
    assert answer.content_type == "application/json"
    assert json.loads(answer.body) == {"error": "BadRequest", "message": "values must not be negative"}


def test_an_exception_in_the_models_code_is_a_500_without_a_traceback(server: ModelServer, log: Log) -> None:
    # When predict_fn raises
    answer = server.invoke(b"13,1\n", "text/csv", "application/json")

    # Then the answer names the error, and only the endpoint's log has the traceback
    assert answer.status == 500
    assert json.loads(answer.body) == {"error": "RuntimeError", "message": "unlucky row"}
    assert b"Traceback" not in answer.body
    eventually(lambda: log.has("RuntimeError: unlucky row"))
    assert log.has("Traceback (most recent call last):")


def test_a_body_over_6_mb_is_refused_with_413_before_any_model_code(server: ModelServer, log: Log) -> None:
    # Given a connection that has served a request
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = b"1,1\n" * (MAX_PAYLOAD_BYTES // 4) + b"1"  # one byte over SageMaker's limit

    # When a body one byte over the limit comes on it
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
    response = connection.getresponse()
    answer = json.loads(response.read())

    # Then it is refused, input_fn never saw it, and the connection still serves
    assert response.status == 413
    assert answer["error"] == "PayloadTooLarge"
    connection.request("POST", "/invocations", body=b"1,1,1,1,1\n", headers={"Content-Type": "text/csv"})
    assert connection.getresponse().status == 200
    eventually(lambda: log.has("input_fn: 10 bytes of text/csv"))
    assert not log.has(f"input_fn: {len(body)} bytes")


def test_a_chunked_body_is_read_whole(server: ModelServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    headers = {"Content-Type": "text/csv", "Accept": "text/csv"}

    connection.request("POST", "/invocations", body=iter([b"1,2\n", b"3,4\n"]), headers=headers)
    response = connection.getresponse()

    assert response.status == 200
    assert response.read() == b"6.0\n14.0\n"


def test_unknown_paths_are_404_and_wrong_methods_405(server: ModelServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/models")
    missing = connection.getresponse()
    missing.read()
    connection.request("GET", "/invocations")
    wrong_method = connection.getresponse()
    wrong_method.read()

    assert missing.status == 404
    assert wrong_method.status == 405


def test_one_connection_carries_several_requests(server: ModelServer) -> None:
    # Given one HTTP/1.1 connection
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    statuses = []
    sockets = []

    # When two requests go over it
    for _ in range(2):
        connection.request("POST", "/invocations", body=b"1,2\n", headers={"Content-Type": "text/csv"})
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        assert connection.sock is not None
        sockets.append(connection.sock.getsockname())

    # Then the server kept it open: the same socket answered both
    assert statuses == [200, 200]
    assert sockets[0] == sockets[1]
    assert response.getheader("Connection") != "close"


def test_concurrent_requests_each_get_their_own_answer(server: ModelServer) -> None:
    # Given 8 threads, each sending 25 distinct requests on its own connection
    answers: dict[int, list[bytes]] = {}

    def client(worker: int) -> None:
        answers[worker] = [
            server.invoke(f"{worker},{i + 100}\n".encode(), "text/csv", "text/csv").body for i in range(25)
        ]

    threads = [threading.Thread(target=client, args=(worker,)) for worker in range(8)]

    # When they all run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then every answer is the prediction of its own request
    assert {worker: answers.get(worker) for worker in range(8)} == {
        worker: [f"{2.0 * (worker + i + 100)}\n".encode() for i in range(25)] for worker in range(8)
    }


def test_the_containers_default_functions_serve_a_model_with_only_model_fn(tmp_path: Path) -> None:
    # Given a module with only model_fn, and a default Accept set in the model's environment
    environment = {**CODE_IN_ARCHIVE, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    with _start(tmp_path, DEFAULTS_ONLY, environment) as server:
        # When CSV, JSON and an unsupported type are sent
        csv_answer = server.invoke(b"1,2\n3,4\n", "text/csv")
        json_answer = server.invoke(b"[[1.5, 2]]", "application/json", "application/json")
        unsupported = server.invoke(b"a b", "text/plain", "application/json")

    # Then input_fn decoded them, predict_fn called model.predict, and output_fn encoded the result
    assert csv_answer == (200, "text/csv; charset=utf-8", b"6.0\n14.0\n")
    assert json_answer == (200, "application/json", b"[7.0]")
    assert unsupported.status == 415
    assert json.loads(unsupported.body)["error"] == "UnsupportedFormatError"


def test_transform_fn_answers_alone_with_text_types_as_str(tmp_path: Path) -> None:
    with _start(tmp_path, TRANSFORM_ONLY) as server:
        text = server.invoke(b"1,2\n", "text/csv", "text/csv")
        binary = server.invoke(b"\x00", "application/octet-stream")

    assert text == (201, "text/plain; charset=utf-8", b"3 str text/csv text/csv")
    assert binary.body == b"3 bytes application/octet-stream application/json"


def test_a_body_that_is_not_utf8_reaches_the_model_as_the_container_hands_it_over(tmp_path: Path) -> None:
    # Given a transform_fn that answers with what it was handed
    code = """
from sagemaker_containers.beta.framework import worker


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return worker.Response(response=ascii(body), mimetype="text/plain")
"""
    sent = b"caf\xe9,\xff\xfe\x00\n"
    with _start(tmp_path, code) as server:
        # When bytes that are not UTF-8 are sent as a text type, and as any other type
        text = server.invoke(sent, "text/csv")
        binary = server.invoke(sent, "application/x-image")

    # Then a text type is decoded as the container's werkzeug request decodes it (U+FFFD for what is not
    # UTF-8), and any other type arrives as the bytes that were sent
    assert text.body.decode() == ascii("caf\ufffd,\ufffd\ufffd\x00\n")
    assert binary.body.decode() == ascii(sent)


def test_transform_fn_with_input_fn_fails_start(tmp_path: Path) -> None:
    code = TRANSFORM_ONLY + "\n\ndef input_fn(body, content_type):\n    return body\n"

    with pytest.raises(ModelServerError, match="Cannot use transform_fn implementation with input_fn"):
        _start(tmp_path, code)


def test_without_model_fn_the_server_fails_with_the_containers_message(tmp_path: Path) -> None:
    with pytest.raises(ModelServerError, match="Please provide a model_fn implementation"):
        _start(tmp_path, "def predict_fn(data, model):\n    return data\n")


def test_a_model_fn_that_raises_fails_start_with_its_message(tmp_path: Path) -> None:
    code = "def model_fn(model_dir):\n    raise ValueError('no coefficient in ' + model_dir)\n"

    with pytest.raises(ModelServerError) as raised:
        _start(tmp_path, code)

    assert "exited with status 1" in str(raised.value)
    assert f"ValueError: no coefficient in {tmp_path / 'model'}" in str(raised.value)


def test_the_models_code_cannot_import_the_project(tmp_path: Path) -> None:
    # Given inference code that imports the local cloud (installed in development mode in the virtualenv)
    code = "import localcloud\n\ndef model_fn(model_dir):\n    return None\n"

    # Then it fails as it would in the real image
    with pytest.raises(ModelServerError, match="No module named 'localcloud'"):
        _start(tmp_path, code)


def test_stop_ends_the_process(tmp_path: Path) -> None:
    # Given a running server
    server = _start(tmp_path, INFERENCE)
    pid = int((tmp_path / "model" / "server.pid").read_text())

    # When it is stopped
    server.stop()

    # Then its process is gone, and invoking it says so
    assert not server.running
    assert server.returncode == 0  # it shut down on SIGTERM, without needing SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not server.ping()
    with pytest.raises(ModelServerError, match="not running"):
        server.invoke(b"1,1\n", "text/csv")
