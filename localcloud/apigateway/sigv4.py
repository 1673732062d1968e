"""Signature Version 4 verification of requests to ``AWS_IAM`` methods, as API Gateway verifies them.

The signature is computed again with botocore's signer from what the request carries (method, host,
path and query as sent, the headers it names in ``SignedHeaders``, the body), the date of its
``X-Amz-Date`` and the secret of its access key (see ``callers``), and compared. A refusal carries API
Gateway's error type and message: ``MissingAuthenticationTokenException`` without an ``Authorization``
header, ``IncompleteSignatureException`` for a malformed one, ``UnrecognizedClientException`` for an
unknown access key, ``InvalidSignatureException`` for a wrong scope, a date more than five minutes
away, or a signature that does not match (with the canonical request and string to sign API Gateway
expected, as it gives them).

What is not checked: IAM policies (whether the caller may ``execute-api:Invoke`` the method, and the
API's resource policy): any known caller with a valid signature is let through. Signatures in the query
string (presigned URLs) and session tokens are not verified either.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localcloud.apigateway.callers import Caller

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_MAX_SKEW = timedelta(minutes=5)
_INVALID_TOKEN = "The security token included in the request is invalid."
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers. ``headers`` are keyed in lower case (repeated ones joined by commas)."""

    method: str
    host: str
    raw_path: str  # the path and query string as sent, still percent-encoded
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Refusal:
    """Why API Gateway refuses a request: its ``x-amzn-ErrorType`` and ``message``."""

    error_type: str
    message: str


CallerLookup = Callable[[str], tuple[Caller, str] | None]


def authenticate(
    request: SignedRequest, *, region: str, find_caller: CallerLookup, now: datetime | None = None
) -> Caller | Refusal:
    """The caller who signed ``request`` for ``execute-api`` in ``region``, or why it is refused.

    Parameters
    ----------
    request : SignedRequest
        The request as received.
    region : str
        The API's region: the credential scope must name it.
    find_caller : CallerLookup
        Access key -> (caller, secret key), or None for a key nobody holds.
    now : datetime | None
        The time to check the request's date against (now when None).
    """
    header = request.headers.get("authorization")
    if not header:
        return Refusal("MissingAuthenticationTokenException", "Missing Authentication Token")
    parts = _authorization_parts(header)
    timestamp = _timestamp(request.headers)
    incomplete = _incomplete(parts, timestamp, header)
    if incomplete is not None:
        return incomplete
    assert timestamp is not None  # _incomplete checked it
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return Refusal(
            "IncompleteSignatureException",
            f"Credential should be scoped to a valid region. Credential={parts['Credential']}",
        )
    access_key, day, scope_region, service, _ = scope
    if service != SERVICE:
        return Refusal(
            "InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'. "
        )
    if scope_region != region:
        return Refusal("InvalidSignatureException", "Credential should be scoped to a valid region. ")
    if day != timestamp[:8]:
        return Refusal(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{day}' != '{timestamp[:8]}', from '{timestamp}'.",
        )
    expired = _expired(timestamp, now or datetime.now(UTC))
    if expired is not None:
        return expired
    found = find_caller(access_key)
    if found is None:
        return Refusal("UnrecognizedClientException", _INVALID_TOKEN)
    caller, secret = found
    canonical, string_to_sign, signature = _sign(request, parts, timestamp, secret, region)
    if not hmac.compare_digest(signature, parts["Signature"]):
        message = (
            f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n"
        )
        return Refusal("InvalidSignatureException", message)
    return caller


def _authorization_parts(header: str) -> dict[str, str]:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        return {}
    parts = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        if name and value:
            parts[name] = value
    return parts


def _timestamp(headers: Mapping[str, str]) -> str | None:
    if headers.get("x-amz-date"):
        return headers["x-amz-date"]
    if headers.get("date"):
        try:
            return parsedate_to_datetime(headers["date"]).astimezone(UTC).strftime(_TIMESTAMP)
        except (TypeError, ValueError):
            return None
    return None


def _incomplete(parts: dict[str, str], timestamp: str | None, header: str) -> Refusal | None:
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if name not in parts
    ]
    if timestamp is None:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if not missing:
        return None
    return Refusal("IncompleteSignatureException", " ".join(missing) + f" Authorization={header}")


def _expired(timestamp: str, now: datetime) -> Refusal | None:
    try:
        signed_at = datetime.strptime(timestamp, _TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        message = f"Date must be in ISO-8601 'basic format'. Got '{timestamp}'."
        return Refusal("IncompleteSignatureException", message)
    stamp = now.strftime(_TIMESTAMP)
    if signed_at < now - _MAX_SKEW:
        limit = (now - _MAX_SKEW).strftime(_TIMESTAMP)
        return Refusal(
            "InvalidSignatureException",
            f"Signature expired: {timestamp} is now earlier than {limit} ({stamp} - 5 min.)",
        )
    if signed_at > now + _MAX_SKEW:
        limit = (now + _MAX_SKEW).strftime(_TIMESTAMP)
        return Refusal(
            "InvalidSignatureException",
            f"Signature not yet current: {timestamp} is still later than {limit} ({stamp} + 5 min.)",
        )
    return None


def _sign(
    request: SignedRequest, parts: dict[str, str], timestamp: str, secret: str, region: str
) -> tuple[str, str, str]:
    names = [name.strip().lower() for name in parts["SignedHeaders"].split(";") if name.strip()]
    headers = {name: request.headers.get(name, "") for name in names}
    if "host" in names:
        headers["host"] = request.host
    access_key = parts["Credential"].split("/")[0]
    # http: the signer hashes the body (over https a client may send UNSIGNED-PAYLOAD instead, in
    # X-Amz-Content-SHA256, which the signer then uses as it is).
    url = f"http://{request.host}{request.raw_path}"
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = timestamp
    signer = SigV4Auth(Credentials(access_key, secret), SERVICE, region)
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    return canonical, string_to_sign, signer.signature(string_to_sign, aws_request)
