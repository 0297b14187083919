"""CloudFormation's quotas on a stack, checked when the app synthesizes.

An isolated API's operation costs CloudFormation resources twice: in the API's stack (its method
or route, and its path's resources) and for its function (function, published version, role,
log group, invoke permission). With more than ``NESTED_FUNCTIONS_FROM`` functions, they go to
nested stacks of the API (``FUNCTION_STACKS`` of them, each operation's chosen by a hash of its
name, so adding an operation never moves another one's function), and the API's stack keeps
only what API Gateway needs.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable

import jsii
from aws_cdk import CfnResource, Stack
from constructs import Construct, IConstruct, IValidation

#: CloudFormation's limit on the resources of one stack (nested stacks count on their own).
MAX_RESOURCES = 500
#: An isolated API with more functions than this puts them in nested stacks. Up to it, about 9
#: resources per operation (5 for its function) stay under 300 in the API's stack: room for
#: the stack's other resources, and the one stack small APIs had from the start.
NESTED_FUNCTIONS_FROM = 30
#: How many nested stacks hold the functions of such an API.
FUNCTION_STACKS = 4
#: How to serve more operations than one stack holds: fewer functions, or another API.
SHARED_WAY_OUT = (
    "serve them with the shared pattern (one router function for every operation: "
    "integration_pattern 'shared'), or move some routes to another API (its own FastAPI app)"
)
ANOTHER_API_WAY_OUT = "move some routes to another API (its own FastAPI app and stack resources)"


def function_stack_of(operation: str) -> int:
    """The nested stack (``0`` to ``FUNCTION_STACKS - 1``) of an operation's function.

    A hash of the name, not its rank: adding or removing an operation moves no other function.
    """
    return zlib.crc32(operation.encode()) % FUNCTION_STACKS


def resources_of(stack: Stack) -> int:
    """The CloudFormation resources of ``stack`` itself (a nested stack counts as one)."""

    def count(scope: IConstruct) -> int:
        total = 0
        for child in scope.node.children:
            if isinstance(child, Stack):
                continue  # a nested stack: its resources are its own
            total += isinstance(child, CfnResource) + count(child)
        return total

    return count(stack)


@jsii.implements(IValidation)
class _Validation:
    """A construct validation from a function returning its error messages."""

    def __init__(self, check: Callable[[], list[str]]) -> None:
        self._check = check

    def validate(self) -> list[str]:
        return self._check()


def check_stack_quota(
    api: Construct, api_name: str, operations: int, functions: Iterable[IConstruct]
) -> None:
    """Stop the synth with the way out when a stack of ``api`` holds too many resources.

    The API's stack and the stacks of its ``functions`` (nested stacks, for a large isolated
    API) are checked: CloudFormation would refuse them; this says which API fills them and what
    to do.
    """
    functions = list(functions)
    stacks = {s.node.path: s for s in (Stack.of(api), *(Stack.of(f) for f in functions))}
    way_out = SHARED_WAY_OUT if len(functions) > 1 else ANOTHER_API_WAY_OUT

    def check() -> list[str]:
        for stack in stacks.values():
            count = resources_of(stack)
            if count > MAX_RESOURCES:
                return [
                    f"The stack {stack.node.path} holds {count} CloudFormation resources; "
                    f"CloudFormation accepts at most {MAX_RESOURCES} per stack. The {api_name} "
                    f"API has {operations} operations: {way_out}."
                ]
        return []

    api.node.add_validation(_Validation(check))
