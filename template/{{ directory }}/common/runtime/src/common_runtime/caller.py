"""Who is calling: the identity API Gateway authenticated, as the route sees it.

API Gateway authenticates each request (IAM, a Cognito user pool, a Lambda authorizer) and
passes what it learned in the event's ``requestContext``; Lambda Web Adapter forwards that
object as JSON in the ``x-amzn-request-context`` header. :func:`caller_dependency` reads it in
both payload shapes:

- REST APIs (payload 1.0): ``identity.userArn`` (IAM), ``authorizer.claims`` (Cognito),
  ``authorizer.principalId`` and the authorizer's context (Lambda authorizer);
- HTTP APIs (payload 2.0): ``authorizer.iam``, ``authorizer.jwt.claims`` (Cognito, JWT
  authorizer) and ``authorizer.lambda`` (Lambda authorizer).

Only the adapter sets that header on Lambda, and ``poe serve`` (the local gateway) sets it
after checking the API's auth, dropping any copy a client sent.
"""

from __future__ import annotations

import contextvars
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from fastapi import HTTPException, Request

#: How API Gateway authenticated the request.
Auth = Literal["IAM", "Cognito", "Custom", "None"]

#: The header Lambda Web Adapter puts the event's ``requestContext`` in (JSON).
REQUEST_CONTEXT_HEADER = "x-amzn-request-context"

#: API Gateway's own body for a refused request; the 401 routes answer the same way.
UNAUTHORIZED = "Unauthorized"

#: The longest request context read: API Gateway's contexts are a few kilobytes, claims included.
_MAX_CONTEXT_BYTES = 64 * 1024

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CallerInfo:
    """Who called, as API Gateway authenticated them.

    ``auth``: how (``"IAM"``, ``"Cognito"``, ``"Custom"`` or ``"None"``). ``principal``: the
    IAM user or role ARN, the token's ``sub``, or the Lambda authorizer's ``principalId``;
    ``None`` when nobody was authenticated. ``claims``: the token's claims or the Lambda
    authorizer's context (read-only; empty for IAM). The IAM attributes (``account``,
    ``access_key``, ``user_id``) are set for IAM callers only; ``source_ip`` whenever the
    gateway gave it.
    """

    auth: Auth
    principal: str | None = None
    claims: Mapping[str, Any] = field(default=_EMPTY)
    account: str | None = None
    access_key: str | None = None
    user_id: str | None = None
    source_ip: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        """Whether nobody was authenticated."""
        return self.principal is None


class MalformedContextError(ValueError):
    """The request context header is not a JSON object."""


