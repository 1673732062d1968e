"""Request bodies that are not UTF-8 reach the service as the bytes that were sent.

moto decodes every request body as UTF-8 before a service reads it (``BaseResponse.setup_class``), except
for the few services that declare ``use_raw_body`` (S3, Glacier...). A body that is not UTF-8 text then
fails inside moto's server: a 500 with an HTML page, which the SDKs retry. On AWS, the operations whose
input is a blob take any bytes: ``InvokeEndpoint`` hands them to the model's container (which answers
400 or 415 for what it cannot read), Lambda's ``Invoke`` refuses a payload that is not JSON with
``InvalidRequestContentException`` (see ``awslambda.service``).

So a body that does not decode is kept as bytes, as ``use_raw_body`` keeps it; a body that does is
decoded as moto always did, so nothing changes for the requests moto already served. A gzip-compressed
body is left to moto, which inflates it: the SDKs compress only structured (JSON, query) bodies, never a
blob, and reading it here would keep the compressed bytes.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import BaseResponse

from localcloud.patches import Patch


def patches() -> list[Patch]:
    """The replacement of moto's ``BaseResponse.setup_class``."""
    original = BaseResponse.setup_class

    def setup_class(
        response: BaseResponse,
        request: Any,
        full_url: str | None = None,
        headers: Any = None,
        use_raw_body: bool | None = None,
    ) -> None:
        if use_raw_body is None and not response.use_raw_body and not is_text(request):
            use_raw_body = True
        original(response, request, full_url, headers, use_raw_body)

    return [Patch(BaseResponse, "setup_class", setup_class)]


def is_text(request: Any) -> bool:
    """Whether moto can decode the request's body as UTF-8 (a compressed body counts as text)."""
    if request.content_encoding == "gzip":
        return True
    try:
        request.data.decode("utf-8")  # what moto decodes: a form's fields are parsed apart, not here
    except UnicodeDecodeError:
        return False
    return True
