"""Tests of the local gateway ``poe serve`` puts in front of an API: its auth, then its context.

Requests are signed with botocore's signer (as the typed client signs them) or carry tokens
signed by a key set this module serves over HTTP on 127.0.0.1, like a user pool's JWKS; STS is
a small server of the same kind, reached through ``AWS_ENDPOINT_URL_STS``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, ClassVar
from urllib.parse import quote

import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_encode

from common_runtime import CallerInfo, caller_dependency
from common_runtime.caller import Auth
from common_runtime.local_gateway import (
    ApiShape,
    CognitoAuthenticator,
    IamAuthenticator,
    LocalGateway,
)

CREDENTIALS = Credentials("AKIDLOCALEXAMPLE", "local-secret-key")
REGION = "eu-west-1"
STS_ARN = "arn:aws:iam::123456789012:user/alice"
CLIENT_ID = "local-app-client"


def _app(auth: Auth) -> FastAPI:
    """An app whose route answers with its caller and what it received."""
    app = FastAPI()

    async def whoami(caller: CallerInfo, message: str = "", payload: str = "") -> dict[str, Any]:
        return {
            "auth": caller.auth,
            "principal": caller.principal,
            "claims": dict(caller.claims),
            "account": caller.account,
            "access_key": caller.access_key,
            "message": message,
        }

    whoami.__annotations__["caller"] = Annotated[CallerInfo, Depends(caller_dependency(auth))]
    app.get("/whoami")(whoami)

    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    app.post("/echo")(echo)
    return app


class _Servers(BaseHTTPRequestHandler):
    """A user pool's key set (GET) and STS's GetCallerIdentity (POST)."""

    jwks: ClassVar[dict[str, Any]] = {"keys": []}
    fetches: ClassVar[int] = 0

    def do_GET(self) -> None:
        if self.path != "/pool/.well-known/jwks.json":
            self.send_error(404)
            return
        type(self).fetches += 1
        self._answer(json.dumps(self.jwks).encode(), "application/json")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        xml = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetCallerIdentityResult><Arn>{STS_ARN}</Arn><UserId>AIDAALICE</UserId>"
            "<Account>123456789012</Account></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        )
        self._answer(xml.encode(), "text/xml")

    def _answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The key set and STS, served on 127.0.0.1: their base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Servers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    """Local AWS settings only: the region, and STS served by this module."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server)


def _signed(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    body: bytes = b"",
    credentials: Credentials = CREDENTIALS,
    region: str = REGION,
    service: str = "execute-api",
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """(URL, headers) of a request signed as the typed client signs it."""
    encoded = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in (query or {}).items()
    )
    url = f"http://testserver{path}" + (f"?{encoded}" if encoded else "")
    to_sign = {"host": "testserver", **(headers or {})}
    if body:
        to_sign["content-type"] = "application/json"
    request = AWSRequest(method=method, url=url, data=body, headers=to_sign)
    SigV4Auth(credentials, service, region).add_auth(request)
    return url, {k: v for k, v in request.headers.items() if k.lower() != "host"}


def _iam_client(shape: ApiShape = "REST", **kwargs: Any) -> TestClient:
    iam = IamAuthenticator(shape, credentials=CREDENTIALS)
    gateway = LocalGateway(_app("IAM"), auth="IAM", shape=shape, iam=iam, **kwargs)
    return TestClient(gateway, raise_server_exceptions=False)


def test_an_unsigned_request_gets_api_gateways_missing_token_answer() -> None:
    with _iam_client() as client:
        response = client.get("/whoami")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_an_unsigned_request_to_an_http_api_is_forbidden() -> None:
    with _iam_client("HTTP") as client:
        response = client.get("/whoami")
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize("shape", ["REST", "HTTP"])
def test_a_signed_request_reaches_the_route_with_the_local_identity(shape: ApiShape) -> None:
    url, headers = _signed("GET", "/whoami", {"message": "hi there/ü"})
    with _iam_client(shape) as client:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "auth": "IAM",
        "principal": STS_ARN,
        "claims": {},
        "account": "123456789012",
        "access_key": CREDENTIALS.access_key,
        "message": "hi there/ü",
    }


def test_a_signed_body_passes_and_reaches_the_route() -> None:
    body = json.dumps({"item": "book", "count": 2}).encode()
    url, headers = _signed("POST", "/echo", body=body)
    with _iam_client() as client:
        response = client.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"item": "book", "count": 2}


