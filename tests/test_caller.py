"""``Caller`` and ``poe serve``'s local gateway in generated projects, over HTTP.

One repository with three APIs a user extended with a route taking ``Caller``: ``billing``
(IAM, REST API), ``payments`` (Cognito, HTTP API) and ``ledger`` (Custom: its Lambda authorizer,
REST API). ``poe serve billing payments`` serves them on consecutive ports behind their auth,
``poe serve ledger`` runs the authorizer's code in front of its API; the typed clients call
them as they would call AWS.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, render, run, tool_env, wait_until_listening

LOCAL_PRINCIPAL = "arn:aws:iam::111122223333:user/developer"
CLIENT_ID = "payments-web-client"

#: Writes a user pool's key set and tokens (the project's PyJWT and cryptography make them).
MAKE_TOKENS = """
import json, sys, time
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

issuer, client_id, folder = sys.argv[1:]
pool, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
jwk = RSAAlgorithm.to_jwk(pool.public_key(), as_dict=True)
open(f"{folder}/jwks.json", "w").write(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256"}]}))
now = int(time.time())
claims = {"sub": "user-42", "iss": issuer, "aud": client_id, "token_use": "id",
          "iat": now, "exp": now + 3600, "cognito:username": "alice"}
tokens = {
    "valid": jwt.encode(claims, pool, "RS256", headers={"kid": "k1"}),
    "other_key": jwt.encode(claims, other, "RS256", headers={"kid": "k1"}),
    "expired": jwt.encode({**claims, "exp": now - 60}, pool, "RS256", headers={"kid": "k1"}),
    "other_client": jwt.encode({**claims, "aud": "x"}, pool, "RS256", headers={"kid": "k1"}),
}
open(f"{folder}/tokens.json", "w").write(json.dumps(tokens))
"""

#: The IAM API's typed client, as its README shows it, against the local gateway.
IAM_CALLS = """
import json, sys

from billing_client import ApiError, Client, SigV4Auth
from botocore.credentials import Credentials

url = sys.argv[1]
with Client(url) as client:
    who = client.whoami()
    echoed = client.echo(message="hi there & more/ü~+")
wrong = SigV4Auth(credentials=Credentials("AKIDEXAMPLE", "not-the-secret"))
with Client(url, auth=wrong) as client:
    try:
        client.whoami()
        refused = None
    except ApiError as error:
        refused = error.status_code
print(json.dumps({"who": who.model_dump(), "echo": echoed.message, "refused": refused}))
"""

#: A token-authenticated API's typed client (``{client}``) with bearer tokens.
BEARER_CALLS = """
import json, sys

from {client} import ApiError, BearerAuth, Client

url, tokens = sys.argv[1], json.load(open(sys.argv[2]))
results = {}
for name, token in tokens.items():
    with Client(url, auth=BearerAuth(lambda: token)) as client:
        try:
            results[name] = client.whoami().model_dump()
        except ApiError as error:
            results[name] = error.status_code
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two APIs, each with a route taking ``Caller``, installed and built."""
    project = tmp_path_factory.mktemp("caller") / "repo"
    render(project, {"name": "billing"})
    render(
        project,
        {"name": "payments", "auth": "Cognito", "compute_type": "ServerlessApiGatewayHttpApi"},
        answers_file=".copier-answers.payments.yml",
    )
    render(
        project,
        {"name": "ledger", "auth": "Custom", "integration_pattern": "shared"},
        answers_file=".copier-answers.ledger.yml",
    )
    # The runtime README's route taking `Caller`, pasted into each API's main.py (its imports
    # merged).
    runtime_readme = (project / "packages" / "common" / "runtime" / "README.md").read_text()
    (sample,) = [
        code
        for code in re.findall(r"```python\n(.*?)```", runtime_readme, flags=re.DOTALL)
        if "def whoami(caller: Caller) -> Who:" in code
    ]
    for api in ("billing", "payments", "ledger"):
        route = "\n".join(line for line in sample.splitlines() if not line.startswith("from "))
        main_py = project / "packages" / api / api / "main.py"
        routes = main_py.read_text().replace("from .init import ", "from .init import Caller, ")
        main_py.write_text(routes.rstrip() + "\n\n\n" + route.strip() + "\n")
    run(["uv", "sync"], project, timeout=900)
    run(["uv", "run", "--no-sync", "poe", "openapi", "billing", "payments", "ledger"], project)
    return project


class _KeySet(BaseHTTPRequestHandler):
    """Serves the user pool's key set, as Cognito publishes it."""

    body = b""

    def do_GET(self) -> None:
        if self.path != "/pool/.well-known/jwks.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def tokens(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(issuer, tokens.json): a user pool served on 127.0.0.1 and tokens, good and bad."""
    folder = tmp_path_factory.mktemp("pool")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeySet)
    issuer = f"http://127.0.0.1:{httpd.server_address[1]}/pool"
    script = folder / "make_tokens.py"
    script.write_text(MAKE_TOKENS)
    run(["uv", "run", "--no-sync", "python", str(script), issuer, CLIENT_ID, str(folder)], project)
    _KeySet.body = (folder / "jwks.json").read_bytes()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield issuer, folder / "tokens.json"
    httpd.shutdown()
    httpd.server_close()


