"""The repository's client runtime: what every API's generated client calls.

A generated client (``<api-name>-client``) holds only its models and one method per operation;
this package sends its requests (``transport``), raises ``ApiError`` for error statuses
(``errors``), authenticates (``auth``: SigV4 for IAM, bearer tokens for Cognito or an
authorizer of the repository's own, none), reads JSON Lines streams line by line, and finds a
deployed API's URL (``urls``).
"""

from common_client.auth import AUTH_SCHEMES, BearerAuth, PasswordTokens, default_auth
from common_client.errors import CORRELATION_ID_HEADER, ApiError
from common_client.sigv4 import SigV4Auth
from common_client.transport import AsyncBaseClient, BaseClient, Operation
from common_client.urls import url_from_cdk_outputs, url_from_terraform

__all__ = [
    "AUTH_SCHEMES",
    "CORRELATION_ID_HEADER",
    "ApiError",
    "AsyncBaseClient",
    "BaseClient",
    "BearerAuth",
    "Operation",
    "PasswordTokens",
    "SigV4Auth",
    "default_auth",
    "url_from_cdk_outputs",
    "url_from_terraform",
]
