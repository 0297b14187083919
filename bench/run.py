"""Benchmarks of the template and of the service it generates, each beside its baseline.

Run from the repository root:  uv run python bench/run.py [--seconds 5] [--suite]

Prints a table (and writes bench/results/latest.json) with, for each figure, the generated
project's number, the baseline's number measured in the same run, their ratio and the target:

- `copier copy` of every option combination, against `copier copy` of a one-file template;
- import time of the generated service with tracing enabled as on Lambda, for each `tracing`
  choice (opentelemetry, xray-sdk), against a bare FastAPI app with one route (a cold start
  proxy);
- requests per second and p50/p99 latency over loopback (wrk when installed, else a small
  asyncio client) for each choice, against the bare app under the same uvicorn settings, and
  OpenTelemetry's figures when every request is sampled, its spans sent over UDP to a local
  stand-in of Lambda's X-Ray endpoint, and with nothing listening there;
- cold import as on Lambda (the bundle's folder only, nothing written back) of the Lambda
  bundle with and without its bytecode, beside a bare FastAPI app precompiled the same way;
- the same at concurrency 100, with the peak memory (RSS) of both servers;
- the Lambda bundle, unzipped and zipped, and what dominates it;
- `cdk synth` (build step included) of the default project, first run and second run with
  unchanged sources, against a CDK app with one Lambda function;
- optionally (--suite) the template's own test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import (  # noqa: E402
    COMBINATIONS,
    combination_id,
    free_port,
    tool_env,
    wait_until_listening,
)
from test_tracing import RECEIVER  # noqa: E402

D, API, MODULE = "packages", "order-service", "order_service"

#: The baseline: FastAPI alone, with the same sample route as the generated service.
BARE_APP = """\
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Echo(BaseModel):
    message: str


@app.get("/echo")
def echo(message: str = "hello") -> Echo:
    return Echo(message=message)
"""

BARE_CDK_APP = """\
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

app = cdk.App()
stack = cdk.Stack(app, "Bare")
lambda_.Function(
    stack,
    "Function",
    runtime=lambda_.Runtime.PYTHON_3_13,
    handler="index.handler",
    code=lambda_.Code.from_inline("def handler(event, context):\\n    return event\\n"),
)
app.synth()
"""


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    value: float
    baseline: float | None
    unit: str
    target: str
    ok: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """The generated figure over the baseline's."""
        return self.value / self.baseline if self.baseline else None


def sh(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; exit with its output when it fails."""
    result = subprocess.run(
        list(args), cwd=cwd, env=env or tool_env(), capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def timed(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of a command, in seconds."""
    start = time.perf_counter()
    sh(args, cwd, env)
    return time.perf_counter() - start


def copier_args(template: Path, dst: Path, answers: dict[str, str]) -> list[str]:
    """`copier copy` as a user runs it, non-interactive; of this repository, its committed HEAD
    (what is measured is the work at hand, not the newest release)."""
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    if template == ROOT:
        data += ["--vcs-ref", "HEAD"]
    return [
        sys.executable,
        "-m",
        "copier",
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        *data,
        str(template),
        str(dst),
    ]


def bench_copy(work: Path) -> Row:
    """`copier copy` of each combination against a one-file template."""
    trivial = work / "trivial-template"
    trivial.mkdir()
    (trivial / "copier.yml").write_text("name:\n  type: str\n  default: x\n")
    (trivial / "README.md.jinja").write_text("# {{ name }}\n")
    baseline = statistics.median(
        timed(copier_args(trivial, work / f"trivial-{i}", {}), work) for i in range(3)
    )
    times = {}
    for answers in COMBINATIONS:
        name = combination_id(answers)
        times[name] = timed(
            copier_args(ROOT, work / f"copy-{name}", {"name": "order-service", **answers}), work
        )
    slowest = max(times, key=lambda k: times[k])
    worst = times[slowest]
    return Row(
        "copier copy, slowest of 24 combinations",
        worst,
        baseline,
        "s",
        "< 2 s each",
        worst < 2,
        f"median {statistics.median(times.values()):.2f} s; slowest {slowest}",
    )


def lambda_env(project: Path) -> dict[str, str]:
    """The environment the service sees on Lambda (tracing on, metrics namespace set)."""
    env = tool_env()
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="order-service-bench",
        LAMBDA_TASK_ROOT=str(project / D / API),
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
        PATH=f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}",
    )
    return env