@pytest.mark.parametrize(
    "tamper",
    ["body", "query", "path", "method", "signed header", "signature"],
)
def test_a_tampered_request_is_refused(tamper: str) -> None:
    body = b'{"count": 1}'
    url, headers = _signed(
        "POST", "/echo", {"message": "a"}, body=body, headers={"x-tenant": "acme"}
    )
    method = "POST"
    if tamper == "body":
        body = b'{"count": 9}'
    elif tamper == "query":
        url = url.replace("message=a", "message=b")
    elif tamper == "path":
        url = url.replace("/echo", "/whoami")
    elif tamper == "method":
        method = "PUT"
    elif tamper == "signed header":
        headers["x-tenant"] = "other"
    else:
        signature = headers["Authorization"][-64:]
        forged = ("0" if signature[0] != "0" else "1") + signature[1:]
        headers["Authorization"] = headers["Authorization"][:-64] + forged
    with _iam_client() as client:
        response = client.request(method, url, content=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["message"].startswith("The request signature we calculated")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"credentials": Credentials(CREDENTIALS.access_key, "another-secret")}, "signature"),
        ({"credentials": Credentials("AKIDSOMEONEELSE", "x")}, "security token"),
        ({"region": "us-east-1"}, "valid region"),
        ({"service": "s3"}, "correct service"),
    ],
)
def test_a_request_signed_otherwise_is_refused(change: dict[str, Any], message: str) -> None:
    url, headers = _signed("GET", "/whoami", **change)
    with _iam_client() as client:
        response = client.get(url, headers=headers)
    assert response.status_code == 403
    assert message in response.json()["message"]


def test_temporary_credentials_pass_only_with_their_session_token() -> None:
    temporary = Credentials("ASIALOCALEXAMPLE", "local-secret-key", "session-token")
    iam = IamAuthenticator("REST", credentials=temporary)
    gateway = LocalGateway(_app("IAM"), auth="IAM", shape="REST", iam=iam)
    url, headers = _signed("GET", "/whoami", credentials=temporary)
    without_token = {k: v for k, v in headers.items() if k != "X-Amz-Security-Token"}
    other_token = {**headers, "X-Amz-Security-Token": "another-token"}
    with TestClient(gateway) as client:
        assert client.get(url, headers=headers).status_code == 200
        assert client.get(url, headers=without_token).status_code == 403
        assert client.get(url, headers=other_token).status_code == 403


def test_an_old_signature_is_refused() -> None:
    url, headers = _signed("GET", "/whoami")
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600))
    headers["X-Amz-Date"] = old
    headers["Authorization"] = headers["Authorization"].replace(
        headers["Authorization"].split("/")[1], old[:8]
    )
    with _iam_client() as client:
        response = client.get(url, headers=headers)
    assert response.status_code == 403
    assert "Signature expired" in response.json()["message"]


def test_a_malformed_authorization_header_is_refused() -> None:
    with _iam_client() as client:
        for value in (
            "Bearer abc",
            "AWS4-HMAC-SHA256 Credential=x",
            "AWS4-HMAC-SHA256 " + "x" * 500,
        ):
            response = client.get("/whoami", headers={"authorization": value})
            assert response.status_code == 403


def test_cors_preflights_pass_and_refusals_carry_cors_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.example.com")
    origin = {"origin": "https://app.example.com"}
    preflight = {**origin, "access-control-request-method": "GET"}
    with _iam_client() as client:
        # The preflight reaches the app (which answers 405: this one has no CORS middleware),
        # the gateway does not refuse it.
        assert client.options("/whoami", headers=preflight).status_code == 405
        refused = client.get("/whoami", headers=origin)
        other = client.get("/whoami", headers={"origin": "https://evil.example.com"})
    assert refused.status_code == 403
    assert refused.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers


def test_a_context_sent_by_the_client_is_replaced() -> None:
    forged = json.dumps({"identity": {"userArn": "arn:aws:iam::999999999999:root"}})
    with _iam_client() as client:
        assert client.get("/whoami", headers={"x-amzn-request-context": forged}).status_code == 403
        url, headers = _signed("GET", "/whoami")
        response = client.get(url, headers={**headers, "x-amzn-request-context": forged})
    assert response.json()["principal"] == STS_ARN


def test_without_sts_the_principal_is_the_stated_local_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("LOCAL_GATEWAY_PRINCIPAL", "arn:aws:iam::111122223333:user/me")
    url, headers = _signed("GET", "/whoami")
    with _iam_client() as client:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.json()["principal"] == "arn:aws:iam::111122223333:user/me"
    assert response.json()["account"] == "111122223333"


def test_a_body_over_api_gateways_limit_is_refused_while_read() -> None:
    with _iam_client() as client:
        response = client.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413


def test_no_auth_passes_every_request_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with _iam_client(enabled=False) as client:
        response = client.get("/whoami")
    assert response.status_code == 200
    # No context: the route sees an anonymous caller, as off Lambda without a gateway.
    assert response.json()["auth"] == "None"
    assert "auth OFF (--no-auth)" in capsys.readouterr().err


def test_an_open_api_passes_every_request_with_a_context() -> None:
    gateway = LocalGateway(_app("None"), auth="None", shape="HTTP")
    with TestClient(gateway) as client:
        response = client.get("/whoami", headers={"x-amzn-request-context": "not json"})
    assert response.status_code == 200
    assert response.json()["principal"] is None


# Cognito


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The user pool's signing key, and a key it never published."""
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for name in ("pool", "other")
    }


