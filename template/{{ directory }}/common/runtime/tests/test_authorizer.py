"""Tests of the Lambda authorizer of ``Custom`` APIs, with API Gateway's events as documented.

The events are shaped as in API Gateway's developer guide ("Input to an API Gateway Lambda
authorizer", "Control access to HTTP APIs with AWS Lambda authorizers"); the tokens are signed
by an RSA key this module makes, whose key set (JWKS) it serves on 127.0.0.1, as an issuer does.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from common_runtime import CallerInfo, caller_dependency
from common_runtime.authorizer import (
    Authorizer,
    AuthorizerConfig,
    UnauthorizedError,
    default_authorizer,
    handler,
)
from common_runtime.local_gateway import ApiShape, CustomAuthenticator, LocalGateway

AUDIENCE = "orders-api"
SUBJECT = "user-7d8ca528"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"

#: A REST API TOKEN authorizer's event.
TOKEN_EVENT: dict[str, Any] = {
    "type": "TOKEN",
    "authorizationToken": "",
    "methodArn": METHOD_ARN,
}

#: A REST API REQUEST authorizer's event (payload 1.0), headers in the client's case.
REQUEST_EVENT: dict[str, Any] = {
    "type": "REQUEST",
    "methodArn": METHOD_ARN,
    "resource": "/request",
    "path": "/request",
    "httpMethod": "GET",
    "headers": {
        "X-AMZ-Date": "20170718T062915Z",
        "Accept": "*/*",
        "Authorization": "",
        "CloudFront-Viewer-Country": "US",
        "Host": "abcdef123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/7.53.1",
    },
    "multiValueHeaders": {"Accept": ["*/*"], "Authorization": [""]},
    "queryStringParameters": {"QueryString1": "queryValue1"},
    "multiValueQueryStringParameters": {"QueryString1": ["queryValue1"]},
    "pathParameters": {},
    "stageVariables": {"StageVar1": "stageValue1"},
    "requestContext": {
        "path": "/request",
        "accountId": "123456789012",
        "resourceId": "05c7jb",
        "stage": "test",
        "requestId": "e5a2d8bb-b2a0-11e7-8e9a-07d4a4b8dd01",
        "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/7.53.1"},
        "resourcePath": "/request",
        "httpMethod": "GET",
        "apiId": "abcdef123",
    },
}

#: An HTTP API authorizer's event (payload format 2.0), headers in lower case.
HTTP_EVENT: dict[str, Any] = {
    "version": "2.0",
    "type": "REQUEST",
    "routeArn": METHOD_ARN,
    "identitySource": [""],
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1", "cookie2"],
    "headers": {"authorization": "", "header2": "value2"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "pathParameters": {"parameter1": "value1"},
    "stageVariables": {"stageVariable1": "value1"},
}


class _Issuer(BaseHTTPRequestHandler):
    """The issuer's key set, at its well-known address."""

    jwks: ClassVar[dict[str, Any]] = {"keys": []}
    fetches: ClassVar[int] = 0

    def do_GET(self) -> None:
        if self.path != "/issuer/.well-known/jwks.json":
            self.send_error(404)
            return
        type(self).fetches += 1
        body = json.dumps(self.jwks).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The issuer's signing key, and a key it never published."""
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for name in ("issuer", "other")
    }


@pytest.fixture(scope="module")
def issuer(keys: dict[str, rsa.RSAPrivateKey]) -> Iterator[str]:
    """The issuer's URL; its key set is served below it."""
    jwk = RSAAlgorithm.to_jwk(keys["issuer"].public_key(), as_dict=True)
    _Issuer.jwks = {"keys": [{**jwk, "kid": "issuer-key", "alg": "RS256", "use": "sig"}]}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Issuer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/issuer"
    httpd.shutdown()
    httpd.server_close()


Token = Callable[..., str]


@pytest.fixture
def token(issuer: str, keys: dict[str, rsa.RSAPrivateKey]) -> Token:
    """A token of the issuer; keyword arguments change its claims, ``key`` and ``kid``."""

    def make(key: str = "issuer", kid: str = "issuer-key", **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": SUBJECT,
            "iss": issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 3600,
            "scope": "orders:read",
            "roles": ["reader"],
        }
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, keys[key], algorithm="RS256", headers={"kid": kid})

    return make


