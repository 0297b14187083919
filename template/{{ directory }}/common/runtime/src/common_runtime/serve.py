"""Start an API's app with uvicorn: what every API's ``run.sh`` runs, on Lambda and locally.

``python -m common_runtime.serve <module>.main:app [uvicorn options]``, from the API's folder
(in the Lambda bundle, the dependencies sit next to the package, which ``python -m`` finds from
the working directory; locally the workspace's virtual environment provides them).

On Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set), the Lambda Web Adapter layer execs ``run.sh``,
the function's handler, and forwards each invocation over HTTP to ``$AWS_LWA_PORT``, once the
app answers its readiness check (``AWS_LWA_READINESS_CHECK_PATH``, answered by the runtime).
Nothing else changes there. Locally (``poe serve``):

- every request is logged (``POWERTOOLS_LOG_LEVEL`` defaults to ``DEBUG``), and in a terminal
  as readable, coloured lines (``LOG_FORMAT`` defaults to ``console``) rather than the JSON and
  EMF documents Lambda's log pipeline wants;
- ``--reload`` watches the API's package and this runtime only, not ``dist/`` (rewritten by
  every build) nor the virtual environment;
- with ``LOCAL_GATEWAY`` set (``on``, or ``no-auth``), the app is served behind the local
  gateway (:mod:`common_runtime.local_gateway`): the API's auth and gateway, read from
  ``[tool.api]`` in its ``pyproject.toml``, in front of the app, with the request context the
  adapter forwards on Lambda.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

#: Where uvicorn listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8000"


def _api_settings(folder: Path) -> dict[str, str]:
    """The ``[tool.api]`` table of the API's ``pyproject.toml`` (empty when there is none)."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("api", {})
    return {str(key): str(value) for key, value in table.items()}


def uvicorn_arguments(
    app: str, options: list[str], environ: dict[str, str], folder: Path
) -> tuple[list[str], dict[str, str]]:
    """uvicorn's command-line arguments for ``app``, and the environment variables to set."""
    host = environ.get("HOST") or DEFAULT_HOST
    port = environ.get("AWS_LWA_PORT") or environ.get("PORT") or DEFAULT_PORT
    settings: dict[str, str] = {}
    if not environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        settings["POWERTOOLS_LOG_LEVEL"] = environ.get("POWERTOOLS_LOG_LEVEL") or "DEBUG"
        if sys.stdout.isatty():
            settings["LOG_FORMAT"] = environ.get("LOG_FORMAT") or "console"
        if "--reload" in options:
            runtime_source = Path(__file__).resolve().parents[1]
            package = app.partition(".")[0].partition(":")[0]
            options = [*options, "--reload-dir", package, "--reload-dir", str(runtime_source)]
        if environ.get("LOCAL_GATEWAY"):
            api = _api_settings(folder)
            settings |= {
                "LOCAL_GATEWAY_APP": app,
                "LOCAL_GATEWAY_AUTH": api.get("auth", "None"),
                "LOCAL_GATEWAY_API": api.get("gateway", "REST"),
            }
            app = "common_runtime.local_gateway:create_app"
            options = ["--factory", *options]
    return [app, "--host", host, "--port", port, "--no-access-log", *options], settings


def main(argv: list[str] | None = None) -> None:
    """Serve the app named first in ``argv`` (``module:attribute``) with uvicorn."""
    args = sys.argv[1:] if argv is None else argv
    if not args or ":" not in args[0]:
        raise SystemExit("usage: python -m common_runtime.serve <module>:<app> [uvicorn options]")
    arguments, settings = uvicorn_arguments(args[0], args[1:], dict(os.environ), Path.cwd())
    os.environ.update(settings)
    # Imported once the environment is set: the app reads it.
    from uvicorn.main import main as uvicorn_main

    uvicorn_main(args=arguments, prog_name="uvicorn")


if __name__ == "__main__":
    main()
