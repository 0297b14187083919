"""Write an API's typed Python client from its OpenAPI document.

    uv run poe client [api ...]        # `toolchain client`: the APIs named, or every API

The client package is <api-name>-client, next to the API's folder. ``models.py`` holds the
document's schemas as Pydantic models (written by datamodel-code-generator); ``client.py`` holds
``Client`` and ``AsyncClient`` with one typed method per operation, named after its operationId,
on the repository's client runtime (``common_client``: transport, errors, auth). Streamed
responses (``itemSchema``) become iterators of their item model. The build writes the client
each time it writes the document, so the client stays in step with the routes.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common_toolchain.settings import Api, workspace_root

HEADER = '''"""{summary}

Generated from the API's OpenAPI document by the repository's toolchain (`uv run poe client`,
which the build runs): do not edit, change the routes and build again.
"""'''
#: Names the client classes already use.
RESERVED = {"close", "aclose"}
#: Docstring width inside a method, so generated lines stay within the line length.
DOC_WIDTH = 88


def identifier(name: str) -> str:
    """A Python identifier for an OpenAPI name (``item-id`` -> ``item_id``, ``from`` ->
    ``from_``)."""
    text = re.sub(r"\W", "_", name)
    if not text or text[0].isdigit():
        text = f"_{text}"
    if keyword.iskeyword(text) or text in {"self", "body", "models"}:
        text = f"{text}_"
    return text


def docstring(text: str, indent: str) -> str:
    """``text`` as a docstring at ``indent``, wrapped to fit the line length."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    wrapped = [
        textwrap.fill(" ".join(p.split()), DOC_WIDTH - len(indent)).replace("\\", "\\\\")
        for p in paragraphs or ["Call the operation."]
    ]
    body = f"\n\n{indent}".join(w.replace("\n", f"\n{indent}") for w in wrapped)
    body = body.replace('"""', '\\"\\"\\"')
    closing = f"\n{indent}" if "\n" in body or len(indent) + len(body) + 6 > 100 else ""
    return f'{indent}"""{body}{closing}"""'


def models_source(document: dict[str, Any]) -> str:
    """The document's schemas as Pydantic v2 models, by datamodel-code-generator."""
    try:
        from datamodel_code_generator import InputFileType, PythonVersion, generate
        from datamodel_code_generator.enums import DataModelType
    except ImportError:
        sys.exit(
            "datamodel-code-generator is missing: run `uv sync` (the toolchain depends on it)."
        )
    header = HEADER.format(summary="Request and response models of the API.")
    if not document.get("components", {}).get("schemas"):
        return header + "\n"
    source = generate(
        document,
        input_file_type=InputFileType.OpenAPI,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_312,
        custom_file_header=header,
        disable_timestamp=True,
        use_schema_description=True,
        use_field_description=True,
        use_annotated=True,
        use_standard_collections=True,
        use_union_operator=True,
        formatters=[],
    )
    return str(source)


@dataclass
class Signature:
    """What a method needs: its parameters, the call's arguments and the imports they use."""

    positional: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    arguments: dict[str, dict[str, str]] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)