def import_seconds(python: Path, module: str, cwd: Path, env: dict[str, str]) -> float:
    """Seconds to import ``module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(sh([str(python), "-c", code], cwd, env).strip())


def bench_import(projects: dict[str, Path], bare_dir: Path, runs: int = 9) -> list[Row]:
    """Import of the generated app as on Lambda, for each tracing choice, against the bare app."""
    generated: dict[str, list[float]] = {choice: [] for choice in projects}
    bare: list[float] = []
    first = next(iter(projects.values()))
    for _ in range(runs):  # alternate, so all see the same machine load
        for choice, project in projects.items():
            python, service = project / ".venv" / "bin" / "python", project / D / API
            generated[choice].append(
                import_seconds(python, f"{MODULE}.main", service, lambda_env(project))
            )
        python, env = first / ".venv" / "bin" / "python", lambda_env(first)
        bare.append(import_seconds(python, "bare_app", bare_dir, env))
    baseline = statistics.median(bare)
    rows = []
    for choice, seconds in generated.items():
        value = statistics.median(seconds)
        rows.append(
            Row(
                f"import time (cold start proxy), tracing={choice}",
                value,
                baseline,
                "s",
                "<= 1.25x bare",
                value <= 1.25 * baseline,
                f"median of {runs} fresh interpreters each; tracing on",
            )
        )
    return rows


@contextmanager
def server(app: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[int]:
    """Serve ``app`` with uvicorn on a free port until the block ends."""
    port = free_port()
    args = [
        str(Path(env["PATH"].split(os.pathsep)[0]) / "python"),
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=out)
    try:
        wait_until_listening(process, port, log)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


#: The trace header Lambda Web Adapter forwards with every invocation (most are not sampled).
TRACE_HEADER = (
    "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
)
#: The same trace, sampled: its spans are exported before each response ends.
SAMPLED_HEADER = TRACE_HEADER.replace("Sampled=0", "Sampled=1")


def wrk(port: int, seconds: int, header: str = TRACE_HEADER) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency (ms) measured by wrk."""
    out = sh(
        [
            "wrk",
            "-t1",
            "-c8",
            f"-d{seconds}s",
            "--latency",
            "-H",
            header,
            f"http://127.0.0.1:{port}/echo?message=bench",
        ],
        ROOT,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


async def _client(port: int, until: float, latencies: list[float], header: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        b"GET /echo?message=bench HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
        + header.encode()
        + b"\r\n\r\n"
    )
    while time.perf_counter() < until:
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        latencies.append((time.perf_counter() - start) * 1000)
    writer.close()


def python_load(
    port: int, seconds: int, header: str = TRACE_HEADER, connections: int = 8
) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) from ``connections`` keep-alive asyncio connections."""
    latencies: list[float] = []

    async def main() -> None:
        until = time.perf_counter() + seconds
        clients = (_client(port, until, latencies, header) for _ in range(connections))
        await asyncio.gather(*clients)

    asyncio.run(main())
    latencies.sort()
    return (
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[int(len(latencies) * 0.99)],
    )


@contextmanager
def xray_receiver(python: Path, work: Path) -> Iterator[str]:
    """A UDP receiver decoding OTLP spans (the tests'), standing in for Lambda's X-Ray endpoint."""
    process = subprocess.Popen(
        [str(python), "-c", RECEIVER, str(work / "spans.jsonl")], stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        yield f"127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def bench_throughput(
    projects: dict[str, Path], bare_dir: Path, seconds: int, work: Path
) -> list[Row]:
    """The sample route of the generated app, for each tracing choice, against the bare app.

    Requests carry an unsampled trace header, as most do on Lambda; a last figure shows what
    OpenTelemetry's export before each response costs when every request is sampled.
    """
    load = wrk if shutil.which("wrk") else python_load
    first = next(iter(projects.values()))
    results: dict[str, list[tuple[float, float, float]]] = {"bare": []}
    for _ in range(2):  # alternate rounds, keep each side's best
        for choice, project in projects.items():
            env = lambda_env(project)  # tracing on, as on Lambda; the default log level
            log = work / f"{choice}.log"
            with server(f"{MODULE}.main:app", project / D / API, env, log) as port:
                load(port, 1)  # warm up
                results.setdefault(choice, []).append(load(port, seconds))
        with server("bare_app:app", bare_dir, lambda_env(first), work / "bare.log") as port:
            load(port, 1)
            results["bare"].append(load(port, seconds))
    bare = max(results["bare"])
    tool = "wrk -t1 -c8" if load is wrk else "asyncio client, 8 connections"
    rows = []
    for choice in projects:
        gen = max(results[choice])
        rows += [
            Row(
                f"throughput, GET /echo, tracing={choice}",
                gen[0],
                bare[0],
                "req/s",
                ">= 0.75x bare",
                gen[0] >= 0.75 * bare[0],
                f"{tool}, {seconds} s, best of 2; tracing on, unsampled, log level INFO",
            ),
            Row(f"latency p50, tracing={choice}", gen[1], bare[1], "ms", "", None),
            Row(f"latency p99, tracing={choice}", gen[2], bare[2], "ms", "", None),
        ]
    if "opentelemetry" in projects:
        project = projects["opentelemetry"]
        # Sampled and unsampled requests on the same server, in alternating rounds (the
        # machine's load varies from minute to minute): best of 3 each.
        figures: dict[str, dict[str, tuple[float, float, float]]] = {}
        with xray_receiver(project / ".venv" / "bin" / "python", work) as address:
            nowhere = f"127.0.0.1:{free_port()}"
            for label, target in (("received", address), ("nothing listening", nowhere)):
                env = {**lambda_env(project), "AWS_XRAY_DAEMON_ADDRESS": target}
                log = work / f"sampled-{label}.log"
                rounds: dict[str, list[tuple[float, float, float]]] = {"s": [], "u": []}
                with server(f"{MODULE}.main:app", project / D / API, env, log) as port:
                    load(port, 1, SAMPLED_HEADER)
                    for _ in range(3):
                        rounds["u"].append(load(port, seconds, TRACE_HEADER))
                        rounds["s"].append(load(port, seconds, SAMPLED_HEADER))
                figures[label] = {"s": max(rounds["s"]), "u": max(rounds["u"])}
        for label, pair in figures.items():
            sampled, unsampled = pair["s"], pair["u"]
            rows += [
                Row(
                    f"throughput, every request sampled, X-Ray endpoint: {label}",
                    sampled[0],
                    unsampled[0],
                    "req/s",
                    ">= 0.75x unsampled",
                    sampled[0] >= 0.75 * unsampled[0],
                    "tracing=opentelemetry; baseline: unsampled requests to the same server, "
                    "alternating rounds, best of 3; spans sent as OTLP over UDP before each "
                    "response ends",
                ),
                Row(f"latency p50, sampled, {label}", sampled[1], unsampled[1], "ms", "", None),
                Row(f"latency p99, sampled, {label}", sampled[2], unsampled[2], "ms", "", None),
            ]
    return rows


#: Connections of the load at high concurrency (an API Gateway burst hitting one instance
#: locally; on Lambda each environment serves one request at a time).
CONCURRENCY = 100


@contextmanager
def measured_server(
    app: str, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[tuple[int, int]]:
    """Serve ``app`` with uvicorn like :func:`server`; yields its port and process id."""
    port = free_port()
    python = Path(env["PATH"].split(os.pathsep)[0]) / "python"
    args = [str(python), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=out)
    try:
        wait_until_listening(process, port, log)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a running process (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)  # type: ignore[union-attr]
    return int(kilobytes) / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_at(port: int, seconds: int, connections: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) of GET /echo over ``connections`` keep-alive connections
    (wrk when installed, else asyncio clients)."""
    if shutil.which("wrk"):
        out = sh(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H",
                  TRACE_HEADER, f"http://127.0.0.1:{port}/echo?message=bench"], ROOT)  # fmt: skip
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

        def percentile(label: str) -> float:
            value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()  # type: ignore[union-attr]
            return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

        return rps, percentile("50"), percentile("99")
    return python_load(port, seconds, TRACE_HEADER, connections)


