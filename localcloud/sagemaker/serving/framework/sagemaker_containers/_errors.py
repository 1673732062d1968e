"""The container's exceptions that user code may catch or raise."""

from __future__ import annotations


class ClientError(Exception):
    """An error of the request or of the user's code, as opposed to one of the framework."""


class ImportModuleError(ClientError):
    """The user's module (``SAGEMAKER_PROGRAM``) could not be imported."""


class UnsupportedFormatError(Exception):
    """A content type the encoders cannot read or write.

    Parameters
    ----------
    content_type : str
        The request's ``Content-Type`` (for decoding) or ``Accept`` (for encoding).
    """

    def __init__(self, content_type: str) -> None:
        self.content_type = content_type
        self.message = (
            f"Content type {content_type} is not supported by this framework.\n\n"
            "Please implement input_fn to deserialize the request data or an output_fn to serialize the "
            "response. For more information, see the SageMaker Python SDK README."
        )
        super().__init__(self.message)
