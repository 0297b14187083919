"""AWS Signature Version 4 for API Gateway (``execute-api``): the API authorizes with IAM."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from botocore.session import Session

#: ``https://<api id>.execute-api.<region>.amazonaws.com``: the region is in the host name.
_EXECUTE_API_HOST = re.compile(r"^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
#: Unreserved characters of RFC 3986, which SigV4's canonical query string leaves as they are.
_UNRESERVED = "-_.~"


class SigV4Auth(httpx.Auth):
    """Signs each request with SigV4 (botocore's signer), for IAM-authorized API Gateway APIs.

    Credentials come from the default AWS credential chain (environment, profile, SSO, container
    or instance role) unless ``credentials`` are given; they are refreshed as they expire. The
    region is read from an ``execute-api`` URL, else from the AWS configuration, unless given
    (a custom domain name needs it). The signature covers the method, path, query, body, host
    and the ``content-type`` and ``x-*`` headers.
    """

    requires_request_body = True

    def __init__(
        self,
        *,
        region: str | None = None,
        credentials: Credentials | None = None,
        service: str = "execute-api",
    ) -> None:
        self.region = region
        self.service = service
        self._credentials = credentials
        self._session: Session | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the ``Authorization``, ``X-Amz-Date`` (and session token) headers."""
        # botocore is imported on the first request only: importing the client stays fast.
        from botocore.auth import SigV4Auth as Signer
        from botocore.awsrequest import AWSRequest

        # API Gateway checks the signature over the query as RFC 3986 encodes it (%20, not +):
        # send it that way, so what is signed is what arrives.
        query = "&".join(
            f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}"
            for name, value in request.url.params.multi_items()
        )
        request.url = request.url.copy_with(query=query.encode() if query else None)
        signed = {
            name: value
            for name, value in request.headers.items()
            if name in {"host", "content-type"} or name.startswith("x-")
        }
        aws_request = AWSRequest(
            method=request.method, url=str(request.url), data=request.content, headers=signed
        )
        Signer(self._frozen_credentials(), self.service, self._region_of(request.url)).add_auth(
            aws_request
        )
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            value = aws_request.headers.get(name)
            if value is not None:
                request.headers[name] = value
        yield request

    def _botocore_session(self) -> Session:
        if self._session is None:
            from botocore.session import get_session

            self._session = get_session()
        return self._session

    def _frozen_credentials(self) -> Credentials:
        credentials = self._credentials or self._botocore_session().get_credentials()
        if credentials is None:
            raise RuntimeError(
                "No AWS credentials found: configure the default credential chain "
                "(AWS_PROFILE, environment variables, SSO, an instance or task role)."
            )
        frozen = credentials.get_frozen_credentials()
        # botocore's signer takes any object with these attributes.
        return frozen  # type: ignore[return-value]

    def _region_of(self, url: httpx.URL) -> str:
        if self.region:
            return self.region
        match = _EXECUTE_API_HOST.match(url.host)
        if match:
            return match.group(1)
        configured = self._botocore_session().get_config_variable("region")
        if not configured:
            raise RuntimeError(
                f"No AWS region for {url.host}: pass SigV4Auth(region=...) or set AWS_REGION."
            )
        return str(configured)