def _environment(port: int, issuer: str = "") -> dict[str, str]:
    env = {
        **tool_env(),
        "PORT": str(port),
        # Local credentials of nobody; STS unreachable, so the stated identity is reported.
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9",
        "LOCAL_GATEWAY_PRINCIPAL": LOCAL_PRINCIPAL,
        "COGNITO_ISSUER": issuer,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        # The Custom API's authorizer trusts the same issuer, for the same audience.
        "JWT_ISSUER": issuer,
        "JWT_AUDIENCE": CLIENT_ID,
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_LAMBDA_FUNCTION_NAME", "LOG_FORMAT"):
        env.pop(name, None)
    return env


@contextlib.contextmanager
def serving(project: Path, args: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """``uv run poe serve <args>`` running, its output in ``log``, until the context ends."""
    with log.open("wb") as out:
        # A session of its own: the task's shell, uvicorn's reloader and workers end together.
        process = subprocess.Popen(
            ["uv", "run", "--no-sync", "poe", "serve", *args],
            cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        apis = [a for a in args if not a.startswith("--")]
        for offset in range(len(apis)):
            wait_until_listening(process, int(env["PORT"]) + offset, log, seconds=60)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def _free_port_pair() -> int:
    """A port free on 127.0.0.1 whose next port is free too."""
    while True:
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _script(project: Path, tmp_path: Path, code: str, *args: str) -> Any:
    script = tmp_path / "calls.py"
    script.write_text(code)
    result = run(["uv", "run", "--no-sync", "python", str(script), *args], project,
                 env=_environment(0))  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_poe_serve_puts_each_apis_auth_in_front_of_it(
    project: Path, tokens: tuple[str, Path], tmp_path: Path
) -> None:
    issuer, token_file = tokens
    port = _free_port_pair()
    log = tmp_path / "serve.log"
    billing, payments = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    with serving(project, ["billing", "payments"], _environment(port, issuer), log):
        # IAM: unsigned and forged contexts refused as API Gateway refuses them.
        assert _get(f"{billing}/whoami") == (403, {"message": "Missing Authentication Token"})
        forged = json.dumps({"identity": {"userArn": "arn:aws:iam::999999999999:root"}})
        assert _get(f"{billing}/whoami", {"x-amzn-request-context": forged})[0] == 403
        # The typed client signs with the local credentials: it passes; a wrong secret not.
        iam = _script(project, tmp_path, IAM_CALLS, billing)
        # curl signing as the README shows.
        env = _environment(port)
        signed = subprocess.run(
            ["curl", "-s", "--aws-sigv4", "aws:amz:eu-west-1:execute-api", "--user",
             f"{env['AWS_ACCESS_KEY_ID']}:{env['AWS_SECRET_ACCESS_KEY']}",
             f"{billing}/echo?message=hi"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        assert json.loads(signed.stdout) == {"message": "hi"}
        # Cognito: only tokens the pool's keys verify, for its app client, unexpired.
        calls = BEARER_CALLS.replace("{client}", "payments_client")
        cognito = _script(project, tmp_path, calls, payments, str(token_file))
        assert _get(f"{payments}/whoami")[0] == 401
    assert iam == {
        "who": {"auth": "IAM", "principal": LOCAL_PRINCIPAL},
        "echo": "hi there & more/ü~+",
        "refused": 403,
    }
    assert cognito == {
        "valid": {"auth": "Cognito", "principal": "user-42"},
        "other_key": 401,
        "expired": 401,
        "other_client": 401,
    }
    text = log.read_text()
    assert f"billing: http://127.0.0.1:{port}" in text
    assert f"payments: http://127.0.0.1:{port + 1}" in text
    assert "local gateway (REST API): IAM: SigV4" in text
    assert "local gateway (HTTP API): Cognito: tokens of " + issuer in text
    assert "[IAM refused: Missing Authentication Token] GET /whoami" in text
    assert f"[IAM {LOCAL_PRINCIPAL}] GET /whoami 200" in text
    assert "[Cognito user-42] GET /whoami 200" in text


@pytest.mark.slow
def test_poe_serve_runs_the_custom_apis_lambda_authorizer(
    project: Path, tokens: tuple[str, Path], tmp_path: Path
) -> None:
    issuer, token_file = tokens
    port = free_port()
    log = tmp_path / "serve.log"
    ledger = f"http://127.0.0.1:{port}"
    with serving(project, ["ledger"], _environment(port, issuer), log):
        # No token: API Gateway's 401, before the authorizer; a forged context changes nothing.
        assert _get(f"{ledger}/whoami") == (401, {"message": "Unauthorized"})
        forged = json.dumps({"authorizer": {"principalId": "root"}})
        assert _get(f"{ledger}/whoami", {"x-amzn-request-context": forged})[0] == 401
        calls = BEARER_CALLS.replace("{client}", "ledger_client")
        custom = _script(project, tmp_path, calls, ledger, str(token_file))
    # Only tokens of the issuer's keys, for the audience, unexpired (REST: 401 otherwise).
    assert custom == {
        "valid": {"auth": "Custom", "principal": "user-42"},
        "other_key": 401,
        "expired": 401,
        "other_client": 401,
    }
    text = log.read_text()
    assert f"local gateway (REST API): Custom: the Lambda authorizer, tokens of {issuer}" in text
    assert "[Custom user-42] GET /whoami 200" in text
    assert "[Custom refused: Unauthorized] GET /whoami 401" in text


@pytest.mark.slow
def test_poe_serve_no_auth_passes_everything_and_says_so(project: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with serving(project, ["billing", "--no-auth"], _environment(port), log):
        status, who = _get(f"http://127.0.0.1:{port}/whoami")
        assert _get(f"http://127.0.0.1:{port}/echo?message=hi") == (200, {"message": "hi"})
    assert (status, who) == (200, {"auth": "None", "principal": None})
    lines = [line for line in log.read_text().splitlines() if "GET /" in line]
    gateway_lines = [line for line in lines if line.startswith("local gateway [")]
    assert len(gateway_lines) == 2
    assert all("auth OFF (--no-auth)" in line for line in gateway_lines)


@pytest.mark.slow
def test_the_runtimes_caller_and_gateway_tests_pass_in_the_project(project: Path) -> None:
    tests = ["packages/common/runtime/tests/test_caller.py",
             "packages/common/runtime/tests/test_local_gateway.py"]  # fmt: skip
    result = run(["uv", "run", "--no-sync", "pytest", "-p", "no:cacheprovider", "-q", *tests],
                 project)  # fmt: skip
    assert " passed" in result.stdout
    assert "failed" not in result.stdout


@pytest.mark.slow
def test_routes_taking_caller_are_lint_and_type_clean(project: Path) -> None:
    run(["uv", "run", "--no-sync", "ruff", "check", "packages"], project)
    run(["uv", "run", "--no-sync", "ruff", "format", "--check", "packages"], project)
    for package in ("packages/billing", "packages/payments", "packages/common/runtime"):
        run(["uv", "run", "--no-sync", "mypy", package], project)