@pytest.fixture
def authorizer(issuer: str) -> Authorizer:
    """The authorizer of the issuer's tokens for ``AUDIENCE``."""
    return Authorizer(AuthorizerConfig(issuer=issuer, audiences=(AUDIENCE,)))


def _event(kind: str, value: str) -> dict[str, Any]:
    """The documented event of ``kind`` (TOKEN, REQUEST, HTTP) carrying ``value`` as its
    ``Authorization`` header."""
    if kind == "TOKEN":
        return {**TOKEN_EVENT, "authorizationToken": value}
    if kind == "REQUEST":
        event = copy.deepcopy(REQUEST_EVENT)
        event["headers"]["Authorization"] = value
        event["multiValueHeaders"]["Authorization"] = [value]
        return event
    event = copy.deepcopy(HTTP_EVENT)
    event["headers"]["authorization"] = value
    event["identitySource"] = [value]
    return event


def _allowed(authorizer: Authorizer, kind: str, value: str) -> dict[str, Any]:
    """The authorizer's context for a request it allows; fails the test otherwise."""
    answer = authorizer.handle(_event(kind, value))
    if kind == "HTTP":
        assert answer["isAuthorized"] is True, answer
        context: dict[str, Any] = answer["context"]
        return context
    assert answer["principalId"] == SUBJECT
    assert answer["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "execute-api:Invoke",
                "Effect": "Allow",
                "Resource": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*",
            }
        ],
    }
    context = answer["context"]
    return context


def _refused(authorizer: Authorizer, event: object) -> None:
    """Asserts that ``event`` is refused the way API Gateway expects for its kind."""
    if isinstance(event, dict) and event.get("version") == "2.0":
        assert authorizer.handle(event) == {"isAuthorized": False}
        return
    with pytest.raises(UnauthorizedError) as raised:
        authorizer.handle(event)
    assert str(raised.value) == "Unauthorized"


@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST", "HTTP"])
@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", ""])
def test_a_token_of_the_issuer_is_allowed_with_its_claims_as_context(
    authorizer: Authorizer, token: Token, kind: str, prefix: str
) -> None:
    context = _allowed(authorizer, kind, prefix + token())
    assert context["sub"] == SUBJECT
    assert context["scope"] == "orders:read"
    # API Gateway takes string, number and boolean values only: every claim is a string.
    assert context["roles"] == '["reader"]'
    assert all(isinstance(value, str) for value in context.values())
    if kind == "HTTP":
        assert context["principalId"] == SUBJECT


def test_a_token_event_is_read_by_its_own_model(authorizer: Authorizer, token: Token) -> None:
    # A TOKEN event has no headers: reading it as a REQUEST event would refuse every token.
    event = _event("TOKEN", f"Bearer {token()}")
    assert "headers" not in event
    assert authorizer.handle(event)["principalId"] == SUBJECT


def test_a_request_event_reads_the_authorization_header_in_any_case(
    authorizer: Authorizer, token: Token
) -> None:
    event = _event("REQUEST", "")
    del event["headers"]["Authorization"]
    event["headers"]["authorization"] = f"Bearer {token()}"
    assert authorizer.handle(event)["principalId"] == SUBJECT


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 10},
        {"iss": "https://issuer.example.com/other"},
        {"aud": "another-api"},
        {"aud": None},
        {"sub": None},
        {"sub": ""},
        {"exp": None},
        {"key": "other"},
        {"key": "other", "kid": "unknown-key"},
    ],
    # Stable ids: every xdist worker must collect the same names (the expiry is a clock value).
    ids=lambda c: ",".join(f"{k}=past" if k == "exp" and v else f"{k}={v}" for k, v in c.items()),
)
@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST", "HTTP"])
def test_a_token_the_issuer_would_refuse_is_denied(
    authorizer: Authorizer, token: Token, kind: str, changes: dict[str, Any]
) -> None:
    _refused(authorizer, _event(kind, f"Bearer {token(**changes)}"))