class ClientWriter:
    """Writes client.py from the document and the classes of models.py."""

    def __init__(self, document: dict[str, Any], model_classes: set[str], auth: str) -> None:
        self.document = document
        self.auth = auth
        self.classes = {self._squash(name): name for name in model_classes}
        self.imports: set[str] = set()

    @staticmethod
    def _squash(name: str) -> str:
        return re.sub(r"[^a-z0-9]", "", name.lower())

    def model(self, ref: str) -> str:
        """``models.<Class>`` for a ``#/components/schemas/<name>`` reference."""
        name = ref.rsplit("/", 1)[-1]
        found = self.classes.get(self._squash(name))
        if found is None:
            sys.exit(f"No model in models.py for the schema {name!r}.")
        return f"models.{found}"

    def annotation(self, schema: dict[str, Any]) -> str:
        """The Python type of a JSON schema."""
        if "$ref" in schema:
            return self.model(schema["$ref"])
        for union in ("anyOf", "oneOf"):
            if union in schema:
                parts = dict.fromkeys(self.annotation(s) for s in schema[union])
                return "Any" if "Any" in parts else " | ".join(parts)
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else schema["enum"]
            self.imports.add("Literal")
            return f"Literal[{', '.join(json.dumps(v) for v in values)}]"
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(self.annotation({**schema, "type": k}) for k in kind)
        if kind == "array":
            return f"list[{self.annotation(schema.get('items', {}))}]"
        if kind == "object":
            extra = schema.get("additionalProperties")
            value = self.annotation(extra) if isinstance(extra, dict) else "Any"
            if value == "Any":
                self.imports.add("Any")
            return f"dict[str, {value}]"
        simple = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
        if kind == "null":
            return "None"
        if kind in simple:
            return "bytes" if schema.get("format") == "binary" else simple[kind]
        self.imports.add("Any")
        return "Any"

    def signature(self, operation: dict[str, Any]) -> Signature:
        """The method's parameters: path ones and the body positional, the others keywords."""
        sig = Signature()
        for parameter in operation.get("parameters", []):
            location, name = parameter["in"], parameter["name"]
            if location == "cookie":
                continue  # set cookies on the client's headers instead
            python = identifier(name)
            schema = parameter.get("schema", {})
            kind = self.annotation(schema)
            group = {"path": "path", "query": "query", "header": "headers"}[location]
            sig.arguments.setdefault(group, {})[name] = python
            if location == "path":
                sig.positional.append(f"{python}: {kind}")
            elif parameter.get("required"):
                sig.keywords.insert(0, f"{python}: {kind}")
            elif isinstance(schema.get("default"), str | int | float | bool):
                sig.keywords.append(f"{python}: {kind} = {schema['default']!r}")
            else:
                optional = kind if kind.endswith("None") else f"{kind} | None"
                sig.keywords.append(f"{python}: {optional} = None")
        body = operation.get("requestBody")
        if body:
            content = body.get("content", {})
            schema = content.get("application/json", {}).get("schema")
            kind = self.annotation(schema) if schema is not None else "Any"
            if kind == "Any":
                self.imports.add("Any")
            if body.get("required"):
                sig.positional.append(f"body: {kind}")
            else:
                sig.keywords.append(f"body: {kind} | None = None")
            sig.arguments["body"] = {}
        return sig

    def outcome(self, operation: dict[str, Any]) -> tuple[str, str, bool]:
        """(result type, the adapter's type, streamed?) of the operation's success response."""
        responses = operation.get("responses", {})
        success = sorted(code for code in responses if code.startswith("2"))
        content = responses[success[0]].get("content", {}) if success else {}
        for media, entry in content.items():
            if "itemSchema" in entry:
                item = self.annotation(entry["itemSchema"])
                return item, item, True
            if media == "application/json" or media.endswith("+json"):
                kind = self.annotation(entry.get("schema", {}))
                return kind, kind, False
        if content:
            return "bytes", "bytes", False
        return "None", "type(None)", False

    def errors(self, operation: dict[str, Any]) -> str:
        """The error statuses the operation declares, with their models."""
        entries = []
        for code, response in sorted(operation.get("responses", {}).items()):
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if code[:1] in {"4", "5"} and code.isdigit() and "$ref" in schema:
                entries.append(f"{code}: {self.model(schema['$ref'])}")
        return "{" + ", ".join(entries) + "}"

    def write(self) -> str:
        """The source of client.py."""
        constants, sync_methods, async_methods = [], [], []
        for path, item in sorted(self.document.get("paths", {}).items()):
            for method, operation in sorted(item.items()):
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                name = identifier(operation.get("operationId") or f"{method}_{path}")
                if name in RESERVED:
                    name = f"{name}_"
                sig = self.signature(operation)
                result, adapted, streamed = self.outcome(operation)
                constant = f"_{name.upper()}"
                raw = ", raw=True" if adapted == "bytes" else ""
                constants.append(
                    f"{constant} = Operation(\n    {method.upper()!r},\n    {path!r},\n"
                    f"    TypeAdapter({adapted}),\n    {self.errors(operation)}{raw},\n)"
                )
                params = ["self", *sig.positional]
                if sig.keywords:
                    params += ["*", *sig.keywords]
                arguments = [constant]
                for group, names in sig.arguments.items():
                    if group == "body":
                        arguments += ["body=body", "has_body=True"]
                    else:
                        pairs = ", ".join(f"{k!r}: {v}" for k, v in names.items())
                        arguments.append(f"{group}={{{pairs}}}")
                doc = operation.get("description") or operation.get("summary") or ""
                call = ", ".join(arguments)
                if streamed:
                    sync_methods.append(
                        f"    def {name}({', '.join(params)}) -> Iterator[{result}]:\n"
                        f"{docstring(doc, ' ' * 8)}\n"
                        f"        return self._stream({call})"
                    )
                    async_methods.append(
                        f"    def {name}({', '.join(params)}) -> AsyncIterator[{result}]:\n"
                        f"{docstring(doc, ' ' * 8)}\n"
                        f"        return self._stream({call})"
                    )
                    self.imports.add("streams")
                else:
                    sync_methods.append(
                        f"    def {name}({', '.join(params)}) -> {result}:\n"
                        f"{docstring(doc, ' ' * 8)}\n"
                        f"        return self._call({call})"
                    )
                    async_methods.append(
                        f"    async def {name}({', '.join(params)}) -> {result}:\n"
                        f"{docstring(doc, ' ' * 8)}\n"
                        f"        return await self._call({call})"
                    )
        typing_names = sorted(self.imports & {"Any", "Literal"})
        lines = [
            HEADER.format(summary="One method per operation of the API, synchronous and async."),
            "",
            "from __future__ import annotations",
            "",
        ]
        if "streams" in self.imports:
            lines.append("from collections.abc import AsyncIterator, Iterator")
        if typing_names:
            lines.append(f"from typing import {', '.join(typing_names)}")
        lines += [
            "",
            "from pydantic import TypeAdapter",
            "",
            "from common_client import AsyncBaseClient, BaseClient, Operation",
            "",
            "from . import models",
            "",
            *(f"{c}\n" for c in constants),
            "",
            "class Client(BaseClient):",
            '    """Calls the API synchronously: ``Client(base_url)``, then one method per'
            " operation.\n\n"
            "    ``auth`` is an ``httpx.Auth`` (the API's own scheme when omitted), ``headers``"
            " are sent\n    with every request, ``timeout`` is in seconds. Errors raise"
            " ``ApiError``. A streamed\n    operation sends its request when iteration starts:"
            ' iterate before the client closes.\n    """',
            "",
            f"    auth_scheme = {self.auth!r}",
            "",
            "\n\n".join(sync_methods),
            "",
            "",
            "class AsyncClient(AsyncBaseClient):",
            '    """Calls the API asynchronously (``async with AsyncClient(base_url) as'
            ' client``),\n    with the same methods as ``Client``."""',
            "",
            f"    auth_scheme = {self.auth!r}",
            "",
            "\n\n".join(async_methods),
            "",
        ]
        return "\n".join(lines)


