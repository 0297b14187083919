"""CORS settings shared by the REST and HTTP API constructs."""

from __future__ import annotations

from collections.abc import Callable

import jsii
from aws_cdk import IStableStringProducer, Lazy

#: Request headers browsers may send: SigV4, Cognito tokens, JSON bodies, correlation ids.
ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-correlation-id",
)
#: Response headers browsers may read.
EXPOSED_HEADERS = ("x-correlation-id",)
#: Every origin, until ``restrict_cors_to`` names some.
ANY_ORIGIN = "*"


@jsii.implements(IStableStringProducer)
class _Producer:
    """A value computed when the template is synthesized."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        """The value, now that every setting has been made."""
        return self._produce()


def lazy(produce: Callable[[], str]) -> str:
    """A string token whose value ``produce`` gives at synthesis.

    The allowed origins can be narrowed after the API is constructed (``restrict_cors_to``),
    so what depends on them is computed last.
    """
    return Lazy.string(_Producer(produce))


def check_origins(origins: tuple[str, ...]) -> None:
    """Refuse origins that cannot go into a header value."""
    if not origins:
        raise ValueError("Name at least one origin, such as 'https://app.example.com'.")
    for origin in origins:
        if origin != ANY_ORIGIN and ("://" not in origin or any(c in origin for c in "',\" ")):
            raise ValueError(f"{origin!r} is not an origin such as 'https://app.example.com'.")
