"""How a client authenticates: the default of each auth scheme, and bearer tokens.

An API's generated client names its scheme (``auth_scheme``); a client created without
``auth`` uses the scheme's default from :data:`AUTH_SCHEMES`:

- ``IAM``: requests signed with SigV4 from the default AWS credential chain (``SigV4Auth``);
- ``Cognito`` and ``Custom`` (a Lambda authorizer of JWTs): no default, the caller passes
  ``auth=BearerAuth(get_token)``, as a token belongs to a user;
- ``None``: no credentials.

A scheme of the repository's own is one more entry: ``AUTH_SCHEMES["Mine"] = MyAuth``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

#: A token is renewed this many seconds before it expires, so none expires in flight.
_EXPIRY_MARGIN = 60


class BearerAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>``, asking ``token()`` for it at each request.

    ``token`` is any callable returning a current token (an ID token, or an access token whose
    scopes the API accepts): :class:`PasswordTokens`, your own sign-in code, or
    ``lambda: os.environ["TOKEN"]``. Cache in it, not here: it is called for every request.
    """

    def __init__(self, token: Callable[[], str]) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the ``Authorization`` header."""
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request


class PasswordTokens:
    """ID tokens of a user, signed in with the user pool's ``USER_PASSWORD_AUTH`` flow.

    Pass it to :class:`BearerAuth`. The app client must allow that flow
    (``ALLOW_USER_PASSWORD_AUTH`` in its explicit auth flows: the generated one allows SRP only).
    Tokens are cached and renewed shortly before they expire.
    """

    def __init__(
        self,
        *,
        region: str,
        client_id: str,
        username: str,
        password: str,
        endpoint: str | None = None,
    ) -> None:
        # ``endpoint``: another Cognito endpoint of the region (FIPS, a VPC endpoint).
        self.endpoint = endpoint or f"https://cognito-idp.{region}.amazonaws.com/"
        self.client_id = client_id
        self.username = username
        self._password = password
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """A current ID token."""
        with self._lock:
            if time.monotonic() >= self._expires:
                response = httpx.post(
                    self.endpoint,
                    headers={
                        "content-type": "application/x-amz-json-1.1",
                        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
                    },
                    json={
                        "AuthFlow": "USER_PASSWORD_AUTH",
                        "ClientId": self.client_id,
                        "AuthParameters": {"USERNAME": self.username, "PASSWORD": self._password},
                    },
                    timeout=30,
                )
                response.raise_for_status()
                answer = response.json()
                if "AuthenticationResult" not in answer:
                    # A challenge (a new password, MFA) needs the user, not this helper.
                    raise RuntimeError(f"Sign-in asks for {answer.get('ChallengeName')}")
                result = answer["AuthenticationResult"]
                self._token = str(result["IdToken"])
                self._expires = time.monotonic() + int(result["ExpiresIn"]) - _EXPIRY_MARGIN
            return self._token


def _sigv4() -> httpx.Auth:
    # botocore is needed by IAM APIs' clients only: imported when one is created.
    from common_client.sigv4 import SigV4Auth

    return SigV4Auth()


def _none() -> None:
    return None


#: Each auth scheme's default ``auth`` (a factory: called for each client created).
AUTH_SCHEMES: dict[str, Callable[[], httpx.Auth | None]] = {
    "IAM": _sigv4,
    "Cognito": _none,
    "Custom": _none,
    "None": _none,
}


def default_auth(scheme: str) -> httpx.Auth | None:
    """The ``auth`` of a client of an API with this scheme, when the caller passes none.

    A token scheme not listed (an authorizer of the repository's own) has no default either.
    """
    return AUTH_SCHEMES.get(scheme, _none)()


__all__ = ["AUTH_SCHEMES", "BearerAuth", "PasswordTokens", "default_auth"]
