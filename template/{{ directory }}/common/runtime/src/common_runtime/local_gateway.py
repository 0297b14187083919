"""What API Gateway does in front of an API, for ``poe serve``: its auth and request context.

On AWS, API Gateway authenticates each request before the function sees it and Lambda Web
Adapter forwards the event's ``requestContext`` in the ``x-amzn-request-context`` header, where
``Caller`` reads it. Served locally, :class:`LocalGateway` (ASGI, around the app) does the same:

- ``IAM``: recomputes the request's Signature Version 4 (service ``execute-api``) with botocore's
  signer and the local AWS credential chain, the credentials the typed client signs with.
  Unsigned requests get 403 ``Missing Authentication Token`` (REST; ``Forbidden`` for HTTP
  APIs), others whose key, date, scope or signature do not match get 403. The principal is the
  local identity, from STS when reachable, else a stated local identity
  (``LOCAL_GATEWAY_PRINCIPAL``).
- ``Cognito``: verifies the bearer token with PyJWT against the user pool's published keys
  (JWKS, cached): signature (RS256), issuer, expiry, ``token_use`` (``id`` or ``access``) and
  the app client (``aud`` of an ID token, ``client_id`` of an access token). The pool and its
  clients come from ``COGNITO_USER_POOL_ID`` and ``COGNITO_CLIENT_ID`` (the infrastructure's
  outputs); ``COGNITO_ISSUER`` overrides the issuer (another endpoint, a test's key server).
  Refused tokens get API Gateway's 401 ``Unauthorized``.
- ``Custom``: calls the API's Lambda authorizer (:mod:`common_runtime.authorizer`, configured
  by the same ``JWT_ISSUER``, ``JWT_AUDIENCE`` and ``JWKS_URL`` as the deployed function) with
  the event API Gateway would send (REST: ``TOKEN``; HTTP: a payload 2.0 ``REQUEST``) and
  answers as API Gateway does: 401 when the REST authorizer refuses or no token is sent, 403
  when an HTTP API authorizer refuses or a policy does not allow the method. Unlike API
  Gateway, it does not cache the authorizer's answers.
- ``None``: every request passes.

It forwards the request context in the API's payload shape (REST 1.0 or HTTP 2.0) and drops any
``x-amzn-request-context`` a client sent. ``--no-auth`` (``LOCAL_GATEWAY=no-auth``) turns the
checks off; every request line then says so.
"""

from __future__ import annotations

import fnmatch
import hmac
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common_runtime.caller import REQUEST_CONTEXT_HEADER, Auth

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from common_runtime.authorizer import Authorizer

#: The API's payload shape: REST APIs (1.0) or HTTP APIs (2.0).
ApiShape = Literal["REST", "HTTP"]

#: API Gateway's payload limit: larger bodies get 413 while being read.
MAX_BODY_BYTES = 10 * 1024 * 1024

#: How far a signature's date may be from now, as AWS allows.
MAX_CLOCK_SKEW_SECONDS = 5 * 60

#: The identity reported when STS cannot say who the local credentials are.
DEFAULT_LOCAL_PRINCIPAL = "arn:aws:iam::000000000000:user/local-developer"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."


class RefusedError(Exception):
    """A request the gateway answers itself, as API Gateway would."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Identity:
    """What the authenticator learned: the context's ``identity`` fields and ``authorizer``."""

    principal: str | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None


