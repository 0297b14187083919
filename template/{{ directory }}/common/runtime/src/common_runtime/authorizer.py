"""The Lambda authorizer of APIs that authenticate with ``Custom``: JWTs of one issuer.

API Gateway calls it before the API's functions and caches its answer (by the ``Authorization``
header) for the authorizer's TTL. It verifies the bearer token with PyJWT against the issuer's
published keys (JWKS, fetched once and cached, fetched again for a key id it does not know):
signature (asymmetric algorithms only), issuer, audience, expiry. Configured by the function's
environment:

- ``JWT_ISSUER``: the issuer URL tokens must name in ``iss``;
- ``JWT_AUDIENCE``: the audiences (comma separated) one of which a token must name in ``aud``
  (or in ``client_id``, as Cognito access tokens do);
- ``JWKS_URL`` (optional): the issuer's key set, by default ``<JWT_ISSUER>/.well-known/jwks.json``
  (Cognito's and Auth0's address);
- ``JWT_ALGORITHMS`` (optional): the signature algorithms accepted, by default ``RS256``.

Deny by default: without an issuer and an audience, every request is refused.

It answers the three events API Gateway sends, each in its own format:

- REST API ``TOKEN`` authorizer (``authorizationToken``, ``methodArn``) and REST ``REQUEST``
  authorizer (``headers``, ``methodArn``): an IAM policy allowing ``execute-api:Invoke`` on
  every method of the API's stage (API Gateway caches one policy per token for all of them),
  ``principalId`` = the token's ``sub``, ``context`` = its claims as strings. A request it
  refuses raises ``Unauthorized``, API Gateway's documented way to answer 401 (a Deny policy
  would answer 403, which tells a client that a new token would not help);
- HTTP API ``REQUEST`` authorizer, payload format 2.0 with simple responses:
  ``{"isAuthorized": bool, "context": {...}}`` (API Gateway answers 403 to a refusal).

Whatever the event or token, a refusal says nothing about why to the caller: the reason is
logged.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from aws_lambda_powertools import Logger

#: Algorithms a token may be signed with: asymmetric ones only (never ``none`` nor a shared
#: secret an attacker could guess from the public key).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

#: What a REST authorizer raises to have API Gateway answer 401 ``{"message":"Unauthorized"}``.
UNAUTHORIZED = "Unauthorized"

#: The longest token read: real ones are a few kilobytes.
_MAX_TOKEN_LENGTH = 16 * 1024

#: ``arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/<method>/<path>``.
_METHOD_ARN = re.compile(
    r"^(?P<prefix>arn:[\w-]+:execute-api:[\w-]+:\d{12}:)(?P<api>[A-Za-z0-9]+)/(?P<stage>[^/]+)/"
)

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "authorizer")


class UnauthorizedError(Exception):
    """A REST API request refused with 401; its message is what API Gateway expects."""

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED)


class _RefusedError(Exception):
    """Why a request is refused (logged, never returned to the caller)."""


@dataclass(frozen=True)
class AuthorizerConfig:
    """Whose tokens pass: the issuer, its audiences, its key set and the algorithms allowed."""

    issuer: str | None
    audiences: tuple[str, ...]
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)

    @classmethod
    def from_environment(cls) -> AuthorizerConfig:
        """The configuration of ``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWKS_URL`` and
        ``JWT_ALGORITHMS``."""
        algorithms = _listed(os.environ.get("JWT_ALGORITHMS", "")) or ("RS256",)
        return cls(
            issuer=os.environ.get("JWT_ISSUER", "").strip().rstrip("/") or None,
            audiences=_listed(os.environ.get("JWT_AUDIENCE", "")),
            jwks_url=os.environ.get("JWKS_URL", "").strip() or None,
            algorithms=algorithms,
        )

    @property
    def keys_url(self) -> str | None:
        """Where the issuer's keys are: ``jwks_url``, else the issuer's well-known address."""
        if self.jwks_url:
            return self.jwks_url
        return f"{self.issuer}/.well-known/jwks.json" if self.issuer else None


def _listed(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


class Authorizer:
    """Verifies bearer tokens for API Gateway's Lambda authorizer events (see the module)."""

    def __init__(self, config: AuthorizerConfig) -> None:
        self.config = config
        unknown = set(config.algorithms) - ASYMMETRIC_ALGORITHMS
        if unknown:
            raise ValueError(f"JWT_ALGORITHMS may name asymmetric algorithms only: {unknown}")
        url = config.keys_url
        # PyJWKClient caches the key set and fetches it again for a key id it does not know.
        self._keys = (
            jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5) if url else None
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this issuer signed for one of the audiences; ``_RefusedError``
        otherwise."""
        if self._keys is None or self.config.issuer is None or not self.config.audiences:
            raise _RefusedError("no issuer and audience configured (JWT_ISSUER, JWT_AUDIENCE)")
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise _RefusedError("no token, or one too long")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.config.algorithms),
                issuer=self.config.issuer,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise _RefusedError(f"the issuer's keys could not be fetched: {error}") from None
        except jwt.PyJWTError as error:
            raise _RefusedError(f"invalid token: {type(error).__name__}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _RefusedError("the token names no subject")
        if not self._audiences_of(claims) & set(self.config.audiences):
            raise _RefusedError("the token was issued for another audience")
        return claims

    @staticmethod
    def _audiences_of(claims: Mapping[str, Any]) -> set[str]:
        audience = claims.get("aud")
        found = {audience} if isinstance(audience, str) else set()
        if isinstance(audience, list):
            found |= {a for a in audience if isinstance(a, str)}
        # Cognito access tokens name their app client in client_id, and have no aud.
        client_id = claims.get("client_id")
        if isinstance(client_id, str):
            found.add(client_id)
        return found

    def handle(self, event: object) -> dict[str, Any]:
        """API Gateway's answer to ``event`` (a REST policy, an HTTP API simple response);
        :class:`UnauthorizedError` for a REST request refused."""
        if not isinstance(event, Mapping):
            logger.warning("Refused: the event is not an object")
            raise UnauthorizedError
        if event.get("version") == "2.0":
            return self._http(event)
        kind = event.get("type")
        if kind == "TOKEN":
            token = _bearer(event.get("authorizationToken"))
        elif kind == "REQUEST":
            token = _bearer(_header(event.get("headers"), "authorization"))
        else:
            logger.warning("Refused: not an authorizer event", extra={"event_type": str(kind)})
            raise UnauthorizedError
        method_arn = event.get("methodArn")
        match = _METHOD_ARN.match(method_arn) if isinstance(method_arn, str) else None
        try:
            if match is None:
                raise _RefusedError("the event has no valid methodArn")
            claims = self.verify(token)
        except _RefusedError as refused:
            logger.info("Refused", extra={"reason": str(refused), "event_type": kind})
            raise UnauthorizedError from None
        principal = str(claims["sub"])
        logger.info("Allowed", extra={"principal": principal, "event_type": kind})
        return {
            "principalId": principal,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        # Every method of the stage: API Gateway reuses a cached policy for
                        # the token's other requests.
                        "Resource": f"{match['prefix']}{match['api']}/{match['stage']}/*",
                    }
                ],
            },
            "context": _context(claims),
        }

    def _http(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """An HTTP API simple response to a payload format 2.0 event."""
        try:
            if event.get("type") != "REQUEST":
                raise _RefusedError("not an HTTP API REQUEST event")
            claims = self.verify(_bearer(_header(event.get("headers"), "authorization")))
        except _RefusedError as refused:
            logger.info("Refused", extra={"reason": str(refused), "event_type": "HTTP"})
            return {"isAuthorized": False}
        principal = str(claims["sub"])
        logger.info("Allowed", extra={"principal": principal, "event_type": "HTTP"})
        return {"isAuthorized": True, "context": {**_context(claims), "principalId": principal}}


def _header(headers: object, name: str) -> str | None:
    """Header ``name`` of an event's ``headers`` (REST keeps the client's case)."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


def _bearer(value: object) -> str:
    """The token of an ``Authorization`` value: ``Bearer <token>`` or the bare token."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value[7:].strip() if value[:7].lower() == "bearer " else value


def _context(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as API Gateway passes an authorizer's context on: string values only."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in claims.items()
    }


@functools.cache
def default_authorizer() -> Authorizer:
    """The authorizer of the function's environment, made once per execution environment."""
    return Authorizer(AuthorizerConfig.from_environment())


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda function's handler (``common_runtime.authorizer.handler``)."""
    del context  # the answer depends on the event alone
    try:
        authorizer = default_authorizer()
    except ValueError as error:
        # A misconfigured authorizer refuses everything, and says why in its log only.
        logger.error("Refused: misconfigured authorizer", extra={"reason": str(error)})
        if isinstance(event, Mapping) and event.get("version") == "2.0":
            return {"isAuthorized": False}
        raise UnauthorizedError from None
    return authorizer.handle(event)


__all__ = ["Authorizer", "AuthorizerConfig", "UnauthorizedError", "default_authorizer", "handler"]
