"""How API Gateway serves each operation: Lambda functions by default, or the user's overrides.

An API's generated ``<module>_operations.py`` declares its integrations class (a field per
operation, typed by what serves it) and its builder, on top of the generic parts here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, Self, Unpack

from aws_cdk import Names, NestedStack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from typing_extensions import TypeVar

from common_constructs.core.api.bundle import ServiceBundle, lambda_web_adapter_layer
from common_constructs.core.api.functions import FunctionOptions, create_function
from common_constructs.core.api.limits import NESTED_FUNCTIONS_FROM, function_stack_of
from common_constructs.core.api.operations import Operation

Pattern = Literal["isolated", "shared"]
#: The shared router's integration (the shared pattern), or ``None`` (isolated, explicit).
RouterT = TypeVar("RouterT", default=None)
ResultT = TypeVar("ResultT")
#: The default of every operation's override: the operation keeps its default integration.
UNCHANGED: Any = type("Unchanged", (), {"__repr__": lambda self: "UNCHANGED"})()


@dataclass(frozen=True, kw_only=True)
class DefaultIntegration:
    """An operation served by one of the API's Lambda functions (``handler``).

    ``integration`` is the API Gateway integration that invokes the function's published
    version (REST: ``aws_apigateway.LambdaIntegration``; HTTP:
    ``aws_apigatewayv2_integrations.HttpLambdaIntegration``).
    """

    handler: lambda_.Function
    integration: apigw.Integration | apigwv2.HttpRouteIntegration


@dataclass(frozen=True, kw_only=True)
class ApiIntegrations(Generic[RouterT]):
    """The integration of every operation of an API; a generated subclass names the fields.

    ``router`` is the shared router's integration when the API uses the shared pattern.
    """

    # None is the value for isolated and explicit integrations, whose RouterT is None.
    router: RouterT = None  # type: ignore[assignment]

    def by_operation(self) -> dict[str, object]:
        """The integration of each operation, keyed by operation name."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name != "router"
        }


class IntegrationBuilder(Generic[ResultT]):
    """Builds the integrations of an API's operations: Lambda functions unless overridden.

    ``isolated`` creates one function per operation (in nested stacks of the API past
    ``NESTED_FUNCTIONS_FROM`` functions); ``shared`` one router function that every operation
    not overridden uses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        operations: Mapping[str, Operation],
        pattern: Pattern,
        bundle: ServiceBundle,
        integrate: Callable[[lambda_.IFunction], apigw.Integration | apigwv2.HttpRouteIntegration],
        assemble: Callable[..., ResultT],
    ) -> None:
        self._scope = scope
        self._construct_id = construct_id
        self._operations = operations
        self._pattern = pattern
        self._bundle = bundle
        self._integrate = integrate
        self._assemble = assemble
        self._default_options: FunctionOptions = {}
        self._operation_options: dict[str, FunctionOptions] = {}
        self._overrides: dict[str, object] = {}

    def with_default_options(self, **options: Unpack[FunctionOptions]) -> Self:
        """Options of every function, e.g. ``vpc=vpc`` (``aws_lambda.Function`` arguments)."""
        self._default_options.update(options)
        return self

    def with_operation_options(self, operation: str, **options: Unpack[FunctionOptions]) -> Self:
        """Options of one operation's function (isolated pattern), over the default options."""
        if operation not in self._operations:
            known = ", ".join(sorted(self._operations))
            raise ValueError(f"No such operation: {operation!r} (one of {known})")
        self._operation_options.setdefault(operation, {}).update(options)
        return self

    def _with_overrides(self, overrides: Mapping[str, object]) -> IntegrationBuilder[Any]:
        """Record the overrides given (``UNCHANGED`` keeps the default integration)."""
        self._overrides.update({k: v for k, v in overrides.items() if v is not UNCHANGED})
        return self

    def build(self) -> ResultT:
        """Create the functions and integrations."""
        scope = Construct(self._scope, self._construct_id)
        layer = lambda_web_adapter_layer(scope, "LambdaWebAdapter", self._bundle.architecture)
        router: DefaultIntegration | None = None
        if self._pattern == "shared":
            if not set(self._operations) - set(self._overrides):
                raise ValueError(
                    "Every operation is overridden, so the shared router would serve none: "
                    "pass explicit integrations to the API instead of default_integrations()."
                )
            router = self._function(scope, "Router", layer, self._default_options)
        integrations: dict[str, object] = {}
        functions = sum(1 for name in self._operations if name not in self._overrides)
        nested = self._pattern == "isolated" and functions > NESTED_FUNCTIONS_FROM
        stacks: dict[int, Construct] = {}
        for name in self._operations:
            if name in self._overrides:
                integrations[name] = self._overrides[name]
            elif router is not None:
                integrations[name] = router
            else:
                options: FunctionOptions = {
                    **self._default_options,
                    **self._operation_options.get(name, {}),
                }
                function_scope = scope
                if nested:
                    # The API's stack keeps to CloudFormation's 500 resources: the functions
                    # of a large API go to nested stacks, each operation's by its name's hash.
                    index = function_stack_of(name)
                    if index not in stacks:
                        stacks[index] = NestedStack(scope, f"Functions{index}")
                    function_scope = stacks[index]
                integrations[name] = self._function(
                    function_scope, _construct_id(name), layer, options
                )
        return self._assemble(**integrations, router=router)

    def _function(
        self,
        scope: Construct,
        construct_id: str,
        layer: lambda_.ILayerVersion,
        options: FunctionOptions,
    ) -> DefaultIntegration:
        """A function of the API and the integration that invokes its published version."""
        handler = create_function(scope, construct_id, self._bundle, layer, **options)
        return DefaultIntegration(
            handler=handler, integration=self._integrate(handler.current_version)
        )


def allow_api_gateway(api: Construct, function: lambda_.IFunction, source_arn: str) -> None:
    """Let API Gateway invoke ``function`` for ``api`` (``source_arn``: its execute-api ARN).

    The permission sits beside the function, in the function's stack (a nested stack of the
    API's, for a large isolated API).
    """
    function.add_permission(
        f"Invoke{Names.unique_id(api)}",
        principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
        source_arn=source_arn,
    )


def _construct_id(operation: str) -> str:
    """``get_item`` -> ``GetItem``."""
    return "".join(part[:1].upper() + part[1:] for part in operation.split("_"))
