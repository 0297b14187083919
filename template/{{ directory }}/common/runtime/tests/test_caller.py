"""Tests of ``Caller``: the request contexts API Gateway sends, in both payload shapes.

The contexts follow the examples of API Gateway's documentation: "Lambda proxy integration
input format" (REST, payload 1.0) and "Working with AWS Lambda proxy integrations for HTTP
APIs" (payload 2.0), with the authorizer blocks IAM, Cognito and Lambda authorizers fill.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from common_runtime import CallerInfo, Service, caller_dependency
from common_runtime.caller import Auth

#: The `records` fixture: (log records, EMF documents) written so far.
Records = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]

#: REST API (payload 1.0), no authorizer: the documentation's example context.
REST_NONE: dict[str, Any] = {
    "resourceId": "123456",
    "resourcePath": "/my/path",
    "httpMethod": "GET",
    "extendedRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "requestTime": "09/Apr/2015:12:34:56 +0000",
    "path": "/my/path",
    "accountId": "123456789012",
    "protocol": "HTTP/1.1",
    "stage": "$default",
    "domainPrefix": "id",
    "requestTimeEpoch": 1428582896000,
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "identity": {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": "192.0.2.1",
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": "user-agent",
        "user": None,
    },
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "apiId": "api-id",
    "authorizer": {"claims": None, "scopes": None},
}

#: REST API, IAM: API Gateway fills the identity block with the signer's.
REST_IAM = copy.deepcopy(REST_NONE)
del REST_IAM["authorizer"]
REST_IAM["identity"].update(
    accountId="123456789012",
    caller="AROAEXAMPLEID:alice",
    accessKey="ASIAEXAMPLEKEY",
    user="AROAEXAMPLEID:alice",
    userArn="arn:aws:sts::123456789012:assumed-role/developer/alice",
)

#: REST API, Cognito user pool authorizer: the ID token's claims, as strings.
REST_COGNITO = copy.deepcopy(REST_NONE)
REST_COGNITO["authorizer"] = {
    "claims": {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "cognito:groups": "admins",
        "email_verified": "true",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
        "cognito:username": "alice",
        "aud": "7e3o2bde4ka1example",
        "token_use": "id",
        "auth_time": "1428582896",
        "exp": "Thu Apr 09 13:34:56 UTC 2015",
        "iat": "Thu Apr 09 12:34:56 UTC 2015",
        "email": "alice@example.com",
    }
}

#: REST API, Lambda authorizer: its principalId and context, and the gateway's latency.
REST_CUSTOM = copy.deepcopy(REST_NONE)
REST_CUSTOM["authorizer"] = {
    "principalId": "user|a1b2c3d4",
    "integrationLatency": 12,
    "tenant": "acme",
    "admin": "true",
}

#: HTTP API (payload 2.0), no authorizer: the documentation's example context.
HTTP_NONE: dict[str, Any] = {
    "accountId": "123456789012",
    "apiId": "api-id",
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "http": {
        "method": "POST",
        "path": "/my/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "192.0.2.1",
        "userAgent": "agent",
    },
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390,
}

#: HTTP API, IAM authorization.
HTTP_IAM = copy.deepcopy(HTTP_NONE)
HTTP_IAM["authorizer"] = {
    "iam": {
        "accessKey": "AKIAEXAMPLEKEY",
        "accountId": "123456789012",
        "callerId": "AIDAEXAMPLEID",
        "cognitoIdentity": None,
        "principalOrgId": "o-example",
        "userArn": "arn:aws:iam::123456789012:user/alice",
        "userId": "AIDAEXAMPLEID",
    }
}

#: HTTP API, JWT authorizer (a Cognito user pool's access token).
HTTP_JWT = copy.deepcopy(HTTP_NONE)
HTTP_JWT["authorizer"] = {
    "jwt": {
        "claims": {
            "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
            "client_id": "7e3o2bde4ka1example",
            "token_use": "access",
            "scope": "orders/read orders/write",
        },
        "scopes": ["orders/read", "orders/write"],
    }
}

#: HTTP API, Lambda authorizer (simple response): its context.
HTTP_LAMBDA = copy.deepcopy(HTTP_NONE)
HTTP_LAMBDA["authorizer"] = {"lambda": {"principalId": "user|a1b2c3d4", "tenant": "acme"}}


def _with_caller(route: Callable[..., Any], dependency: Callable[..., Any]) -> Callable[..., Any]:
    """``route`` taking its ``caller`` from ``dependency``, as ``init.py``'s ``Caller`` gives it
    (annotations are strings in this module, so a local alias would not resolve)."""
    route.__annotations__["caller"] = Annotated[CallerInfo, Depends(dependency)]
    return route


def _app(auth: Auth) -> FastAPI:
    """An app whose route answers with the caller it is given."""
    app = FastAPI()

    async def whoami(caller: CallerInfo) -> dict[str, Any]:
        return {
            "auth": caller.auth,
            "principal": caller.principal,
            "claims": dict(caller.claims),
            "account": caller.account,
            "access_key": caller.access_key,
            "user_id": caller.user_id,
            "source_ip": caller.source_ip,
            "scopes": list(caller.scopes),
        }

    app.get("/whoami")(_with_caller(whoami, caller_dependency(auth)))
    return app


def _whoami(auth: Auth, context: Any, **headers: str) -> tuple[int, Any]:
    with TestClient(_app(auth), raise_server_exceptions=False) as client:
        if context is not None:
            raw = context if isinstance(context, str) else json.dumps(context)
            headers["x-amzn-request-context"] = raw
        response = client.get("/whoami", headers=headers)
    return response.status_code, response.json()


def test_rest_iam_caller_is_the_signer() -> None:
    status, caller = _whoami("IAM", REST_IAM)
    assert status == 200
    assert caller == {
        "auth": "IAM",
        "principal": "arn:aws:sts::123456789012:assumed-role/developer/alice",
        "claims": {},
        "account": "123456789012",
        "access_key": "ASIAEXAMPLEKEY",
        "user_id": "AROAEXAMPLEID:alice",
        "source_ip": "192.0.2.1",
        "scopes": [],
    }


def test_http_iam_caller_is_the_signer() -> None:
    status, caller = _whoami("IAM", HTTP_IAM)
    assert status == 200
    assert caller["principal"] == "arn:aws:iam::123456789012:user/alice"
    assert (caller["account"], caller["access_key"]) == ("123456789012", "AKIAEXAMPLEKEY")
    assert (caller["user_id"], caller["source_ip"]) == ("AIDAEXAMPLEID", "192.0.2.1")
    assert caller["claims"] == {}


def test_rest_cognito_caller_is_the_token_subject_with_its_claims() -> None:
    status, caller = _whoami("Cognito", REST_COGNITO)
    assert status == 200
    assert caller["auth"] == "Cognito"
    assert caller["principal"] == "7d8ca528-4931-4254-9273-ea5ee853f271"
    assert caller["claims"]["cognito:username"] == "alice"
    assert caller["claims"]["email"] == "alice@example.com"
    assert caller["account"] is None


def test_http_jwt_caller_has_claims_and_scopes() -> None:
    status, caller = _whoami("Cognito", HTTP_JWT)
    assert status == 200
    assert caller["principal"] == "7d8ca528-4931-4254-9273-ea5ee853f271"
    assert caller["claims"]["client_id"] == "7e3o2bde4ka1example"
    assert caller["scopes"] == ["orders/read", "orders/write"]


def test_rest_lambda_authorizer_caller_is_its_principal_with_its_context() -> None:
    status, caller = _whoami("Custom", REST_CUSTOM)
    assert status == 200
    assert caller["auth"] == "Custom"
    assert caller["principal"] == "user|a1b2c3d4"
    # The gateway's own fields are not the authorizer's context.
    assert caller["claims"] == {"tenant": "acme", "admin": "true"}


def test_http_lambda_authorizer_caller_comes_from_its_context() -> None:
    status, caller = _whoami("Custom", HTTP_LAMBDA)
    assert status == 200
    assert caller["principal"] == "user|a1b2c3d4"
    assert caller["claims"] == {"principalId": "user|a1b2c3d4", "tenant": "acme"}


@pytest.mark.parametrize("context", [REST_NONE, HTTP_NONE, REST_IAM, HTTP_JWT])
def test_an_open_api_has_anonymous_callers(context: dict[str, Any]) -> None:
    status, caller = _whoami("None", context)
    assert status == 200
    assert (caller["auth"], caller["principal"], caller["claims"]) == ("None", None, {})
    assert caller["source_ip"] == "192.0.2.1"


@pytest.mark.parametrize(
    ("auth", "context"),
    [
        ("IAM", REST_NONE),
        ("IAM", HTTP_NONE),
        ("IAM", REST_COGNITO),
        ("IAM", HTTP_JWT),
        ("Cognito", REST_NONE),
        ("Cognito", REST_IAM),
        ("Cognito", HTTP_IAM),
        ("Cognito", HTTP_LAMBDA),
        ("Custom", REST_NONE),
        ("Custom", HTTP_NONE),
        ("Custom", REST_COGNITO),
    ],
)
def test_a_context_without_the_apis_authenticator_is_unauthorized(
    auth: Auth, context: dict[str, Any]
) -> None:
    status, body = _whoami(auth, context)
    assert status == 401
    assert body == {"detail": "Unauthorized"}


MALFORMED_JSON = ["", "not json", "{", "[1, 2]", '"text"', "42", "x" * 70_000]
MALFORMED_SHAPES: list[Any] = [
    {},
    {"identity": []},
    {"identity": {"userArn": 42}},
    {"identity": {"userArn": ""}},
    {"authorizer": "token"},
    {"authorizer": {"claims": "sub=alice"}},
    {"authorizer": {"claims": [1, 2]}},
    {"authorizer": {"jwt": {"claims": None}}},
    {"authorizer": {"jwt": "x", "iam": 1}},
    {"authorizer": {"iam": {"userArn": None}}},
    {"authorizer": {"principalId": ["a"]}},
    {"authorizer": {"lambda": "x"}},
    {"http": "x", "identity": {"sourceIp": 1}},
]


@pytest.mark.parametrize("auth", ["IAM", "Cognito", "Custom", "None"])
@pytest.mark.parametrize("raw", MALFORMED_JSON)
def test_a_context_that_is_not_a_json_object_is_a_bad_request(auth: Auth, raw: str) -> None:
    status, body = _whoami(auth, raw)
    assert status == 400
    assert body["detail"].startswith("Malformed request context")


@pytest.mark.parametrize("auth", ["IAM", "Cognito", "Custom"])
@pytest.mark.parametrize("context", MALFORMED_SHAPES)
def test_a_context_of_the_wrong_shape_is_unauthorized_never_an_error(
    auth: Auth, context: dict[str, Any]
) -> None:
    status, _ = _whoami(auth, context)
    assert status == 401


@pytest.mark.parametrize("context", MALFORMED_SHAPES)
def test_an_open_api_reads_a_context_of_the_wrong_shape_as_anonymous(
    context: dict[str, Any],
) -> None:
    status, caller = _whoami("None", context)
    assert status == 200
    assert caller["principal"] is None


@pytest.mark.parametrize("auth", ["IAM", "Cognito", "Custom", "None"])
def test_off_lambda_a_request_without_context_has_an_anonymous_caller(
    auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    status, caller = _whoami(auth, None)
    assert status == 200
    assert (caller["auth"], caller["principal"]) == ("None", None)


@pytest.mark.parametrize("auth", ["IAM", "Cognito", "Custom"])
@pytest.mark.parametrize("context", [None, "null"], ids=["absent", "null"])
def test_on_lambda_an_authenticated_api_refuses_a_request_without_context(
    auth: Auth, context: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The adapter sends `null` for an invocation that did not come through API Gateway.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "my-function")
    assert _whoami(auth, context)[0] == 401
    assert _whoami("None", context)[0] == 200


def test_caller_info_is_read_only() -> None:
    caller = CallerInfo(auth="Cognito", principal="sub", claims={"a": 1})
    assert not caller.anonymous
    assert CallerInfo(auth="None").anonymous
    with pytest.raises(AttributeError):
        caller.principal = "other"  # type: ignore[misc]


@pytest.mark.parametrize("enabled", [True, False])
def test_log_caller_puts_the_principal_in_the_requests_log_lines(
    enabled: bool, monkeypatch: pytest.MonkeyPatch, records: Records
) -> None:
    monkeypatch.setenv("LOG_CALLER", "true" if enabled else "")
    service = Service(name="caller-logs")

    def logged(caller: CallerInfo) -> None:
        service.logger.info("in the route")

    dependency = caller_dependency("IAM", logger=service.logger)
    service.app.get("/logged")(_with_caller(logged, dependency))

    records()
    with TestClient(service.app) as client:
        response = client.get("/logged", headers={"x-amzn-request-context": json.dumps(HTTP_IAM)})
        assert response.status_code == 200
        # Another request, without a caller, right after: it does not inherit the first one's.
        assert client.get("/openapi.json").status_code == 200
    logs, _ = records()
    line = next(r for r in logs if r["message"] == "in the route")
    if enabled:
        assert line["caller_principal"] == "arn:aws:iam::123456789012:user/alice"
        assert line["caller_auth"] == "IAM"
    else:
        assert "caller_principal" not in line
    assert all("caller_principal" not in r for r in logs if r.get("path") == "/openapi.json")