@dataclass
class HttpRequest:
    """The parts of a request the authenticators look at, its whole body read."""

    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), if any."""
        return next((v for n, v in self.headers if n == name), None)


class IamAuthenticator:
    """Checks SigV4 signatures (``execute-api``) against the local AWS credentials."""

    def __init__(self, shape: ApiShape, credentials: Credentials | None = None) -> None:
        from botocore.session import get_session

        self.shape = shape
        self._session = get_session()
        self._credentials = credentials or self._session.get_credentials()
        # The region the client signs for: botocore's (AWS_DEFAULT_REGION, the profile's), or
        # Lambda's variable, which botocore does not read.
        region = self._session.get_config_variable("region") or os.environ.get("AWS_REGION")
        self.region: str | None = str(region) if region else None
        self._identity: tuple[str, str, str] | None = None

    @property
    def access_key(self) -> str | None:
        """The access key the local credentials sign with (``None``: no credentials)."""
        if self._credentials is None:
            return None
        return str(self._credentials.get_frozen_credentials().access_key)

    def local_identity(self) -> tuple[str, str, str]:
        """(ARN, account, user id) of the local credentials: STS's answer, asked once, else
        ``LOCAL_GATEWAY_PRINCIPAL`` (default :data:`DEFAULT_LOCAL_PRINCIPAL`)."""
        if self._identity is None:
            self._identity = self._ask_sts() or _stated_identity()
        return self._identity

    def _ask_sts(self) -> tuple[str, str, str] | None:
        if self._credentials is None:
            return None
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        frozen = self._credentials.get_frozen_credentials()
        try:
            client = self._session.create_client(
                "sts",
                region_name=self.region or "us-east-1",
                aws_access_key_id=frozen.access_key,
                aws_secret_access_key=frozen.secret_key,
                aws_session_token=frozen.token,
                config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1}),
            )
            answer = cast("dict[str, str]", client.get_caller_identity())  # type: ignore[attr-defined]
        except (BotoCoreError, ClientError, OSError) as error:
            print(f"local gateway: STS unreachable ({error})", file=sys.stderr, flush=True)
            return None
        return answer["Arn"], answer["Account"], answer["UserId"]

    def authenticate(self, request: HttpRequest) -> Identity:
        """The caller of a correctly signed ``request``; :class:`RefusedError` otherwise."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        authorization = request.header("authorization")
        if not authorization:
            # API Gateway's answers to a request that carries no signature at all.
            message = "Missing Authentication Token" if self.shape == "REST" else "Forbidden"
            raise RefusedError(403, message)
        match = _AUTHORIZATION.match(authorization.strip())
        if match is None:
            raise RefusedError(
                403, "Invalid authorization header: not an AWS4-HMAC-SHA256 signature"
            )
        access_key, date, region, service, terminal = [*match["credential"].split("/"), ""][:5]
        amz_date = request.header("x-amz-date") or ""
        if service != "execute-api" or terminal != "aws4_request":
            raise RefusedError(
                403, "Credential should be scoped to correct service: 'execute-api'."
            )
        if self.region and region != self.region:
            raise RefusedError(
                403, f"Credential should be scoped to a valid region, not '{region}'."
            )
        if not amz_date.startswith(date):
            raise RefusedError(
                403, "Date in Credential scope does not match YYYYMMDD from ISO-8601."
            )
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise RefusedError(403, "Missing or malformed X-Amz-Date header") from None
        if abs(time.time() - signed_at.timestamp()) > MAX_CLOCK_SKEW_SECONDS:
            raise RefusedError(403, f"Signature expired: {amz_date} is not within 5 minutes of now")
        if self._credentials is None:
            raise RefusedError(403, _INVALID_TOKEN)
        credentials = self._credentials.get_frozen_credentials()
        if not hmac.compare_digest(access_key, str(credentials.access_key)):
            raise RefusedError(403, _INVALID_TOKEN)
        if credentials.token and request.header("x-amz-security-token") != credentials.token:
            raise RefusedError(403, _INVALID_TOKEN)
        signed_names = match["signed"].split(";")
        if "host" not in signed_names:
            raise RefusedError(403, "'Host' must be a signed header")
        # Recompute the signature over exactly the headers the client says it signed.
        headers = {name: self._joined(request, name) for name in signed_names}
        url = f"http://{request.header('host') or 'localhost'}{request.raw_path}"
        if request.query:
            url = f"{url}?{request.query}"
        aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
        aws_request.context["timestamp"] = amz_date
        signer = SigV4Auth(credentials, service, region)
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if not hmac.compare_digest(expected, match["signature"]):
            raise RefusedError(403, _SIGNATURE_MISMATCH)
        arn, account, user_id = self.local_identity()
        return Identity(
            principal=arn,
            identity={
                "accessKey": access_key,
                "accountId": account,
                "caller": user_id,
                "user": user_id,
                "userArn": arn,
            },
            authorizer=self._http_authorizer(access_key, arn, account, user_id),
        )

    def _http_authorizer(
        self, access_key: str, arn: str, account: str, user_id: str
    ) -> dict[str, Any] | None:
        """HTTP APIs also give the IAM caller as ``authorizer.iam``."""
        if self.shape != "HTTP":
            return None
        iam = {
            "accessKey": access_key,
            "accountId": account,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": arn,
            "userId": user_id,
        }
        return {"iam": iam}

    @staticmethod
    def _joined(request: HttpRequest, name: str) -> str:
        values = [v for n, v in request.headers if n == name]
        if not values:
            raise RefusedError(403, f"Signed header '{name}' is missing from the request")
        return ",".join(values)


