"""moto's request set-up with ``request_bodies``' patch: text is decoded once, other bytes are kept."""

from __future__ import annotations

import gzip

import pytest
from moto.core.request import Request
from moto.core.responses import BaseResponse
from werkzeug.test import EnvironBuilder

from localcloud import request_bodies

LATIN_1 = "plan\nbásic\n".encode("latin-1")


def _set_up(body: bytes, **headers: str) -> BaseResponse:
    (patch,) = request_bodies.patches()  # called directly: nothing is installed in this process
    environ = EnvironBuilder(
        method="POST",
        path="/endpoints/churn/invocations",
        data=body,
        headers={"Content-Type": "text/csv", "Host": "localhost", **headers},
    ).get_environ()
    response = BaseResponse()
    patch.replacement(response, Request(environ))
    return response


@pytest.mark.parametrize(
    ("sent", "headers", "body"),
    [
        (b"plan\nbasic\n", {}, "plan\nbasic\n"),
        (LATIN_1, {}, LATIN_1),
        (gzip.compress(b"plan\nbasic\n"), {"Content-Encoding": "gzip"}, "plan\nbasic\n"),
        (gzip.compress(LATIN_1), {"Content-Encoding": "gzip"}, LATIN_1),
    ],
    ids=["utf-8", "latin-1", "gzip utf-8", "gzip latin-1"],
)
def test_a_body_is_text_when_it_is_utf8_and_the_bytes_sent_when_it_is_not(
    sent: bytes, headers: dict[str, str], body: str | bytes
) -> None:
    assert _set_up(sent, **headers).body == body
