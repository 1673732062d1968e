"""API Gateway's REST API execution, served beside moto's APIs: a request to a stage URL runs its method.

A stage of API ``<id>`` is served at ``<endpoint>/restapis/<id>/<stage>/_user_request_/<path>`` (the path
form other AWS emulators use, on the local cloud's own port; ``stage_url`` builds it), where AWS serves
``https://<id>.execute-api.<region>.amazonaws.com/<stage>/<path>``. A request goes through what API
Gateway does, in its order:

1. routing (``routing``): an unknown API is 404 ``Not Found`` (AWS has no such host); an unknown stage is
   403 ``Forbidden``; a path or method the API does not have is 403 ``Missing Authentication Token``;
2. authorization: ``AWS_IAM`` methods need a valid SigV4 signature (``sigv4``; 403 otherwise) and, with
   IAM enforcement on, a caller allowed ``execute-api:Invoke`` on the method's ARN
   (``arn:aws:execute-api:<region>:<account>:<id>/<stage>/<METHOD>/<path>``; 403 with AWS's ``Message``
   otherwise; the administrator's key passes); ``NONE`` methods need nothing; Lambda authorizers and
   Cognito user pools are not run (500, and a warning);
3. throttling (``throttling``): 429 ``Too Many Requests`` beyond the method's limits;
4. the integration: ``AWS_PROXY`` to a Lambda function, run by the local cloud's Lambda executor with
   the REST proxy event (``proxy``), if the function's policy lets ``apigateway.amazonaws.com`` invoke it
   for the method's ARN (decided by ``localcloud.roles``). A
   function error or a malformed answer is 502 ``Internal server error``; a missing function or
   permission, and every other integration type, 500 ``Internal server error`` (with a warning saying
   why, where AWS writes it to the execution log).

Every answer carries ``x-amzn-RequestId`` and ``x-amz-apigw-id``; errors also ``x-amzn-ErrorType``.
Not done: request validation (validators are stored, models not checked), API keys and usage plans,
resource policies, the integration timeout (29 s on AWS), caching, and access
and execution logs.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from moto.awslambda.exceptions import LambdaClientError
from werkzeug.wrappers import Request, Response

from localcloud.apigateway import callers, routing, sigv4
from localcloud.apigateway.proxy import IncomingRequest, MalformedAnswerError, proxy_answer, proxy_event
from localcloud.apigateway.throttling import Throttle
from localcloud.awslambda.executor import LambdaExecutor
from localcloud.awslambda.service import find_function
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.records import Activity
from localcloud.roles import service_refusal

APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
USER_REQUEST = "_user_request_"
_STAGE_PATH = re.compile(rf"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/{USER_REQUEST}(?P<path>/.*)?$")
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")
_INTERNAL_ERROR = "Internal server error"
_INTERNAL = "InternalServerErrorException"
_NO_ROUTE = ("MissingAuthenticationTokenException", "Missing Authentication Token")

logger = logging.getLogger(__name__)


def stage_url(endpoint_url: str, api_id: str, stage: str) -> str:
    """The local URL of a stage, ending with ``/``: append a resource path (without its leading ``/``)."""
    return f"{endpoint_url}/restapis/{api_id}/{stage}/{USER_REQUEST}/"


_EXECUTE_API_URL = re.compile(
    r"^https://(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<stage>[^/?#]+)/?(?P<path>.*)$"
)


def local_stage_url(endpoint_url: str, url: str) -> str:
    """``url`` on the local endpoint if it is a REST API's ``execute-api`` URL (a stack output), else as is.

    ``https://<id>.execute-api.<region>.amazonaws.com/<stage>/<path>`` becomes
    ``<endpoint>/restapis/<id>/<stage>/_user_request_/<path>``.
    """
    matched = _EXECUTE_API_URL.match(url)
    if matched is None:
        return url
    return stage_url(endpoint_url, matched["api"], matched["stage"]) + (matched["path"] or "")


class RestApiGateway:
    """Serves the stages of moto's REST APIs (a WSGI front of moto's server).

    Parameters
    ----------
    executor : LambdaExecutor
        Runs the functions of Lambda proxy integrations.
    activity : Activity
        Counts requests in flight for ``wait_idle``.
    throttle : Throttle | None
        The token buckets; a new one when None.
    iam : LocalIam | None
        Decides ``execute-api:Invoke`` for ``AWS_IAM`` methods when it enforces; nothing is decided when None.
    """

    def __init__(
        self,
        *,
        executor: LambdaExecutor,
        activity: Activity,
        throttle: Throttle | None = None,
        iam: LocalIam | None = None,
    ) -> None:
        self._executor = executor
        self._activity = activity
        self._throttle = throttle or Throttle()
        self._iam = iam

    def wrap(self, app: Any) -> Any:
        """A WSGI app that answers stage URLs and passes everything else to ``app``."""

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            matched = _STAGE_PATH.match(environ.get("PATH_INFO", ""))
            if matched is None:
                return app(environ, start_response)  # type: ignore[no-any-return]
            path = matched["path"] or "/"
            response = self.handle(Request(environ), matched["api"], matched["stage"], path)
            return response(environ, start_response)

        return dispatch

    def handle(self, request: Request, api_id: str, stage_name: str, path: str) -> Response:
        """Answer one request to ``path`` (decoded, from ``/``) on a stage, as API Gateway would."""
        request_id = str(uuid.uuid4())
        self._activity.begin()
        try:
            return self._handle(request, api_id, stage_name, _normalized(path), request_id)
        finally:
            self._activity.end()

    def _handle(self, request: Request, api_id: str, stage_name: str, path: str, request_id: str) -> Response:
        api = routing.find_api(api_id)
        if api is None:
            return _error(request_id, 404, "NotFoundException", "Not Found")
        stage = api.model.stages.get(stage_name)
        if stage is None:
            return _error(request_id, 403, "ForbiddenException", "Forbidden")
        route = routing.find_route(api.model, path, request.method)
        if route is None:
            return _error(request_id, 403, *_NO_ROUTE)
        source_arn = (
            f"arn:aws:execute-api:{api.region}:{api.account_id}:{api_id}/{stage_name}/{request.method}{path}"
        )
        caller: callers.Caller | None = None
        authorization = route.method.authorization_type or "NONE"
        if authorization == "AWS_IAM":
            verified = sigv4.authenticate(
                _signed(request),
                region=api.region,
                find_caller=lambda key: callers.find_caller(key, api.account_id),
            )
            if isinstance(verified, sigv4.Refusal):
                return _error(request_id, 403, verified.error_type, verified.message)
            caller = verified
            denied = self._invoke_denied(caller, source_arn)
            if denied is not None:
                return _error(request_id, 403, "AccessDeniedException", denied, key="Message")
        elif authorization != "NONE":
            logger.warning("%s %s: %s authorization is not run locally", request.method, path, authorization)
            return _error(request_id, 500, _INTERNAL, _INTERNAL_ERROR)
        if not self._throttle.allow(
            api_id, stage_name, stage.method_settings, route.resource_path, route.method.http_method
        ):
            return _error(request_id, 429, "TooManyRequestsException", "Too Many Requests")
        incoming = _incoming(request, path, route, stage.variables)
        event = proxy_event(
            incoming,
            api=api.model,
            account_id=api.account_id,
            region=api.region,
            stage=stage,
            request_id=request_id,
            caller=caller,
        )
        return self._integrate(route, event, source_arn, request_id)

    def _invoke_denied(self, caller: callers.Caller, method_arn: str) -> str | None:
        """AWS's message if the caller may not ``execute-api:Invoke`` the method; None if it may."""
        if self._iam is None or not self._iam.enforcer.enabled:
            return None
        principal = self._iam.sessions.principal(caller.access_key)
        if principal is None:  # the administrator
            return None
        try:
            self._iam.enforcer.authorize_action(principal, "execute-api:Invoke", method_arn)
        except AccessDeniedError as error:
            return error.message
        return None

    def _integrate(
        self, route: routing.Route, event: dict[str, Any], source_arn: str, request_id: str
    ) -> Response:
        integration = route.method.method_integration
        matched = _LAMBDA_URI.match(integration.uri or "") if integration is not None else None
        if integration is None or integration.integration_type != "AWS_PROXY" or matched is None:
            kind = integration.integration_type if integration is not None else "no"
            logger.warning(
                "%s: %s integration is not served locally (only AWS_PROXY to Lambda)", source_arn, kind
            )
            return _error(request_id, 500, _INTERNAL, _INTERNAL_ERROR)
        try:
            function = find_function(matched["arn"])
        except (LambdaClientError, IndexError) as error:
            logger.warning("%s: the integration's function cannot be found: %s", source_arn, error)
            return _error(request_id, 500, _INTERNAL, _INTERNAL_ERROR)
        refused = service_refusal(
            APIGATEWAY_PRINCIPAL,
            action="lambda:InvokeFunction",
            resource=matched["arn"],
            source_arn=source_arn,
        )
        if refused is not None:
            logger.warning(
                "%s: invalid permissions on Lambda function %s: %s",
                source_arn,
                function.function_name,
                refused,
            )
            return _error(request_id, 500, _INTERNAL, _INTERNAL_ERROR)
        outcome = self._executor.invoke(function, event, "RequestResponse")
        if outcome.function_error:
            logger.info("%s: the function failed (%s)", source_arn, outcome.error_type)
            return _error(request_id, 502, _INTERNAL, _INTERNAL_ERROR)
        try:
            answer = proxy_answer(json.loads(outcome.payload or b"null"))
        except (ValueError, MalformedAnswerError) as error:
            logger.warning("%s: malformed Lambda proxy response: %s", source_arn, error)
            return _error(request_id, 502, _INTERNAL, _INTERNAL_ERROR)
        response = Response(answer.body, status=answer.status)
        response.headers.clear()  # werkzeug's default Content-Type would add to the function's
        for name, value in answer.headers:
            response.headers.add(name, value)
        _stamp(response, request_id)
        return response