def _stated_identity() -> tuple[str, str, str]:
    arn = os.environ.get("LOCAL_GATEWAY_PRINCIPAL") or DEFAULT_LOCAL_PRINCIPAL
    parts = arn.split(":")
    account = parts[4] if len(parts) > 4 and parts[4] else "000000000000"
    return arn, account, arn.rsplit("/", 1)[-1]


class CognitoAuthenticator:
    """Verifies tokens of a Cognito user pool against its published keys (JWKS)."""

    def __init__(self, shape: ApiShape, *, issuer: str, client_ids: frozenset[str]) -> None:
        import jwt

        self.shape = shape
        self.issuer = issuer.rstrip("/")
        self.client_ids = client_ids
        # PyJWKClient caches the key set and fetches it again for a key id it does not know.
        self._keys = jwt.PyJWKClient(
            f"{self.issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600, timeout=10
        )

    @classmethod
    def from_environment(cls, shape: ApiShape) -> CognitoAuthenticator:
        """The user pool of ``COGNITO_USER_POOL_ID`` and clients of ``COGNITO_CLIENT_ID``."""
        pool = os.environ.get("COGNITO_USER_POOL_ID", "").strip()
        clients = frozenset(
            c.strip() for c in os.environ.get("COGNITO_CLIENT_ID", "").split(",") if c.strip()
        )
        issuer = os.environ.get("COGNITO_ISSUER", "").strip()
        if not issuer and "_" in pool:
            issuer = f"https://cognito-idp.{pool.split('_', 1)[0]}.amazonaws.com/{pool}"
        if not issuer or not clients:
            raise SystemExit(
                "local gateway: a Cognito API needs COGNITO_USER_POOL_ID (or COGNITO_ISSUER) and "
                "COGNITO_CLIENT_ID: the user pool id and app client id the deployed stack "
                "outputs. Or serve without auth: poe serve <api> --no-auth"
            )
        return cls(shape, issuer=issuer, client_ids=clients)

    def _refused(self, reason: str) -> RefusedError:
        headers = {}
        if self.shape == "HTTP":
            headers["www-authenticate"] = (
                f'Bearer scope="" error="invalid_token" error_description="{reason}"'
            )
        return RefusedError(401, "Unauthorized", headers)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid ``token``; :class:`RefusedError` (401) otherwise. Blocking: the
        first token (or an unknown key id) fetches the key set."""
        import jwt

        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise self._refused(_reason(error)) from None
        token_use = claims.get("token_use")
        if token_use == "id":
            audience = claims.get("aud")
            client = audience if isinstance(audience, str) else None
        elif token_use == "access":
            client = claims.get("client_id") if isinstance(claims.get("client_id"), str) else None
        else:
            raise self._refused("token_use is neither id nor access")
        if client not in self.client_ids:
            raise self._refused("the token was issued to another app client")
        return claims

    async def authenticate(self, request: HttpRequest) -> Identity:
        """The caller of a request carrying a valid token; :class:`RefusedError` otherwise."""
        header = (request.header("authorization") or "").strip()
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        if not token:
            raise self._refused("no token")
        claims = await anyio.to_thread.run_sync(self.verify, token)
        # API Gateway passes claims as strings.
        passed = {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}
        if self.shape == "HTTP":
            scope = claims.get("scope")
            scopes = scope.split() if isinstance(scope, str) else None
            authorizer: dict[str, Any] = {"jwt": {"claims": passed, "scopes": scopes}}
        else:
            authorizer = {"claims": passed}
        return Identity(principal=str(claims["sub"]), authorizer=authorizer)


class CustomAuthenticator:
    """Runs the API's Lambda authorizer on the event API Gateway would send it."""

    def __init__(self, shape: ApiShape, authorizer: Authorizer | None = None) -> None:
        from common_runtime.authorizer import Authorizer as Verifier
        from common_runtime.authorizer import AuthorizerConfig

        self.shape = shape
        self.authorizer = authorizer or Verifier(AuthorizerConfig.from_environment())

    def event(self, request: HttpRequest, account: str, region: str) -> dict[str, Any]:
        """The authorizer's event: REST ``TOKEN``, or HTTP API payload 2.0 ``REQUEST``."""
        if self.shape == "REST":
            return {
                "type": "TOKEN",
                "authorizationToken": request.header("authorization") or "",
                "methodArn": self.method_arn(request, account, region),
            }
        headers: dict[str, str] = {}
        for name, value in request.headers:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": self.method_arn(request, account, region),
            "identitySource": [request.header("authorization") or ""],
            "routeKey": "$default",
            "rawPath": request.raw_path,
            "rawQueryString": request.query,
            "headers": headers,
            "requestContext": {
                "accountId": account,
                "apiId": "local",
                "http": {
                    "method": request.method,
                    "path": request.raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": request.header("user-agent") or "",
                },
                "routeKey": "$default",
                "stage": "$default",
            },
        }

    def method_arn(self, request: HttpRequest, account: str, region: str) -> str:
        """The request's ARN as API Gateway gives it to the authorizer."""
        stage = "local" if self.shape == "REST" else "$default"
        path = f"{request.method}{request.raw_path}"
        return f"arn:aws:execute-api:{region}:{account}:local/{stage}/{path}"

    def authenticate(self, request: HttpRequest) -> Identity:
        """The authorizer's principal and context; :class:`RefusedError` as API Gateway would
        answer a refusal. Blocking: the first token fetches the issuer's key set."""
        from common_runtime.authorizer import UnauthorizedError

        if not request.header("authorization"):
            # API Gateway refuses a request without the identity source itself.
            raise RefusedError(401, "Unauthorized")
        account, region = "000000000000", os.environ.get("AWS_REGION") or "us-east-1"
        event = self.event(request, account, region)
        try:
            answer = self.authorizer.handle(event)
        except UnauthorizedError:
            raise RefusedError(401, "Unauthorized") from None
        if self.shape == "HTTP":
            if answer.get("isAuthorized") is not True:
                raise RefusedError(403, "Forbidden")
            context = dict(answer.get("context") or {})
            principal = context.get("principalId") or context.get("sub")
            return Identity(principal=principal, authorizer={"lambda": context})
        if not _allows(answer.get("policyDocument"), str(event["methodArn"])):
            raise RefusedError(
                403, "User is not authorized to access this resource with an explicit deny"
            )
        principal = str(answer["principalId"])
        return Identity(
            principal=principal,
            authorizer={**(answer.get("context") or {}), "principalId": principal},
        )


