"""The stack holding every API of the repository."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from aws_cdk import Stack
from constructs import Construct

import infra.apis
from common_constructs.core.transaction_search import TransactionSearch


class ApisStack(Stack):
    """Adds each API found in ``infra.apis`` (a module per API with an ``add(stack)``).

    ``transaction_search``: turn CloudWatch Transaction Search on for the account and Region
    (off by default: an account-wide setting, for one stack of the account to own).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transaction_search: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if transaction_search:
            TransactionSearch(self, "TransactionSearch")
        for module in sorted(pkgutil.iter_modules(infra.apis.__path__), key=lambda m: m.name):
            importlib.import_module(f"infra.apis.{module.name}").add(self)
