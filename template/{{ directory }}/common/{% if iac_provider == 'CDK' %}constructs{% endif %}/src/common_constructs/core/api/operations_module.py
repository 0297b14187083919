"""The source of an API's ``<module>_operations.py``, written by the build step.

The module holds everything of the API's construct that follows from its routes and its
settings (``[tool.api]``): the operations, the typed integrations and their builder, and the
construct class itself, so that no API carries a hand-written copy of it. The source is written
as ruff formats it (expanded collections keep their trailing commas), so the repository's
formatter and linter accept it whatever the API and its operations are called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from common_constructs.core.api.operations import Operation

#: Attributes of the integrations class that operations may not shadow the builder's parameters).
RESERVED_OPERATION_NAMES = frozenset({"router", "by_operation", "self", "overrides"})
LINE_LENGTH = 100
#: A word of an API name: a run of letters or of digits.
WORD = re.compile(r"[a-z]+|[0-9]+")


def api_class(api_name: str) -> str:
    """``order-service`` -> ``OrderServiceApi``: the construct class, as the template names it.

    Words are split as the template splits them: digits stay with the word they follow
    (``v2api`` -> ``V2Api``).
    """
    words: list[str] = []
    for chunk in api_name.split("-"):
        merged: list[str] = []
        for part in WORD.findall(chunk):
            if part.isdigit() and merged:
                merged[-1] += part
            else:
                merged.append(part.lower())
        words.extend(merged)
    name = "".join(word[:1].upper() + word[1:] for word in words)
    return name if name.endswith("Api") else f"{name}Api"


@dataclass(frozen=True)
class ConstructSettings:
    """What the API's construct is, from its settings (``[tool.api]`` in its pyproject.toml)."""

    gateway: Literal["REST", "HTTP"]
    auth: Literal["IAM", "Cognito", "Custom", "None"]
    integration_pattern: Literal["isolated", "shared"]


def _lines(template: str, items: list[str]) -> str:
    """``template`` formatted with each item, one line each."""
    return "".join(template.format(item=item) for item in items)


def _literal(names: list[str]) -> str:
    """``Literal[...]`` of the operation names, laid out as ruff lays it out."""
    if len(names) > 1:
        return "Literal[\n" + _lines('    "{item}",\n', names) + "]"
    single = f'Literal["{names[0]}"]'
    if len(f"OperationName = {single}") <= LINE_LENGTH:
        return single
    return "Literal[\n" + _line(f'    "{names[0]}"') + "]"


def _line(code: str, name: str = "", naming_rule: str = "") -> str:
    """One line of code naming operation ``name``, with the linter's pardons it needs.

    A long operation name can make the line too long (E501), and a field or parameter named
    after a camelCase function is not snake case (``naming_rule``): both come from the API's
    own code.
    """
    pardons = [
        # A line of one word (no inner whitespace) is never too long for the linter.
        *(["E501"] if len(code) > LINE_LENGTH and " " in code.strip() else []),
        *([naming_rule] if naming_rule and name != name.lower() else []),
    ]
    return f"{code}  # noqa: {', '.join(pardons)}\n" if pardons else f"{code}\n"


def operations_module(
    api_name: str, module: str, operations: Mapping[str, Operation], settings: ConstructSettings
) -> str:
    """The source of ``<module>_operations.py`` for these operations and settings."""
    reserved = RESERVED_OPERATION_NAMES.intersection(operations)
    if reserved:
        raise SystemExit(f"{api_name}: operations may not be called {sorted(reserved)}.")
    if not operations:
        raise SystemExit(f"{api_name}: the API has no operations to deploy.")
    names = sorted(operations)
    cls = api_class(api_name)
    type_vars = {name: f"_T{index}" for index, name in enumerate(names)}
    literal = _literal(names)
    entries = "".join(
        _line(f'    "{name}": Operation(') + f"        path={json.dumps(operations[name].path)},\n"
        f"        method={json.dumps(operations[name].method)},\n"
        "    ),\n"
        for name in names
    )
    declared_vars = "".join(
        f'{var} = TypeVar("{var}", default=DefaultIntegration)\n' for var in type_vars.values()
    )
    params = _lines("        {item},\n", ["RouterT", *type_vars.values()])
    fields = "".join(_line(f"    {name}: {var}", name, "N815") for name, var in type_vars.items())
    any_params = _lines("    {item},\n", ["Any"] * (len(names) + 1))
    keywords = "".join(
        _line(f"        {name}: {var} = UNCHANGED,", name, "N803")
        for name, var in type_vars.items()
    )
    overridden = _lines("            {item},\n", ["RouterT", *type_vars.values()])
    given = "".join(_line(f'                "{name}": {name},') for name in names)
    gateway_import = _line(
        f"from common_constructs.core.api.{settings.gateway.lower()}_api import "
        f"{_base(settings)}, {_base(settings)}Options, lambda_integration"
    )
    custom = settings.auth == "Custom"
    return f'''"""Construct and operations of the {api_name} API.

Generated by the repository's toolchain (`uv run poe build`) from the API's OpenAPI document
and its `[tool.api]` settings: do not edit, run it again. How to use the construct: the
examples in `common_constructs/app/apis/README.md`.
"""

from __future__ import annotations

{_if(custom, "from collections.abc import Sequence")}from dataclasses import dataclass
from typing import Any, Generic, Literal, Unpack

from aws_cdk import aws_cognito as cognito
from constructs import Construct
from typing_extensions import TypeVar

{_if(custom, "from common_constructs.core.api.authorizer import CustomAuthorizer")}\
from common_constructs.core.api.bundle import ServiceBundle
{gateway_import if settings.gateway == "HTTP" else ""}\
from common_constructs.core.api.integrations import (
    UNCHANGED,
    ApiIntegrations,
    DefaultIntegration,
    IntegrationBuilder,
    RouterT,
)
from common_constructs.core.api.operations import Operation, check_operations
{gateway_import if settings.gateway == "REST" else ""}
OperationName = {literal}

OPERATIONS: dict[str, Operation] = {{
{entries}}}

# What serves each operation: its Lambda function unless overridden.
{declared_vars}

@dataclass(frozen=True, kw_only=True)
class {cls}Integrations(
    ApiIntegrations[RouterT],
    Generic[
{params}    ],
):
    """The integration of each operation (a field per operation) and the shared router's."""

{fields}

#: Integrations of any kind, as the API's construct accepts them.
Any{cls}Integrations = {cls}Integrations[
{any_params}]


class {cls}IntegrationBuilder(
    IntegrationBuilder[{cls}Integrations[RouterT]],
    Generic[RouterT],
):
    """Builds the integration of every operation: a Lambda function unless overridden."""

    def with_overrides(
        self,
        overrides: None = None,
        /,
        *,
{keywords}    ) -> IntegrationBuilder[
        {cls}Integrations[
{overridden}        ]
    ]:
        """Replace the integration of the operations named; each keeps its override's type.

        Give every override in this one call, as keyword arguments: ``get_item=RestOverride(
        integration=...)`` (``HttpOverride`` for an HTTP API), or a subclass carrying more.
        """
        if overrides is not None:
            raise TypeError(
                "Give overrides as keyword arguments, one per operation: "
                "with_overrides(get_item=RestOverride(integration=...)), not a mapping."
            )
        return self._with_overrides(
            {{
{given}            }}
        )
{construct_class(api_name, module, settings)}'''