def _allows(policy: object, method_arn: str) -> bool:
    """Whether ``policy`` allows invoking ``method_arn`` and denies nothing of it."""
    if not isinstance(policy, dict):
        return False
    allowed = False
    for statement in policy.get("Statement") or []:
        resources = statement.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources or []
        if not any(fnmatch.fnmatchcase(method_arn, str(r)) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _reason(error: Exception) -> str:
    import jwt

    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(error, jwt.InvalidIssuerError):
        return "the token has an invalid issuer"
    return "the token is not valid"


def request_context(
    shape: ApiShape, request: HttpRequest, identity: Identity, request_id: str
) -> dict[str, Any]:
    """The ``requestContext`` API Gateway would put in the event, in ``shape``'s format."""
    now = time.time()
    host = request.header("host") or "localhost"
    user_agent = request.header("user-agent")
    account = identity.identity.get("accountId") or "000000000000"
    context: dict[str, Any]
    if shape == "HTTP":
        context = {
            "accountId": account,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        }
        if identity.authorizer is not None:
            context["authorizer"] = identity.authorizer
        return context
    empty_identity = dict.fromkeys(
        ("accessKey", "accountId", "caller", "cognitoAuthenticationProvider",
         "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
         "principalOrgId", "user", "userArn")
    )  # fmt: skip
    context = {
        "accountId": account,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "extendedRequestId": request_id,
        "httpMethod": request.method,
        "identity": {
            **empty_identity,
            **identity.identity,
            "sourceIp": request.source_ip,
            "userAgent": user_agent,
        },
        "path": request.raw_path,
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now * 1000),
        "resourcePath": "/{proxy+}",
        "stage": "local",
    }
    if identity.authorizer is not None:
        context["authorizer"] = identity.authorizer
    return context


