"""Each auth scheme's credentials, as API Gateway checks them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from common_client import AUTH_SCHEMES, BearerAuth, PasswordTokens, SigV4Auth, default_auth


def _sent(auth: httpx.Auth | None, url: str, **params: str) -> httpx.Request:
    """The request a client with ``auth`` sends to ``url``."""
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    with httpx.Client(auth=auth, transport=httpx.MockTransport(handle)) as client:
        client.get(url, params=params)
    return sent[0]


def test_requests_are_signed_for_execute_api_with_the_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    url = "https://abc123.execute-api.eu-west-3.amazonaws.com/prod/say"
    request = _sent(default_auth("IAM"), url, message="a b")
    authorization = request.headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-3/execute-api/aws4_request" in authorization
    assert request.headers["x-amz-security-token"] == "session-token"
    # Signed as sent: RFC 3986 encoding of the query.
    assert request.url.query == b"message=a%20b"
    assert isinstance(default_auth("IAM"), SigV4Auth)


def test_token_and_open_schemes_send_no_credentials_by_default() -> None:
    for scheme in ("Cognito", "None", "an authorizer of our own"):
        assert default_auth(scheme) is None
        request = _sent(default_auth(scheme), "https://api.example.com/say")
        assert "authorization" not in request.headers


def test_a_scheme_of_the_repository_s_own_is_one_more_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(AUTH_SCHEMES, "Custom", lambda: BearerAuth(lambda: "service-token"))
    request = _sent(default_auth("Custom"), "https://api.example.com/say")
    assert request.headers["authorization"] == "Bearer service-token"


def test_requests_carry_the_bearer_token_of_the_callable() -> None:
    tokens = iter(["token-1", "token-2"])
    auth = BearerAuth(lambda: next(tokens))
    sent = [_sent(auth, "https://api.example.com/say") for _ in range(2)]
    assert [r.headers["authorization"] for r in sent] == ["Bearer token-1", "Bearer token-2"]


def test_password_tokens_sign_in_once_and_reuse_the_token() -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    class Cognito(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            calls.append((self.headers["x-amz-target"], body))
            answer = {"AuthenticationResult": {"IdToken": "id-token", "ExpiresIn": 3600}}
            self.send_response(200)
            self.send_header("content-type", "application/x-amz-json-1.1")
            self.end_headers()
            self.wfile.write(json.dumps(answer).encode())

        def log_message(self, *_: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Cognito)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tokens = PasswordTokens(
            region="eu-west-1",
            client_id="app-client",
            username="alice",
            password="secret",
            endpoint=f"http://127.0.0.1:{server.server_address[1]}/",
        )
        assert [tokens(), tokens()] == ["id-token", "id-token"]
    finally:
        server.shutdown()
        server.server_close()
    (target, body), *others = calls
    assert not others
    assert target == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert body == {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": "app-client",
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": "secret"},
    }