def _if(condition: bool, line: str) -> str:
    """``line`` with its line break when ``condition`` holds, else nothing."""
    return f"{line}\n" if condition else ""


def _base(settings: ConstructSettings) -> str:
    """The core construct the API's construct extends."""
    return "RestApi" if settings.gateway == "REST" else "HttpApi"


#: The Lambda authorizer's settings, for an API with ``auth`` Custom.
AUTHORIZER_PARAMETERS = """\
        jwt_issuer: str | None = None,
        jwt_audience: Sequence[str] = (),
        jwks_url: str | None = None,
"""
AUTHORIZER_DOCSTRING = """\
        \"\"\"The API and its Lambda authorizer, which accepts JWTs ``jwt_issuer`` signed for one of
        ``jwt_audience`` (its key set at ``jwks_url``, by default the issuer's well-known
        address), and refuses every request until both are set.\"\"\"
"""
AUTHORIZER_ARGUMENT = """\
            custom_authorizer=CustomAuthorizer(
                bundle=bundle, issuer=jwt_issuer, audience=jwt_audience, jwks_url=jwks_url
            ),
"""


def construct_class(api_name: str, module: str, settings: ConstructSettings) -> str:
    """The API's construct: its gateway, auth and integration pattern, from its settings."""
    cls = api_class(api_name)
    rest = settings.gateway == "REST"
    custom = settings.auth == "Custom"
    router = "DefaultIntegration" if settings.integration_pattern == "shared" else "None"
    base = _base(settings)
    summary = f"The {api_name} API on API Gateway ({settings.gateway} API, auth: {settings.auth})."
    pattern = settings.integration_pattern
    return f'''

#: What the API's integrations are; by default, those ``default_integrations`` builds.
IntegrationsT = TypeVar(
    "IntegrationsT",
    bound=Any{cls}Integrations,
    default={cls}Integrations[{router}],
)


class {cls}({base}[IntegrationsT]):
{_line(f'    """{summary}"""')}
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        integrations: IntegrationsT,
        user_pool: cognito.IUserPool | None = None,
        user_pool_client: cognito.IUserPoolClient | None = None,
{AUTHORIZER_PARAMETERS if custom else ""}\
        **options: Unpack[{base}Options],
    ) -> None:
{AUTHORIZER_DOCSTRING if custom else ""}\
        # The API's code, found from its settings (`[tool.api]` in its pyproject.toml).
        bundle = ServiceBundle.of({json.dumps(api_name)})
        check_operations(
            {json.dumps(api_name)},
            {json.dumps(module)},
            OPERATIONS,
            bundle.service_root,
        )
        super().__init__(
            scope,
            construct_id,
            api_name={json.dumps(api_name)},
            operations=OPERATIONS,
            integrations=integrations,
            auth="{settings.auth}",
            user_pool=user_pool,
{AUTHORIZER_ARGUMENT if custom else ""}\
{_if(not rest, "            user_pool_client=user_pool_client,")}\
            **options,
        )
{_if(rest, "        del user_pool_client  # a REST API authorizes with the user pool alone")}
    @staticmethod
    def default_integrations(
        scope: Construct,
    ) -> {cls}IntegrationBuilder[{router}]:
{_line(f'        """Lambda integrations of every operation ({pattern} pattern), to build."""')}\
        return {cls}IntegrationBuilder[{router}](
            scope,
            "{cls}Integrations",
            operations=OPERATIONS,
            pattern="{pattern}",
            bundle=ServiceBundle.of({json.dumps(api_name)}),
            integrate=lambda_integration,
            assemble={cls}Integrations,
        )
'''