class LocalGateway:
    """ASGI: the API's auth in front of ``app``, then the request context the adapter forwards.

    ``auth`` is the API's (``IAM``, ``Cognito``, ``Custom``, ``None``); ``enabled=False``
    (``--no-auth``) passes every request without a context, and says so on each request line.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Auth,
        shape: ApiShape,
        enabled: bool = True,
        iam: IamAuthenticator | None = None,
        cognito: CognitoAuthenticator | None = None,
        custom: CustomAuthenticator | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.shape = shape
        self.enabled = enabled
        self.iam = iam
        self.cognito = cognito
        self.custom = custom
        if enabled and auth == "IAM" and iam is None:
            self.iam = IamAuthenticator(shape)
        if enabled and auth == "Cognito" and cognito is None:
            self.cognito = CognitoAuthenticator.from_environment(shape)
        if enabled and auth == "Custom" and custom is None:
            self.custom = CustomAuthenticator(shape)

    def describe(self) -> str:
        """What the gateway checks, for the start-up line."""
        if not self.enabled:
            return f"auth OFF (--no-auth): {self.auth} is not checked, routes see no caller"
        if self.auth == "IAM" and self.iam is not None:
            key = self.iam.access_key
            keys = f"access key {key[:4]}...{key[-4:]}" if key else "NO local AWS credentials"
            region = self.iam.region or "any region"
            return f"IAM: SigV4 (execute-api, {region}) against the local credentials ({keys})"
        if self.auth == "Cognito" and self.cognito is not None:
            clients = ", ".join(sorted(self.cognito.client_ids))
            return f"Cognito: tokens of {self.cognito.issuer} for app client {clients}"
        if self.auth == "Custom" and self.custom is not None:
            config = self.custom.authorizer.config
            if config.issuer is None or not config.audiences:
                return "Custom: the authorizer refuses everything (set JWT_ISSUER, JWT_AUDIENCE)"
            audiences = ", ".join(config.audiences)
            return f"Custom: the Lambda authorizer, tokens of {config.issuer} for {audiences}"
        return "None: every request passes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = await self._read(scope, receive, send)
        if request is None:
            return
        identity: Identity | None = Identity()
        refused: RefusedError | None = None
        # API Gateway answers CORS preflight requests without authenticating them.
        preflight = request.method == "OPTIONS" and bool(
            request.header("origin") and request.header("access-control-request-method")
        )
        if self.enabled and not preflight:
            try:
                identity = await self._authenticate(request)
            except RefusedError as error:
                refused = _with_cors(error, request.header("origin"))
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        if refused is not None:
            await _respond(send_status, refused)
        else:
            forwarded = self._forwarded(scope, request, identity)
            await self.app(forwarded, _replay(request.body, receive), send_status)
        self._log(request, status, refused, identity, time.perf_counter() - started)

    async def _authenticate(self, request: HttpRequest) -> Identity | None:
        if self.auth == "IAM" and self.iam is not None:
            return await anyio.to_thread.run_sync(self.iam.authenticate, request)
        if self.auth == "Cognito" and self.cognito is not None:
            return await self.cognito.authenticate(request)
        if self.auth == "Custom" and self.custom is not None:
            return await anyio.to_thread.run_sync(self.custom.authenticate, request)
        return Identity()

    def _forwarded(self, scope: Scope, request: HttpRequest, identity: Identity | None) -> Scope:
        headers = [
            (n, v) for n, v in scope["headers"] if n.lower() != REQUEST_CONTEXT_HEADER.encode()
        ]
        if self.enabled and identity is not None:
            context = request_context(self.shape, request, identity, str(uuid.uuid4()))
            headers.append((REQUEST_CONTEXT_HEADER.encode(), json.dumps(context).encode()))
        return {**scope, "headers": headers}

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> HttpRequest | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await _respond(send, RefusedError(413, "Request Entity Too Large"))
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        client = scope.get("client")
        return HttpRequest(
            method=scope["method"],
            raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=[
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in scope["headers"]
            ],
            body=b"".join(chunks),
            source_ip=str(client[0]) if client else "127.0.0.1",
        )

    def _log(
        self,
        request: HttpRequest,
        status: int,
        refused: RefusedError | None,
        identity: Identity | None,
        seconds: float,
    ) -> None:
        if not self.enabled:
            who = "auth OFF (--no-auth)"
        elif refused is not None:
            who = f"{self.auth} refused: {refused.message}"
        else:
            who = f"{self.auth} {identity.principal if identity and identity.principal else '-'}"
        target = request.raw_path + (f"?{request.query}" if request.query else "")
        print(
            f"local gateway [{who}] {request.method} {target} {status} {seconds * 1000:.0f} ms",
            file=sys.stderr,
            flush=True,
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what the server sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_cors(refused: RefusedError, origin: str | None) -> RefusedError:
    """``refused`` with the CORS header the app would add, so a browser sees the refusal (the
    infrastructure gives API Gateway's own error responses the same header)."""
    allowed = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "*").split(",") if o.strip()]
    if origin and (not allowed or "*" in allowed or origin in allowed):
        refused.headers["access-control-allow-origin"] = origin
    return refused


