"""The generated Python client, for real: built from the routes, typed, calling run.sh over HTTP."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from conftest import ProjectCache, render, run, serving_run_sh, tool_env

SERVICE = Path("packages") / "order-service"
CLIENT = Path("packages") / "order-service-client"
TOOLCHAIN = Path("packages") / "common" / "toolchain"
CLIENT_RUNTIME = Path("packages") / "common" / "client-runtime"
#: The tests of the client generator (the stale-client check among them) and of the runtime.
CLIENT_TESTS = ["uv", "run", "--no-sync", "pytest", "-p", "no:cacheprovider", "-v",
                str(TOOLCHAIN), str(CLIENT_RUNTIME)]  # fmt: skip

#: Routes a user adds to main.py after generation: a failure and a slow stream.
ADDED_ROUTES = '''

import asyncio


@app.get("/boom")
def boom() -> Echo:
    """Fail (a bug of the handler)."""
    raise RuntimeError("boom")


async def slow_chunks() -> AsyncIterator[Chunk]:
    yield Chunk(message="first")
    await asyncio.sleep(1.5)
    yield Chunk(message="second")


@app.get(
    "/slow",
    response_class=JsonStreamingResponse,
    responses={200: JsonStreamingResponse.openapi_response(Chunk, "Two chunks, 1.5 s apart")},
)
async def slow_stream() -> JsonStreamingResponse:
    """Stream a chunk, wait, stream another."""
    return JsonStreamingResponse(slow_chunks())
'''

#: Uses the client as its README shows, printing what it got for the test to check.
CALLS = """
import asyncio, json, sys, time

from order_service_client import ApiError, AsyncClient, Client, models

url = sys.argv[1]
out = {}
with Client(url, headers={"x-correlation-id": "cid-sync"}) as client:
    out["echo"] = client.echo(message="hi there").model_dump()
    out["get_item"] = client.get_item(7).model_dump()
    out["create_item"] = client.create_item(models.Item(name="book")).model_dump()
    out["stream"] = [chunk.message for chunk in client.stream(count=3)]
    try:
        client.get_item(-1)
    except ApiError as error:
        assert isinstance(error.model, models.HTTPValidationError)
        loc = error.model.model_dump()["detail"][0]["loc"]
        out["4xx"] = [error.status_code, error.correlation_id, loc]
    try:
        client.boom()
    except ApiError as error:
        assert isinstance(error.model, models.InternalError)
        out["500"] = [error.status_code, error.correlation_id, error.model.correlation_id]
    started = time.monotonic()
    chunks = client.slow_stream()
    first = next(chunks)
    first_at = time.monotonic() - started
    rest = list(chunks)
    out["slow"] = [first.message, first_at, [c.message for c in rest], time.monotonic() - started]


async def calls():
    async with AsyncClient(url) as client:
        echo = await client.echo(message="async")
        lines = [chunk.message async for chunk in client.stream(count=2)]
        try:
            await client.boom()
        except ApiError as error:
            failed = [error.status_code, bool(error.correlation_id)]
    return [echo.message, lines, failed]

out["async"] = asyncio.run(calls())
print(json.dumps(out))
"""

#: Code a user writes against the client: every line type-checks with mypy --strict...
TYPED_USAGE = """
from collections.abc import AsyncIterator, Iterator

from order_service_client import AsyncClient, Client, models


def fetch(client: Client) -> tuple[models.Item, Iterator[models.Chunk]]:
    item: models.Item = client.get_item(7)
    created: models.Item = client.create_item(models.Item(name="book"))
    assert created.name == "book"
    return item, client.stream(count=3)


async def fetch_async(client: AsyncClient) -> AsyncIterator[models.Chunk]:
    echo: models.Echo = await client.echo(message="hi")
    assert echo.message
    return client.slow_stream()
"""

#: ... and each of these is a type error.
WRONG_USAGE = {
    "a string id": ("client.get_item('7')", 'incompatible type "str"; expected "int"'),
    "a dict body": (
        "client.create_item({'name': 'book'})",
        'incompatible type "dict[str, str]"; expected "Item"',
    ),
    "a misspelt operation": ("client.get_items(7)", '"Client" has no attribute "get_items"'),
    "an unknown parameter": ("client.echo(text='hi')", 'Unexpected keyword argument "text"'),
}


def readme_samples(readme: Path) -> list[str]:
    """The Python code blocks of a README."""
    return re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.DOTALL)


def write_samples(project: Path, samples: dict[str, str]) -> Path:
    """Write code samples as modules of a ``usage`` folder of ``project``; return the folder."""
    usage = project / "usage"
    usage.mkdir(exist_ok=True)
    for name, code in samples.items():
        (usage / f"{name}.py").write_text(code)
    return usage


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project (IAM) whose user added routes, then ran the OpenAPI build step.

    Made once for every xdist worker (under a lock in their common temporary folder): the
    tests below only read it, or write beside it.
    """
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's folder sits in the session's: share that one.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "client-project"
    shared.mkdir(exist_ok=True)
    project = shared / "project"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "ready").exists():
            render(project, {"name": "order-service"})
            main_py = project / SERVICE / "order_service" / "main.py"
            main_py.write_text(main_py.read_text() + ADDED_ROUTES)
            run(["uv", "sync"], project, timeout=900)
            run(["uv", "run", "--no-sync", "poe", "openapi", SERVICE.name], project)
            (shared / "ready").touch()
    return project


