"""``worker.Response``: what ``output_fn`` and ``transform_fn`` return, as in the real container.

In the real container it is a Flask (werkzeug) response whose second positional parameter is a
deprecated ``accept`` (ignored, with a warning): ``Response(body, accept, mimetype=accept)`` is what
SageMaker's examples write, so it must not be taken for a status. The rest follows werkzeug: the status
is an ``int`` or a ``"400 BAD REQUEST"`` string, the default media type is JSON, and ``text/*`` types
get ``; charset=utf-8`` in ``Content-Type`` (``.mimetype`` is the type without parameters).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from wsgiref.headers import Headers

from sagemaker_containers import _content_types

ResponseBody = str | bytes | bytearray | memoryview | Iterable[str | bytes] | None
HeaderValues = Mapping[str, str] | Iterable[tuple[str, str]] | None

# The types werkzeug gives a charset, besides text/* and */*+xml.
_CHARSET_TYPES = {
    "application/ecmascript",
    "application/javascript",
    "application/sql",
    "application/xml",
    "application/xml-dtd",
    "application/xml-external-parsed-entity",
}


class Response:
    """An HTTP response of the model server.

    Parameters
    ----------
    response : str | bytes | Iterable[str | bytes] | None
        The body; ``str`` parts are encoded as UTF-8.
    accept : str | None
        Deprecated in the real container and ignored (with a ``DeprecationWarning``).
    status : int | str
        The status code, or a status line such as ``"400 BAD REQUEST"``.
    headers : Mapping[str, str] | Iterable[tuple[str, str]] | None
        Extra headers.
    mimetype : str | None
        The media type; ``application/json`` when neither it, ``content_type`` nor a ``Content-Type``
        header is given.
    content_type : str | None
        The whole ``Content-Type`` value (parameters included); wins over ``mimetype``.
    direct_passthrough : bool
        Accepted for compatibility; it changes nothing here.
    """

    default_mimetype = _content_types.JSON

    def __init__(
        self,
        response: ResponseBody = None,
        accept: str | None = None,
        status: int | str = HTTPStatus.OK,
        headers: HeaderValues = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if accept:
            warnings.warn(
                'ignoring deprecated "accept" argument to Response.__init__', DeprecationWarning, stacklevel=2
            )
        self.status_code = _status_code(status)
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        self.headers = Headers([(str(name), str(value)) for name, value in pairs])
        if content_type is None and mimetype is None and "Content-Type" in self.headers:
            content_type = self.headers["Content-Type"]
        if content_type is None:
            content_type = _with_charset(mimetype or self.default_mimetype)
        self.headers["Content-Type"] = content_type
        self._data = _body(response)

    @property
    def status(self) -> str:
        """The status line's code and phrase, e.g. ``"400 BAD REQUEST"``."""
        try:
            phrase = HTTPStatus(self.status_code).phrase.upper()
        except ValueError:
            phrase = "UNKNOWN"
        return f"{self.status_code} {phrase}"

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header's whole value."""
        return self.headers["Content-Type"] or ""

    @property
    def mimetype(self) -> str:
        """The media type, without parameters and in lower case."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def data(self) -> bytes:
        """The body."""
        return self._data

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body, as ``bytes`` (or decoded from UTF-8 with ``as_text``)."""
        return self._data.decode("utf-8", errors="replace") if as_text else self._data

    def __repr__(self) -> str:
        return f"<Response {len(self._data)} bytes [{self.status}]>"


def _status_code(status: int | str) -> int:
    if isinstance(status, int):
        return int(status)
    code = str(status).strip().split(None, 1)[0] if str(status).strip() else ""
    if not code.isdigit():
        raise ValueError(f"not an HTTP status: {status!r}")
    return int(code)


def _with_charset(mimetype: str) -> str:
    bare = mimetype.split(";", 1)[0].strip().lower()
    wants_charset = bare.startswith("text/") or bare in _CHARSET_TYPES or bare.endswith("+xml")
    if wants_charset and "charset" not in mimetype.lower():
        return f"{mimetype}; charset=utf-8"
    return mimetype


def _body(response: ResponseBody) -> bytes:
    if response is None:
        return b""
    if isinstance(response, str):
        return response.encode("utf-8")
    if isinstance(response, bytes | bytearray | memoryview):
        return bytes(response)
    parts: list[bytes] = []
    for part in response:
        if isinstance(part, str):
            parts.append(part.encode("utf-8"))
        elif isinstance(part, bytes | bytearray | memoryview):
            parts.append(bytes(part))
        else:
            raise TypeError(f"a response body holds str or bytes, not {type(part).__name__}")
    return b"".join(parts)