async def _respond(send: Send, refused: RefusedError) -> None:
    body = json.dumps({"message": refused.message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((n.encode(), v.encode()) for n, v in refused.headers.items()),
    ]
    if refused.status == 403 and refused.message == "Missing Authentication Token":
        headers.append((b"x-amzn-errortype", b"MissingAuthenticationTokenException"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _import_app(target: str) -> ASGIApp:
    module, _, attribute = target.partition(":")
    return cast("ASGIApp", getattr(import_module(module), attribute or "app"))


def create_app() -> LocalGateway:
    """The gateway uvicorn serves (``--factory``), configured by ``run.sh``'s environment:
    ``LOCAL_GATEWAY_APP`` (``module:app``), ``LOCAL_GATEWAY_AUTH``, ``LOCAL_GATEWAY_API``
    (``REST`` or ``HTTP``) and ``LOCAL_GATEWAY`` (``no-auth`` turns the checks off)."""
    auth = cast("Auth", os.environ.get("LOCAL_GATEWAY_AUTH", "None"))
    shape = cast("ApiShape", os.environ.get("LOCAL_GATEWAY_API", "REST"))
    enabled = os.environ.get("LOCAL_GATEWAY", "on").strip().lower() != "no-auth"
    gateway = LocalGateway(
        _import_app(os.environ["LOCAL_GATEWAY_APP"]), auth=auth, shape=shape, enabled=enabled
    )
    print(f"local gateway ({shape} API): {gateway.describe()}", file=sys.stderr, flush=True)
    return gateway


__all__ = ["LocalGateway", "create_app", "request_context"]
