"""API Gateway reaches the frontend function only, on every route of api/openapi.yaml."""
from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.infra.terraform_config import REPO_ROOT, TerraformConfig, evaluate

OPENAPI_FILE = REPO_ROOT / "api" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}

# Stand-ins for the values Terraform's templatefile() fills in.
FRONTEND_INVOKE_ARN = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/FRONTEND/invocations"
CORS_ALLOW_ORIGIN = "https://app.example.com"
TEMPLATE_VARIABLES = {"frontend_invoke_arn": FRONTEND_INVOKE_ARN, "cors_allow_origin": CORS_ALLOW_ORIGIN}


def render_openapi() -> dict[str, Any]:
    """Fill the placeholders as templatefile() does and parse the result."""
    text = OPENAPI_FILE.read_text(encoding="utf-8")
    for name, value in TEMPLATE_VARIABLES.items():
        text = text.replace("${" + name + "}", value)
    return yaml.safe_load(text)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return render_openapi()


def test_openapi_placeholders_match_template_variables() -> None:
    placeholders = set(re.findall(r"\$\{([^}]*)\}", OPENAPI_FILE.read_text(encoding="utf-8")))
    assert placeholders == set(TEMPLATE_VARIABLES)


def test_openapi_has_no_template_directives() -> None:
    # templatefile() would read %{ ... } as a directive.
    assert "%{" not in OPENAPI_FILE.read_text(encoding="utf-8")


def test_rest_api_body_passes_frontend_arn_only(terraform_config: TerraformConfig) -> None:
    body_expression = terraform_config.locals()["openapi_body"]
    variables = dict(re.findall(r"(\w+)\s*=\s*([\w.\[\]\"]+)", body_expression.split("openapi.yaml", 1)[1]))
    assert variables == {
        "frontend_invoke_arn": "aws_lambda_function.frontend.invoke_arn",
        "cors_allow_origin": "local.cors_allow_origin",
    }


def test_rest_api_body_is_the_rendered_openapi(terraform_config: TerraformConfig) -> None:
    assert terraform_config.resources("aws_api_gateway_rest_api")["this"]["body"] == "${local.openapi_body}"


def test_every_operation_has_an_integration(openapi: dict[str, Any]) -> None:
    missing = [f"{method.upper()} {path}" for path, method, operation in operations(openapi) if "x-amazon-apigateway-integration" not in operation]
    assert not missing, f"operations without x-amazon-apigateway-integration: {missing}"


def test_integrations_proxy_to_frontend(openapi: dict[str, Any]) -> None:
    for path, method, operation in operations(openapi):
        integration = operation["x-amazon-apigateway-integration"]
        where = f"{method.upper()} {path}"
        assert integration["type"] == "aws_proxy", where
        assert integration["httpMethod"] == "POST", f"{where}: Lambda proxy integrations call Invoke with POST"
        assert integration["uri"] == FRONTEND_INVOKE_ARN, where


def test_openapi_has_operations(openapi: dict[str, Any]) -> None:
    assert len(operations(openapi)) > 0


@pytest.mark.parametrize("response_type", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_gateway_responses_carry_cors(openapi: dict[str, Any], response_type: str) -> None:
    response = openapi["x-amazon-apigateway-gateway-responses"][response_type]
    header = response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
    assert header == f"'{CORS_ALLOW_ORIGIN}'"


def test_backend_has_no_api_gateway_reference(terraform_config: TerraformConfig) -> None:
    api_text = (REPO_ROOT / "infra" / "apigateway.tf").read_text(encoding="utf-8")
    assert "aws_lambda_function.backend" not in api_text


def test_lambda_permissions_are_for_frontend_only(terraform_config: TerraformConfig) -> None:
    permissions = terraform_config.resources("aws_lambda_permission")
    assert set(permissions) == {"api_gateway"}
    permission = permissions["api_gateway"]
    assert permission["function_name"] == "${aws_lambda_function.frontend.function_name}"
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"


def test_lambda_permission_limited_to_this_api(terraform_config: TerraformConfig) -> None:
    permission = terraform_config.resources("aws_lambda_permission")["api_gateway"]
    assert permission["source_arn"].startswith("${aws_api_gateway_rest_api.this.execution_arn}/")


def test_deployment_redeploys_on_body_change(terraform_config: TerraformConfig) -> None:
    deployment = terraform_config.resources("aws_api_gateway_deployment")["this"]
    assert deployment["triggers"] == {"redeployment": "${sha1(local.openapi_body)}"}
    assert deployment["lifecycle"] == [{"create_before_destroy": True}]


def test_stage_name_from_stack(terraform_config: TerraformConfig, stack_definition: dict[str, Any]) -> None:
    stage = terraform_config.resources("aws_api_gateway_stage")["this"]
    assert evaluate(stage["stage_name"], {"local": {"stack": stack_definition}}) == stack_definition["api"]["stage"]


def test_stage_throttling_from_variables(terraform_config: TerraformConfig) -> None:
    settings = terraform_config.resources("aws_api_gateway_method_settings")["this"]["settings"][0]
    assert settings["throttling_rate_limit"] == "${var.api_throttling_rate_limit}"
    assert settings["throttling_burst_limit"] == "${var.api_throttling_burst_limit}"