@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST", "HTTP"])
def test_garbage_and_forged_tokens_are_denied(
    authorizer: Authorizer, token: Token, issuer: str, kind: str
) -> None:
    header, payload, _ = token().split(".")
    forged = [
        "",
        "Bearer",
        "not-a-token",
        f"{header}.{payload}.c2lnbmF0dXJl",
        # Unsigned, and signed with a shared secret: never accepted, whatever the key set.
        jwt.encode({"sub": "x", "iss": issuer, "aud": AUDIENCE}, "", algorithm="none"),
        jwt.encode({"sub": "x", "iss": issuer, "aud": AUDIENCE}, "x" * 32, algorithm="HS256"),
        "x" * 20_000,
    ]
    for value in forged:
        _refused(authorizer, _event(kind, f"Bearer {value}"))


def test_a_cognito_access_token_passes_with_its_client_id(
    authorizer: Authorizer, token: Token
) -> None:
    access = token(aud=None, client_id=AUDIENCE, token_use="access")
    assert authorizer.handle(_event("TOKEN", access))["principalId"] == SUBJECT


@pytest.mark.parametrize(
    "event",
    [
        None,
        "TOKEN",
        [],
        {},
        {"type": "TOKEN"},
        {"type": "TOKEN", "authorizationToken": "x", "methodArn": 42},
        {"type": "TOKEN", "authorizationToken": "x", "methodArn": "arn:aws:s3:::bucket"},
        {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": None},
        {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"Authorization": ["x"]}},
        {"type": "UNKNOWN", "methodArn": METHOD_ARN},
        {"version": "2.0", "type": "REQUEST"},
        {"version": "2.0", "type": "REQUEST", "headers": "authorization"},
        {"version": "2.0", "type": "TOKEN", "headers": {"authorization": "x"}},
    ],
    ids=repr,
)
def test_a_malformed_event_is_denied_without_an_unhandled_error(
    authorizer: Authorizer, event: object
) -> None:
    _refused(authorizer, event)


def test_a_token_with_a_valid_signature_but_a_bad_method_arn_is_denied(
    authorizer: Authorizer, token: Token
) -> None:
    event = {**_event("TOKEN", token()), "methodArn": "arn:aws:execute-api:us-east-1:1:x/y/GET/"}
    _refused(authorizer, event)


@pytest.mark.parametrize("kind", ["TOKEN", "REQUEST", "HTTP"])
@pytest.mark.parametrize(
    "config",
    [
        AuthorizerConfig(issuer=None, audiences=()),
        AuthorizerConfig(issuer=None, audiences=(AUDIENCE,)),
        AuthorizerConfig(issuer="ISSUER", audiences=()),
    ],
    ids=["nothing", "no-issuer", "no-audience"],
)
def test_without_an_issuer_and_an_audience_everything_is_denied(
    issuer: str, token: Token, kind: str, config: AuthorizerConfig
) -> None:
    if config.issuer == "ISSUER":
        config = AuthorizerConfig(issuer=issuer, audiences=())
    _refused(Authorizer(config), _event(kind, token()))


def test_the_handler_is_configured_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, issuer: str, token: Token
) -> None:
    for name in ("JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL", "JWT_ALGORITHMS"):
        monkeypatch.delenv(name, raising=False)
    default_authorizer.cache_clear()
    try:
        # Deny by default: nothing configured, nothing passes.
        with pytest.raises(UnauthorizedError):
            handler(_event("TOKEN", token()), None)
        assert handler(_event("HTTP", token()), None) == {"isAuthorized": False}
        default_authorizer.cache_clear()
        monkeypatch.setenv("JWT_ISSUER", issuer + "/")
        monkeypatch.setenv("JWT_AUDIENCE", f"another-api, {AUDIENCE}")
        assert handler(_event("TOKEN", token()), None)["principalId"] == SUBJECT
        assert handler(_event("HTTP", token()), None)["isAuthorized"] is True
        # A key set elsewhere than the issuer's well-known address.
        default_authorizer.cache_clear()
        monkeypatch.setenv("JWT_ISSUER", issuer)
        monkeypatch.setenv("JWKS_URL", issuer.replace("/issuer", "/nowhere"))
        with pytest.raises(UnauthorizedError):
            handler(_event("TOKEN", token()), None)
        # Symmetric algorithms are refused at configuration: the authorizer denies everything.
        default_authorizer.cache_clear()
        monkeypatch.delenv("JWKS_URL")
        monkeypatch.setenv("JWT_ALGORITHMS", "HS256")
        with pytest.raises(UnauthorizedError):
            handler(_event("TOKEN", token()), None)
        assert handler(_event("HTTP", token()), None) == {"isAuthorized": False}
    finally:
        default_authorizer.cache_clear()


