"""api/openapi.yaml against the function's route table and what Terraform and API Gateway need."""
from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from frontend_fn import app
from frontend_fn.auth_routes import EMAIL_PATTERN
from frontend_fn.errors import STATUS_BY_CODE
from frontend_fn.validation import IDEMPOTENCY_KEY_PATTERN, TEMPLATE_NAME_PATTERN, UUID_PATTERN

from .helpers import REPO_ROOT

OPENAPI_PATH = REPO_ROOT / "api" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEMPLATE_PLACEHOLDERS = {"${frontend_invoke_arn}", "${cors_allow_origin}"}


@pytest.fixture(scope="module")
def text() -> str:
    return OPENAPI_PATH.read_text()


@pytest.fixture(scope="module")
def document(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_openapi_is_valid_openapi_3(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


def test_openapi_paths_match_routes(document):
    assert sorted(document["paths"]) == app.ROUTER.paths


def test_openapi_methods_match_routes(document):
    for path, item in document["paths"].items():
        methods = sorted(method.upper() for method in item if method in HTTP_METHODS)
        assert methods == sorted(app.ROUTER.allowed_methods(path)), path


def test_openapi_every_operation_proxies_to_frontend(document):
    expected = {"type": "aws_proxy", "httpMethod": "POST", "uri": "${frontend_invoke_arn}", "passthroughBehavior": "when_no_match"}
    for path, method, operation in _operations(document):
        assert operation["x-amazon-apigateway-integration"] == expected, f"{method} {path}"


def test_openapi_any_method_proxies_to_frontend(document):
    for path, item in document["paths"].items():
        assert item["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["uri"] == "${frontend_invoke_arn}", path


def test_openapi_only_known_template_placeholders(text):
    placeholders = set(re.findall(r"\$\{[^}]*\}", text))
    assert placeholders == TEMPLATE_PLACEHOLDERS
    assert "%{" not in text


def test_openapi_operation_ids_unique(document):
    ids = [operation["operationId"] for _path, _method, operation in _operations(document)]
    assert len(ids) == len(set(ids))


def test_openapi_token_routes_declare_bearer_auth(document):
    for path, method, operation in _operations(document):
        route = None if method == "options" else app.ROUTER.match(path, method.upper())
        secured = operation.get("security") == [{"bearerAuth": []}]
        assert secured == bool(route and route.requires_token), f"{method} {path}"


def test_openapi_every_response_has_cors_header(document):
    responses = document["components"]["responses"]
    for name, response in responses.items():
        assert "Access-Control-Allow-Origin" in response["headers"], name
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if "$ref" not in response:
                assert "Access-Control-Allow-Origin" in response["headers"], f"{method} {path} {status}"


def test_openapi_error_codes_match_functions(document):
    codes = set(document["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert codes == set(STATUS_BY_CODE) | {"user_not_confirmed"}


def test_openapi_patterns_match_validation(document):
    parameters = document["components"]["parameters"]
    schemas = document["components"]["schemas"]
    assert parameters["SurveyId"]["schema"]["pattern"] == f"^{UUID_PATTERN.pattern}$"
    assert parameters["TemplateName"]["schema"]["pattern"] == f"^{TEMPLATE_NAME_PATTERN.pattern}$"
    assert parameters["IdempotencyKey"]["schema"]["pattern"] == f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"
    assert schemas["SignUpRequest"]["properties"]["email"]["pattern"] == f"^{EMAIL_PATTERN.pattern}$"


def test_openapi_gateway_responses_have_cors_and_error_shape(document):
    gateway_responses = document["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(gateway_responses)
    for name, response in gateway_responses.items():
        parameters = response["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'${cors_allow_origin}'", name
        template = response["responseTemplates"]["application/json"]
        assert re.fullmatch(r'\{"error":"[a-z_]+","message":(\$context\.error\.messageString|"[^"]*")\}', template), name


def test_openapi_unknown_paths_get_404(document):
    response = document["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response["statusCode"] == "404"
    assert '"error":"not_found"' in response["responseTemplates"]["application/json"]