def _object(value: object) -> dict[str, Any] | None:
    """``value`` if it is a JSON object, else ``None`` (absent and ``null`` alike)."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _text(value: object) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def parse_request_context(raw: str | bytes) -> dict[str, Any] | None:
    """The request context of the header's value, ``None`` for ``null`` (the adapter's value
    for an invocation that did not come through API Gateway); :class:`MalformedContextError`
    otherwise."""
    if len(raw) > _MAX_CONTEXT_BYTES:
        raise MalformedContextError("request context too large")
    try:
        context = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedContextError("request context is not JSON") from error
    if context is None:
        return None
    parsed = _object(context)
    if parsed is None:
        raise MalformedContextError("request context is not a JSON object")
    return parsed


def _source_ip(context: Mapping[str, Any]) -> str | None:
    http = _object(context.get("http")) or {}
    identity = _object(context.get("identity")) or {}
    return _text(http.get("sourceIp")) or _text(identity.get("sourceIp"))


def _iam(context: Mapping[str, Any]) -> CallerInfo | None:
    authorizer = _object(context.get("authorizer")) or {}
    # HTTP APIs: authorizer.iam; REST APIs: the identity block.
    iam = _object(authorizer.get("iam"))
    if iam is not None:
        user_id = _text(iam.get("userId")) or _text(iam.get("callerId"))
    else:
        iam = _object(context.get("identity")) or {}
        user_id = _text(iam.get("user")) or _text(iam.get("caller"))
    arn = _text(iam.get("userArn"))
    if arn is None:
        return None
    return CallerInfo(
        auth="IAM",
        principal=arn,
        account=_text(iam.get("accountId")),
        access_key=_text(iam.get("accessKey")),
        user_id=user_id,
        source_ip=_source_ip(context),
    )


def _cognito(context: Mapping[str, Any]) -> CallerInfo | None:
    authorizer = _object(context.get("authorizer")) or {}
    # HTTP APIs: authorizer.jwt.{claims,scopes}; REST APIs: authorizer.{claims,scopes}.
    jwt = _object(authorizer.get("jwt")) or authorizer
    claims = _object(jwt.get("claims"))
    if claims is None:
        return None
    raw_scopes = jwt.get("scopes")
    scopes = raw_scopes if isinstance(raw_scopes, list) else []
    return CallerInfo(
        auth="Cognito",
        principal=_text(claims.get("sub")),
        claims=MappingProxyType(dict(claims)),
        scopes=tuple(s for s in scopes if isinstance(s, str)),
        source_ip=_source_ip(context),
    )


#: What REST APIs add to a Lambda authorizer's context: not the authorizer's to say.
_GATEWAY_AUTHORIZER_KEYS = frozenset({"principalId", "integrationLatency"})


def _custom(context: Mapping[str, Any]) -> CallerInfo | None:
    authorizer = _object(context.get("authorizer")) or {}
    # HTTP APIs: authorizer.lambda is the authorizer's context (a simple response has no
    # principalId, so the context's own principalId or sub names the caller).
    lambda_context = _object(authorizer.get("lambda"))
    if lambda_context is not None:
        # The authorizer allowed the request even when its context names nobody.
        principal = _text(lambda_context.get("principalId")) or _text(lambda_context.get("sub"))
        claims = dict(lambda_context)
    else:
        principal = _text(authorizer.get("principalId"))
        if principal is None:
            return None
        claims = {k: v for k, v in authorizer.items() if k not in _GATEWAY_AUTHORIZER_KEYS}
    return CallerInfo(
        auth="Custom",
        principal=principal,
        claims=MappingProxyType(claims),
        source_ip=_source_ip(context),
    )


_READERS: dict[Auth, Callable[[Mapping[str, Any]], CallerInfo | None]] = {
    "IAM": _iam,
    "Cognito": _cognito,
    "Custom": _custom,
}


def caller_from_context(context: Mapping[str, Any], auth: Auth) -> CallerInfo | None:
    """The caller an API authenticating with ``auth`` sees in ``context``.

    ``None`` when the context names nobody the way ``auth`` would: the request did not pass
    that authenticator. An API with ``auth="None"`` always gets an anonymous caller.
    """
    if auth == "None":
        return CallerInfo(auth="None", source_ip=_source_ip(context))
    return _READERS[auth](context)


def _on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


#: The caller of the request being served, for the log lines (``LOG_CALLER``).
current_caller: contextvars.ContextVar[CallerInfo | None] = contextvars.ContextVar(
    "current_caller", default=None
)


class CallerLogFilter:
    """Adds ``caller_auth`` and ``caller_principal`` to the log records of a request whose
    route took :data:`Caller` (from then on: the route's lines and the ``Request completed``
    line)."""

    def filter(self, record: Any) -> bool:
        """Annotate ``record``; never drops it."""
        caller = current_caller.get()
        if caller is not None:
            record.caller_auth = caller.auth
            record.caller_principal = caller.principal
        return True


def log_caller_requested() -> bool:
    """Whether ``LOG_CALLER`` asks for the caller in the request's log lines."""
    return os.environ.get("LOG_CALLER", "").strip().lower() in {"1", "true", "yes", "on"}


def caller_dependency(
    auth: Auth, *, logger: Any | None = None
) -> Callable[[Request], Awaitable[CallerInfo]]:
    """A FastAPI dependency giving the caller of an API that authenticates with ``auth``.

    Use it through ``Annotated[CallerInfo, Depends(caller_dependency(auth))]`` (each API's
    ``init.py`` exports that as ``Caller``). It answers:

    - 400 when the request context header is not a JSON object;
    - 401 (``Unauthorized``) when the context does not name a caller the way ``auth`` does
      (the request did not pass the API's authenticator), or, on Lambda, when an
      authenticated API gets no context at all;
    - off Lambda without a context (the app served without the local gateway, as in tests
      or ``poe serve --no-auth``): an anonymous caller, ``auth="None"``.

    With ``LOG_CALLER=true`` and a ``logger``, the request's log lines carry
    ``caller_auth`` and ``caller_principal`` once the route has asked for its caller.
    """
    log_caller = logger is not None and log_caller_requested()
    if log_caller and logger is not None:
        logger.addFilter(CallerLogFilter())

    async def caller(request: Request) -> CallerInfo:
        # async: runs in the request's own context, so the log filter sees what it sets.
        raw = request.headers.get(REQUEST_CONTEXT_HEADER)
        try:
            context = None if raw is None else parse_request_context(raw)
        except MalformedContextError as error:
            raise HTTPException(status_code=400, detail=f"Malformed {error}") from None
        found: CallerInfo | None
        if context is None:
            if auth != "None" and _on_lambda():
                raise HTTPException(status_code=401, detail=UNAUTHORIZED)
            found = CallerInfo(auth="None")
        else:
            found = caller_from_context(context, auth)
            if found is None:
                raise HTTPException(status_code=401, detail=UNAUTHORIZED)
        if log_caller:
            current_caller.set(found)
        return found

    return caller
