"""What the endpoint speaks: the media types it reads and writes, and a refusal with its HTTP status."""

from __future__ import annotations

from typing import Any

CSV, JSON, JSONLINES = "text/csv", "application/json", "application/jsonlines"

_REASONS = {
    400: "BadRequest",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


class RequestError(Exception):
    """The request cannot be answered with a prediction; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body."""
        body: dict[str, Any] = {"error": _REASONS.get(self.status, "Error"), "message": self.message}
        if self.problems:
            body["problems"] = self.problems
        return body


def media_type(header: str | None) -> str:
    """The media type of a ``Content-Type`` or ``Accept`` header, without its parameters, lower case."""
    return (header or "").split(";", 1)[0].strip().lower()
