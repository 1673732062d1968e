"""Request bodies that are not UTF-8 reach the service as the bytes that were sent.

moto decodes every request body as UTF-8 before a service reads it (``BaseResponse.setup_class``), except
for the few services that declare ``use_raw_body`` (S3, Glacier...). A body that is not UTF-8 text then
fails inside moto's server: a 500 with an HTML page, which the SDKs retry. On AWS, the operations whose
input is a blob take any bytes: ``InvokeEndpoint`` hands them to the model's container (which answers
400 or 415 for what it cannot read), Lambda's ``Invoke`` refuses a payload that is not JSON with
``InvalidRequestContentException`` (see ``awslambda.service``).

So when moto's decode fails, the request is set up again keeping the body as bytes, as ``use_raw_body``
keeps it; a body that decodes is decoded once, by moto, as it always was. A gzip-compressed body is
inflated by moto first, so it is what the client compressed that is kept.
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
        try:
            original(response, request, full_url, headers, use_raw_body)
        except UnicodeDecodeError:
            if use_raw_body is not None:
                raise
            # The only decode that escapes setup_class is the body's. Set up again, keeping it as bytes;
            # the request holds it inflated already (a second inflate would wrap the stream twice).
            response.allow_request_decompression = False
            original(response, request, full_url, headers, True)

    return [Patch(BaseResponse, "setup_class", setup_class)]
