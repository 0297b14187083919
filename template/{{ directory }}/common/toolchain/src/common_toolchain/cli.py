"""``toolchain <step> [api ...]``: a build step for the APIs named, or for every API."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from common_toolchain import client
from common_toolchain.build import build, document
from common_toolchain.bundle import bundle
from common_toolchain.settings import Api, SettingsError, select


def client_only(api: Api) -> None:
    """The API's client, from its document (written first when there is none yet)."""
    if not api.document.is_file():
        document(api)
    else:
        client.generate(api)


#: Each step, what it does.
STEPS: dict[str, tuple[Callable[[Api], None], str]] = {
    "build": (build, "document, client, operations and Lambda bundle (what changed only)"),
    "openapi": (document, "the OpenAPI document (dist/openapi.json), client and operations"),
    "client": (client_only, "the typed client (<api-name>-client), from the document"),
    "bundle": (bundle, "the Lambda bundle (dist/lambda/, dist/lambda.zip)"),
}


def main(argv: list[str] | None = None) -> None:
    """Run the step asked for on the APIs asked for."""
    parser = argparse.ArgumentParser(prog="toolchain", description=__doc__)
    steps = parser.add_subparsers(dest="step", required=True)
    for name, (_, description) in STEPS.items():
        step = steps.add_parser(name, help=description, description=description)
        step.add_argument("apis", nargs="*", metavar="api", help="API folder names (all)")
    args = parser.parse_args(argv)
    try:
        chosen = select(args.apis)
    except SettingsError as error:
        raise SystemExit(f"error: {error}") from None
    run, _ = STEPS[args.step]
    for api in chosen:
        run(api)