def bench_concurrency(project: Path, bare_dir: Path, seconds: int, work: Path) -> list[Row]:
    """GET /echo at concurrency 100, generated app against bare FastAPI, with peak memory.

    Both are served in turn, as on Lambda (tracing on, unsampled), best of two rounds; the
    peak resident memory (VmHWM) of each server is read once its load is over. The server's
    CPU time per request is the steadiest figure on a shared machine: other processes slow
    the load down, not the work each request costs.
    """
    env = lambda_env(project)
    apps = {"generated": (f"{MODULE}.main:app", project / D / API),
            "bare": ("bare_app:app", bare_dir)}  # fmt: skip
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in apps}
    memory: dict[str, float] = {}
    cpu_ms: dict[str, float] = {}
    for _ in range(2):
        for name, (app, cwd) in apps.items():
            with measured_server(app, cwd, env, work / f"c{CONCURRENCY}-{name}.log") as (port, pid):
                load_at(port, 1, CONCURRENCY)  # warm up
                before = cpu_seconds(pid)
                figures = load_at(port, seconds, CONCURRENCY)
                per_request = (cpu_seconds(pid) - before) * 1000 / (figures[0] * seconds)
                results[name].append(figures)
                cpu_ms[name] = min(cpu_ms.get(name, per_request), per_request)
                memory[name] = max(memory.get(name, 0.0), peak_rss_mb(pid))
    generated, bare = max(results["generated"]), max(results["bare"])
    tool = f"wrk -t2 -c{CONCURRENCY}" if shutil.which("wrk") else f"{CONCURRENCY} asyncio clients"
    note = f"{tool}, {seconds} s, best of 2; tracing on, unsampled, log level INFO"
    return [
        Row(f"throughput at concurrency {CONCURRENCY}, GET /echo", generated[0], bare[0],
            "req/s", ">= 0.75x bare", generated[0] >= 0.75 * bare[0], note),
        Row(f"latency p50 at concurrency {CONCURRENCY}", generated[1], bare[1], "ms", "", None),
        Row(f"latency p99 at concurrency {CONCURRENCY}", generated[2], bare[2], "ms", "", None),
        Row("server CPU time per request at that load", cpu_ms["generated"], cpu_ms["bare"],
            "ms", "", None, "user + system time of the uvicorn process, best of 2"),
        Row("server peak memory (RSS) under that load", memory["generated"], memory["bare"],
            "MB", "", None, "VmHWM of the uvicorn process"),
    ]  # fmt: skip