@pytest.fixture
def pool(server: str, keys: dict[str, rsa.RSAPrivateKey]) -> str:
    """The issuer of a user pool whose key set is served on 127.0.0.1."""
    jwk = RSAAlgorithm.to_jwk(keys["pool"].public_key(), as_dict=True)
    _Servers.jwks = {"keys": [{**jwk, "kid": "pool-key", "alg": "RS256", "use": "sig"}]}
    return f"{server}/pool"


Token = Callable[..., str]


@pytest.fixture
def token(pool: str, keys: dict[str, rsa.RSAPrivateKey]) -> Token:
    """A token of the pool; keyword arguments change its claims, ``key`` and ``kid``."""

    def make(key: str = "pool", kid: str = "pool-key", **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
            "iss": pool,
            "aud": CLIENT_ID,
            "token_use": "id",
            "cognito:username": "alice",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, keys[key], algorithm="RS256", headers={"kid": kid})

    return make


def _cognito_client(pool: str, shape: ApiShape = "REST") -> TestClient:
    cognito = CognitoAuthenticator(shape, issuer=pool, client_ids=frozenset({CLIENT_ID}))
    gateway = LocalGateway(_app("Cognito"), auth="Cognito", shape=shape, cognito=cognito)
    return TestClient(gateway, raise_server_exceptions=False)


@pytest.mark.parametrize("shape", ["REST", "HTTP"])
@pytest.mark.parametrize("prefix", ["Bearer ", ""])
def test_a_token_the_pools_keys_verify_reaches_the_route(
    pool: str, token: Token, shape: ApiShape, prefix: str
) -> None:
    with _cognito_client(pool, shape) as client:
        response = client.get("/whoami", headers={"authorization": prefix + token()})
    assert response.status_code == 200, response.text
    caller = response.json()
    assert (caller["auth"], caller["principal"]) == (
        "Cognito",
        "7d8ca528-4931-4254-9273-ea5ee853f271",
    )
    # As API Gateway passes them: strings.
    assert caller["claims"]["cognito:username"] == "alice"
    assert isinstance(caller["claims"]["exp"], str)


def test_an_access_token_of_the_app_client_passes(pool: str, token: Token) -> None:
    access = token(token_use="access", aud=None, client_id=CLIENT_ID, scope="orders/read")
    with _cognito_client(pool, "HTTP") as client:
        response = client.get("/whoami", headers={"authorization": f"Bearer {access}"})
    assert response.status_code == 200, response.text
    assert response.json()["claims"]["scope"] == "orders/read"


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 10},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"},
        {"aud": "another-client"},
        {"token_use": "refresh"},
        {"token_use": None},
        {"token_use": "access", "aud": None, "client_id": "another-client"},
        {"sub": None},
        {"key": "other"},
        {"key": "other", "kid": "unknown-key"},
    ],
    # Stable ids: every xdist worker must collect the same names (the expiry is a clock value).
    ids=lambda c: ",".join(f"{k}=past" if k == "exp" else f"{k}={v}" for k, v in c.items()),
)
def test_a_token_the_pool_would_refuse_is_unauthorized(
    pool: str, token: Token, changes: dict[str, Any]
) -> None:
    with _cognito_client(pool, "HTTP") as client:
        response = client.get("/whoami", headers={"authorization": f"Bearer {token(**changes)}"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_tokens_not_signed_with_rs256_by_the_pool_are_unauthorized(pool: str, token: Token) -> None:
    header, payload, _ = token().split(".")
    unsigned_header = base64url_encode(json.dumps({"alg": "none"}).encode()).decode()
    forged = [
        f"{unsigned_header}.{payload}.",
        jwt.encode({"sub": "x", "iss": pool}, "x" * 32, algorithm="HS256"),
        f"{header}.{payload}.c2lnbmF0dXJl",
        "not-a-token",
    ]
    with _cognito_client(pool) as client:
        assert client.get("/whoami").status_code == 401
        for value in forged:
            response = client.get("/whoami", headers={"authorization": f"Bearer {value}"})
            assert response.status_code == 401, value


def test_the_key_set_is_fetched_once(pool: str, token: Token) -> None:
    with _cognito_client(pool) as client:
        before = _Servers.fetches
        for _ in range(3):
            response = client.get("/whoami", headers={"authorization": token()})
            assert response.status_code == 200
    assert _Servers.fetches - before == 1


def test_a_cognito_api_needs_its_pool_and_client(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="COGNITO_USER_POOL_ID"):
        LocalGateway(_app("Cognito"), auth="Cognito", shape="REST")
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "eu-west-1_AbCdEf123")
    monkeypatch.setenv("COGNITO_CLIENT_ID", "client-a, client-b")
    gateway = LocalGateway(_app("Cognito"), auth="Cognito", shape="REST")
    assert gateway.cognito is not None
    assert (
        gateway.cognito.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    )
    assert gateway.cognito.client_ids == {"client-a", "client-b"}