def test_the_key_set_is_fetched_once(issuer: str, token: Token) -> None:
    authorizer = Authorizer(AuthorizerConfig(issuer=issuer, audiences=(AUDIENCE,)))
    before = _Issuer.fetches
    for _ in range(3):
        assert authorizer.handle(_event("TOKEN", token()))["principalId"] == SUBJECT
    assert _Issuer.fetches - before == 1


def test_an_unreachable_key_set_denies(token: Token) -> None:
    config = AuthorizerConfig(
        issuer="http://127.0.0.1:9/issuer", audiences=(AUDIENCE,), jwks_url=None
    )
    _refused(Authorizer(config), _event("TOKEN", token(iss="http://127.0.0.1:9/issuer")))


# --- The local gateway runs the same authorizer, and Caller reads what it says ---------------


def _gateway(authorizer: Authorizer, shape: ApiShape) -> TestClient:
    app = FastAPI()

    async def whoami(caller: CallerInfo) -> dict[str, Any]:
        return {"auth": caller.auth, "principal": caller.principal, "claims": dict(caller.claims)}

    whoami.__annotations__["caller"] = Annotated[CallerInfo, Depends(caller_dependency("Custom"))]
    app.get("/whoami")(whoami)
    custom = CustomAuthenticator(shape, authorizer)
    gateway = LocalGateway(app, auth="Custom", shape=shape, custom=custom)
    return TestClient(gateway, raise_server_exceptions=False)


@pytest.mark.parametrize("shape", ["REST", "HTTP"])
def test_the_local_gateway_runs_the_authorizer_and_the_route_sees_its_caller(
    authorizer: Authorizer, token: Token, shape: ApiShape
) -> None:
    with _gateway(authorizer, shape) as client:
        response = client.get("/whoami", headers={"authorization": f"Bearer {token()}"})
    assert response.status_code == 200, response.text
    caller = response.json()
    assert (caller["auth"], caller["principal"]) == ("Custom", SUBJECT)
    assert caller["claims"]["scope"] == "orders:read"
    assert caller["claims"]["aud"] == AUDIENCE


@pytest.mark.parametrize(("shape", "refused"), [("REST", 401), ("HTTP", 403)])
def test_the_local_gateway_answers_a_refusal_as_api_gateway(
    authorizer: Authorizer, token: Token, shape: ApiShape, refused: int
) -> None:
    with _gateway(authorizer, shape) as client:
        # No token: API Gateway answers 401 without calling the authorizer.
        missing = client.get("/whoami")
        expired = client.get(
            "/whoami", headers={"authorization": f"Bearer {token(exp=int(time.time()) - 10)}"}
        )
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert expired.status_code == refused
    assert expired.json() == {"message": "Unauthorized" if refused == 401 else "Forbidden"}


def test_the_local_gateway_of_an_unconfigured_authorizer_refuses_everything(
    monkeypatch: pytest.MonkeyPatch, token: Token
) -> None:
    for name in ("JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL", "JWT_ALGORITHMS"):
        monkeypatch.delenv(name, raising=False)
    gateway = LocalGateway(FastAPI(), auth="Custom", shape="REST")
    assert "refuses everything" in gateway.describe()
    with TestClient(gateway) as client:
        assert client.get("/", headers={"authorization": token()}).status_code == 401