def tree_size(path: Path) -> int:
    """Bytes of every file below ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_bundle(project: Path) -> list[Row]:
    """The Lambda bundle: unzipped, zipped, and its largest parts."""
    seconds = timed(["uv", "run", "toolchain", "bundle", API], project)
    folder = project / D / API / "dist" / "lambda"
    archive = project / D / API / "dist" / "lambda.zip"
    unzipped = tree_size(folder)
    parts = sorted(
        ((tree_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in folder.iterdir()),
        reverse=True,
    )[:4]
    largest = ", ".join(f"{name} {size / 1e6:.1f} MB" for size, name in parts)
    bytecode = sum(p.stat().st_size for p in folder.rglob("*.pyc"))
    with zipfile.ZipFile(archive) as zf:
        files = len(zf.infolist())
    return [
        Row(
            "bundle, unzipped, bytecode included",
            unzipped / 1e6,
            None,
            "MB",
            "< 50 MB (Lambda: 250 MB)",
            unzipped < 50e6,
            f"of which bytecode {bytecode / 1e6:.1f} MB; largest: {largest}",
        ),
        Row(
            "bundle, zipped",
            archive.stat().st_size / 1e6,
            None,
            "MB",
            "",
            None,
            f"{files} files; built in {seconds:.1f} s",
        ),
    ]


#: Compiles every module below argv[1] as the bundle script does (hash-based, unchecked).
COMPILE = """
import compileall, sys
from py_compile import PycInvalidationMode