def model_classes(source: str) -> set[str]:
    """The classes that models.py defines."""
    return {node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}


def formatted(source: str, path: Path) -> str:
    """``source`` fixed and formatted by ruff with the repository's settings, as if it were the
    file at ``path`` (wherever it is written)."""
    for args in (["check", "--fix-only", "--exit-zero", "--quiet"], ["format", "--quiet"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(path), "-"],
            input=source, cwd=workspace_root(path.parent), capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if result.returncode:
            sys.exit(f"ruff {args[0]} failed on the generated {path.name}:\n{result.stderr}")
        source = result.stdout
    return source


def client_sources(document: dict[str, Any], package: Path, auth: str) -> dict[str, str]:
    """The generated files of the client package in ``package``, by file name."""
    models = formatted(models_source(document), package / "models.py")
    client = ClientWriter(document, model_classes(models), auth).write()
    return {"models.py": models, "client.py": formatted(client, package / "client.py")}


def write_client(document: dict[str, Any], package: Path, auth: str) -> list[Path]:
    """Write the generated files into ``package``; return the paths it changed."""
    written = []
    for name, source in client_sources(document, package, auth).items():
        target = package / name
        if not target.is_file() or target.read_text(encoding="utf-8") != source:
            target.write_text(source, encoding="utf-8")
            written.append(target)
    return written


def generate(api: Api) -> None:
    """Write the API's client from its document, when the API has a client package."""
    # A repository may drop an API's client: then there is nothing to keep in step.
    if not api.client_package.is_dir():
        return
    document = json.loads(api.document.read_text(encoding="utf-8"))
    for path in write_client(document, api.client_package, api.auth):
        print(f"Wrote {path}")
