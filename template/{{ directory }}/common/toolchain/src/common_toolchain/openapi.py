"""Write an API's OpenAPI document from its FastAPI app, without starting a server.

The app is imported in a process of its own (``python -m common_toolchain.openapi <module>
<output>``): each API's routes and observability tools stay apart from the others'.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from common_toolchain.settings import Api


def document_of(module: str) -> dict[str, Any]:
    """The OpenAPI document of the app in ``<module>.init``, with the routes of ``main.py``.

    Refuses duplicate routes or operation ids (``common_runtime.routes``).
    """
    from common_runtime.routes import DuplicateRouteError, check_unique_routes

    importlib.import_module(f"{module}.main")  # registers the routes on the app
    app = importlib.import_module(f"{module}.init").app
    try:
        check_unique_routes(app)
    except DuplicateRouteError as error:
        raise SystemExit(f"error: {error}") from None
    document: dict[str, Any] = app.openapi()
    return document


def write_document(api: Api, output: Path | None = None) -> Path:
    """Write the API's document (``dist/openapi.json`` by default) and return its path."""
    output = output or api.document
    result = subprocess.run(
        [sys.executable, "-m", "common_toolchain.openapi", api.module, str(output)],
        cwd=api.root,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"{api.name}: the OpenAPI document could not be written.")
    print(f"Wrote {output}")
    return output


def main(argv: list[str]) -> None:
    """``<module> <output>``: write the document of the API whose package is ``module``."""
    module, output = argv
    document = document_of(module)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