compileall.compile_dir(
    sys.argv[1], quiet=1, workers=0, invalidation_mode=PycInvalidationMode.UNCHECKED_HASH
)
"""


def cold_import_seconds(python: str, module: str, folder: Path, runtime: Path) -> float:
    """Seconds to import ``module`` from ``folder``, as on Lambda: a fresh interpreter, no
    site-packages but the folder and what the Lambda runtime provides (``runtime``: boto3 and
    its dependencies, precompiled), nothing written back (the code folder is read-only)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {
        **lambda_env(folder),
        "PYTHONPATH": os.pathsep.join([str(folder), str(runtime)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(folder),
    }
    return float(sh([python, "-S", "-c", code], folder, env).strip())


def bench_bytecode(work: Path, runs: int = 9) -> list[Row]:
    """Cold import of the Lambda bundle with and without its bytecode, beside bare FastAPI.

    The bundle is built for this machine's architecture (x86_64) so that it can be imported
    here, by the interpreter of the function's Python version that compiled it.
    """
    project = work / "copy-x86"
    answers = {"name": "order-service", "lambda_architecture": "x86_64"}
    sh(copier_args(ROOT, project, answers), work)
    sh(["uv", "sync"], project)
    sh(["uv", "run", "toolchain", "bundle", API], project)
    version = (project / ".python-version").read_text().strip()
    python = sh(["uv", "python", "find", "--no-project", version], work).strip()
    with_bytecode = project / D / API / "dist" / "lambda"
    without = work / "bundle-without-bytecode"
    shutil.copytree(with_bytecode, without, ignore=shutil.ignore_patterns("__pycache__"))
    bare = work / "bare-precompiled"
    platform = "x86_64-manylinux_2_34"
    sh(
        ["uv", "pip", "install", "--quiet", "--target", str(bare), "--python-platform", platform,
         "--python-version", version, "--only-binary", ":all:", "--no-compile", "fastapi"],
        work,
    )  # fmt: skip
    (bare / "bare_app.py").write_text(BARE_APP)
    # What the Lambda Python runtime provides beside the bundle (the bundle leaves it out).
    runtime = work / "lambda-runtime"
    sh(
        ["uv", "pip", "install", "--quiet", "--target", str(runtime), "--python-platform", platform,
         "--python-version", version, "--only-binary", ":all:", "--no-compile", "boto3"],
        work,
    )  # fmt: skip
    for folder in (bare, runtime):
        sh([python, "-c", COMPILE, str(folder)], work, {**tool_env(), "PYTHONHASHSEED": "0"})
    figures: dict[str, list[float]] = {"with": [], "without": [], "bare": []}
    main = f"{MODULE}.main"
    for _ in range(runs):  # alternate, so all see the same machine load
        figures["with"].append(cold_import_seconds(python, main, with_bytecode, runtime))
        figures["without"].append(cold_import_seconds(python, main, without, runtime))
        figures["bare"].append(cold_import_seconds(python, "bare_app", bare, runtime))
    value, slow, baseline = (statistics.median(figures[k]) for k in ("with", "without", "bare"))
    pycs = sum(1 for _ in with_bytecode.rglob("*.pyc"))
    note = f"median of {runs}; Python {version}, tracing on as on Lambda"
    return [
        Row(
            "cold import as on Lambda, bundle with bytecode",
            value,
            baseline,
            "s",
            "<= 0.6x without bytecode",
            value <= 0.6 * slow,
            f"{value / slow:.2f}x without; {pycs} .pyc files; baseline: bare FastAPI, precompiled",
        ),
        Row(
            "cold import as on Lambda, bundle without bytecode", slow, baseline, "s", "", None, note
        ),
    ]


def bench_synth(project: Path, work: Path) -> list[Row]:
    """`cdk synth` (build step, then the app) of the default project, first and second run.

    The first run builds every API's OpenAPI document and Lambda bundle; the second finds the
    sources unchanged and keeps them. Both beside a CDK app with one Lambda function.
    """
    infra = project / D / "infra"
    if not (infra / "cdk.json").is_file():
        return []
    env = tool_env()
    synth = ["npx", "--yes", "aws-cdk@2", "synth", "--quiet"]
    shutil.rmtree(project / D / API / "dist", ignore_errors=True)
    first = timed(synth, infra, env)
    second = timed(synth, infra, env)
    bare = work / "bare-cdk"
    bare.mkdir()
    (bare / "app.py").write_text(BARE_CDK_APP)
    python = project / ".venv" / "bin" / "python"
    (bare / "cdk.json").write_text(json.dumps({"app": f"{python} app.py"}))
    baseline = timed(synth, bare, env)
    note = "baseline: one Lambda function; includes the build step"
    return [
        Row("cdk synth, default project, first run", first, baseline, "s", "", None, note),
        Row(
            "cdk synth, default project, second run",
            second,
            baseline,
            "s",
            "",
            None,
            "sources unchanged: bundle kept",
        ),
    ]


def bench_suite() -> Row:
    """The template's own test suite, as CI runs it."""
    seconds = timed(["uv", "run", "--frozen", "pytest", "-n", "auto", "-q"], ROOT)
    return Row("template test suite", seconds / 60, None, "min", "< 30 min", seconds < 1800)


def print_table(rows: list[Row]) -> None:
    """The results as a Markdown table."""
    print("| measure | generated | baseline | ratio | target | met | note |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        baseline = f"{row.baseline:.3g} {row.unit}" if row.baseline is not None else ""
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        met = "" if row.ok is None else ("yes" if row.ok else "NO")
        print(
            f"| {row.measure} | {row.value:.3g} {row.unit} | {baseline} | {ratio} "
            f"| {row.target} | {met} | {row.note} |"
        )


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="load duration per round")
    parser.add_argument("--suite", action="store_true", help="also time the test suite")
    options = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        rows.append(bench_copy(work))
        project = work / f"copy-{combination_id(COMBINATIONS[0])}"
        sh(["uv", "sync"], project)
        xray = work / "copy-xray-sdk"
        sh(copier_args(ROOT, xray, {"name": "order-service", "tracing": "xray-sdk"}), work)
        sh(["uv", "sync"], xray)
        traced = {"opentelemetry": project, "xray-sdk": xray}
        bare_dir = work / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        rows.extend(bench_import(traced, bare_dir))
        rows.extend(bench_throughput(traced, bare_dir, options.seconds, work))
        rows.extend(bench_concurrency(project, bare_dir, options.seconds, work))
        rows.extend(bench_bundle(project))
        rows.extend(bench_bytecode(work))
        rows.extend(bench_synth(project, work))
        if options.suite:
            rows.append(bench_suite())
    print_table(rows)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