@pytest.fixture(scope="module")
def server(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """run.sh serving the project's API on 127.0.0.1."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serving_run_sh(project, SERVICE, log) as url:
        yield url


def fake_aws_env() -> dict[str, str]:
    """Credentials and region of nobody: the client signs with them, nothing checks them."""
    return {
        **tool_env(),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "session-token",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@pytest.mark.slow
def test_a_route_added_to_main_is_a_client_method_after_the_build(project: Path) -> None:
    client_py = (project / CLIENT / "order_service_client" / "client.py").read_text()
    assert "    def boom(self) -> models.Echo:" in client_py
    assert "    def slow_stream(self) -> Iterator[models.Chunk]:" in client_py
    assert "    def slow_stream(self) -> AsyncIterator[models.Chunk]:" in client_py
    # The generator's and the client runtime's tests (the stale-client check among them),
    # then the client's lint and types.
    result = run(CLIENT_TESTS, project)
    assert "test_the_client_is_generated_from_the_current_routes[order-service] PASSED" in (
        result.stdout
    )
    run(["uv", "run", "--no-sync", "ruff", "check", "--no-cache", str(CLIENT)], project)
    run(["uv", "run", "--no-sync", "ruff", "format", "--check", "--no-cache", str(CLIENT)], project)
    run(["uv", "run", "--no-sync", "mypy", "--no-incremental", str(CLIENT)], project)


@pytest.mark.slow
def test_a_client_out_of_step_with_the_routes_fails_its_tests(
    project: Path, tmp_path: Path
) -> None:
    # A copy of the repository (sharing its environment) whose client misses a route's
    # method, as if main.py had gained the route without the build.
    skipped = shutil.ignore_patterns(".venv", "cdk.out", "dist")
    copy = Path(shutil.copytree(project, tmp_path / "copy", symlinks=True, ignore=skipped))
    client_py = copy / CLIENT / "order_service_client" / "client.py"
    client_py.write_text(client_py.read_text().replace("def boom(", "def boom_renamed("))
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider",
         str(TOOLCHAIN), "-k", "current_routes"],
        cwd=copy, env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert "client.py of order-service's client are stale" in result.stdout


@pytest.mark.slow
def test_the_client_calls_every_route_over_http(project: Path, server: str) -> None:
    result = run(
        ["uv", "run", "--no-sync", "python", "-c", CALLS, server], project, env=fake_aws_env()
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["echo"] == {"message": "hi there"}
    assert out["get_item"] == {"name": "item-7"}
    assert out["create_item"] == {"name": "book"}
    assert out["stream"] == [f"This is chunk {i}" for i in range(3)]
    assert out["4xx"] == [422, "cid-sync", ["path", "item_id"]]
    assert out["500"] == [500, "cid-sync", "cid-sync"]
    first, first_at, rest, total = out["slow"]
    # The first line is read while the server still waits before the second one.
    assert (first, rest) == ("first", ["second"])
    assert first_at < 1.0 < 1.5 <= total
    assert out["async"] == ["async", ["This is chunk 0", "This is chunk 1"], [500, True]]


@pytest.mark.slow
def test_mypy_strict_accepts_typed_use_and_refuses_wrong_types(
    project: Path, tmp_path: Path
) -> None:
    # The READMEs' samples for this API's auth (IAM) are typed use too.
    samples = {
        "typed_usage": TYPED_USAGE,
        "readme_iam": readme_samples(project / "README.md")[0],
        # The None client is the IAM one without its auth module.
        "readme_none": readme_samples(project / "README.md")[2],
        "readme_api": readme_samples(project / SERVICE / "README.md")[0],
    }
    for number, (call, _) in enumerate(WRONG_USAGE.values()):
        samples[f"wrong_{number}"] = (
            "from order_service_client import Client\n\n\n"
            f"def call(client: Client) -> None:\n    {call}\n"
        )
    write_samples(project, samples)
    result = subprocess.run(
        ["uv", "run", "--no-sync", "mypy", "--strict", "--no-incremental", "usage"],
        cwd=project, env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "typed_usage.py" not in result.stdout, result.stdout
    assert "readme_" not in result.stdout, result.stdout
    for number, (what, (_, message)) in enumerate(WRONG_USAGE.items()):
        errors = [line for line in result.stdout.splitlines() if f"wrong_{number}.py" in line]
        assert any(message in line for line in errors), (what, result.stdout)
    assert f"Found {len(WRONG_USAGE)} errors in {len(WRONG_USAGE)} files" in result.stdout


@pytest.mark.slow
def test_a_cognito_api_gets_a_typed_client_sending_bearer_tokens(projects: ProjectCache) -> None:
    # The answers test_cdk also renders with: one project serves both.
    project = projects.synced(
        compute_type="ServerlessApiGatewayRestApi",
        integration_pattern="isolated",
        auth="Cognito",
        iac_provider="CDK",
    )
    result = run(CLIENT_TESTS, project)
    assert "test_requests_carry_the_bearer_token_of_the_callable PASSED" in result.stdout
    dependencies = (project / CLIENT / "pyproject.toml").read_text().split("[dependency-")[0]
    assert "botocore" not in dependencies
    # The READMEs' Cognito samples are typed use of this client.
    usage = write_samples(
        project,
        {
            "root_sample": readme_samples(project / "README.md")[1],
            "api_sample": readme_samples(project / SERVICE / "README.md")[0],
        },
    )
    run(["uv", "run", "--no-sync", "mypy", "--strict", "--no-incremental", str(CLIENT), str(usage)],
        project)  # fmt: skip


#: Signed calls of the IAM client: a query needing percent-encoding, a path, a JSON body.
SIGNED_CALLS = """
import sys

from order_service_client import Client, SigV4Auth, models

with Client(sys.argv[1], auth=SigV4Auth(region="eu-west-1")) as client:
    client.echo(message="hi there & more/ü~+")
    client.get_item(7)
    client.create_item(models.Item(name="book ü"))
"""

#: What the stand-in for API Gateway answers, by path.
ANSWERS = {
    "/prod/echo": {"message": "x"},
    "/prod/items/7": {"name": "x"},
    "/prod/items": {"name": "x"},
}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_signature(
    method: str, target: str, headers: dict[str, str], body: bytes, secret: str
) -> str:
    """The SigV4 signature of a request as received, computed from AWS's specification (not
    with botocore, which signed it): canonical request, string to sign, derived key."""
    fields = dict(
        part.strip().split("=", 1)
        for part in headers["authorization"].removeprefix("AWS4-HMAC-SHA256 ").split(",")
    )
    scope = fields["Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    signed = fields["SignedHeaders"].split(";")
    path, _, query = target.partition("?")
    # Outside S3, each path segment is encoded twice: once in the URL, once more here.
    canonical_uri = quote(path, safe="/~")
    pairs = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _, v in (item.partition("=") for item in query.split("&") if item)
    )
    canonical_request = "\n".join(
        [
            method,
            canonical_uri,
            "&".join(f"{k}={v}" for k, v in pairs),
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            headers["x-amz-date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class Received:
    """A request as the stand-in for API Gateway received it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[Received]]]:
    """A server standing in for API Gateway: records requests, answers JSON by path."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            headers = {name.lower(): value for name, value in self.headers.items()}
            received.append(Received(self.command, self.path, headers, self.rfile.read(length)))
            body = json.dumps(ANSWERS[self.path.partition("?")[0]]).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815  (http.server's names)

        def log_message(self, *_: object) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/prod", received
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.slow
def test_sigv4_signature_matches_the_one_computed_from_the_same_credentials(
    project: Path, gateway: tuple[str, list[Received]]
) -> None:
    url, received = gateway
    env = fake_aws_env()
    run(["uv", "run", "--no-sync", "python", "-c", SIGNED_CALLS, url], project, env=env)
    assert [(r.method, r.target.partition("?")[0]) for r in received] == [
        ("GET", "/prod/echo"),
        ("GET", "/prod/items/7"),
        ("POST", "/prod/items"),
    ]
    secret = env["AWS_SECRET_ACCESS_KEY"]
    for request in received:
        fields = request.headers["authorization"]
        assert "Credential=AKIDEXAMPLE/" in fields
        assert "/eu-west-1/execute-api/aws4_request" in fields
        signed = fields.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
        assert request.headers["x-amz-security-token"] == "session-token"
        sent = fields.split("Signature=")[1]
        assert sent == sigv4_signature(
            request.method, request.target, request.headers, request.body, secret
        )
    echo, _, create = received
    assert "content-type" in create.headers["authorization"]
    assert json.loads(create.body) == {"name": "book ü"}
    # The same check refuses what was not signed: another body, query or secret.
    assert sent != sigv4_signature(create.method, create.target, create.headers, b"{}", secret)
    assert echo.headers["authorization"].split("Signature=")[1] != sigv4_signature(
        echo.method, echo.target + "&extra=1", echo.headers, echo.body, secret
    )
    assert sent != sigv4_signature(create.method, create.target, create.headers, create.body, "x")


@pytest.mark.slow
def test_the_url_is_read_from_a_terraform_output(project: Path, tmp_path: Path) -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"
    state = {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "5f5c2a62-1f0c-4a8c-9d2e-0d8f8d1f1a01",
        "outputs": {"order_service_api_url": {"value": url, "type": "string"}},
        "resources": [],
    }
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    code = (
        "import sys\nfrom order_service_client import url_from_terraform\n"
        "print(url_from_terraform('order_service_api_url', chdir=sys.argv[1]))"
    )
    result = run(["uv", "run", "--no-sync", "python", "-c", code, str(tmp_path)], project)
    assert result.stdout.strip() == url