def _incoming(
    request: Request, path: str, route: routing.Route, variables: dict[str, str]
) -> IncomingRequest:
    headers = list(request.headers.items())
    port = request.host.rpartition(":")[2] if ":" in request.host else ""
    source_ip = request.remote_addr or "127.0.0.1"
    upstream = request.headers.get("X-Forwarded-For")  # API Gateway appends the client to a chain
    forwarded = [
        ("X-Forwarded-For", f"{upstream}, {source_ip}" if upstream else source_ip),
        ("X-Forwarded-Port", port or "80"),
        ("X-Forwarded-Proto", request.scheme),
        ("X-Amzn-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"),
    ]
    names = {name.lower() for name, _ in forwarded}
    headers = [(n, v) for n, v in headers if n.lower() not in names] + forwarded
    return IncomingRequest(
        http_method=request.method,
        path=path,
        resource_path=route.resource_path,
        resource_id=route.resource.id,
        path_parameters=route.path_parameters,
        headers=headers,
        query=parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True),
        body=request.get_data(),
        source_ip=source_ip,
        user_agent=request.user_agent.string or None,
        protocol=request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        stage_variables=variables,
    )


def _signed(request: Request) -> sigv4.SignedRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw_uri:
        query = request.query_string.decode("latin-1")
        raw_uri = request.environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    return sigv4.SignedRequest(
        method=request.method, host=request.host, raw_path=raw_uri, headers=headers, body=request.get_data()
    )


def _normalized(path: str) -> str:
    return "/" + path.strip("/") if path.strip("/") else "/"


def _error(request_id: str, status: int, error_type: str, message: str, *, key: str = "message") -> Response:
    # API Gateway's own errors say "message"; an IAM denial of execute-api:Invoke says "Message".
    response = Response(json.dumps({key: message}), status=status, mimetype="application/json")
    response.headers["x-amzn-ErrorType"] = error_type
    _stamp(response, request_id)
    return response


def _stamp(response: Response, request_id: str) -> None:
    response.headers["x-amzn-RequestId"] = request_id
    response.headers["x-amz-apigw-id"] = uuid.uuid4().hex[:15].upper() + "="
