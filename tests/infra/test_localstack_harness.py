"""The LocalStack harness: docker-compose.yml, env/localstack.tfvars and tflocal's provider override.

Docker and LocalStack cannot run on the test machines, so these tests check
the files. The compose file must validate, and the services LocalStack starts
must cover what Terraform and the code use. The signer's settings must agree
with the Terraform variables, and the override that tflocal generates must
reach every AWS service the configuration needs.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.infra.aws_calls import _parse_modules, find_services
from tests.infra.terraform_config import INFRA_DIR, REPO_ROOT, TerraformConfig, parse_file

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
LOCALSTACK_TFVARS = INFRA_DIR / "env" / "localstack.tfvars"
LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
LOCALSTACK_ENDPOINT = "http://localstack:4566"

# AWS provider endpoint key (as tflocal writes it) of each resource or data source type prefix.
ENDPOINT_KEY_BY_TYPE_PREFIX = {
    "aws_api_gateway_": "apigateway",
    "aws_cloudwatch_log_": "logs",
    "aws_cognito_": "cognitoidp",
    "aws_dynamodb_": "dynamodb",
    "aws_iam_role": "iam",
    "aws_lambda_": "lambda",
    "aws_s3_": "s3",
    "aws_sns_": "sns",
    "aws_caller_identity": "sts",
}
# Data sources that the provider computes without calling AWS.
LOCAL_DATA_SOURCES = {"aws_iam_policy_document"}
# LocalStack's SERVICES name of a provider endpoint key, where the two differ.
LOCALSTACK_SERVICE_BY_ENDPOINT_KEY = {"cognitoidp": "cognito-idp"}
# With identity_provider = local_jwks the signer, not LocalStack, serves these.
SERVED_BY_SIGNER = {"cognito-idp"}


def endpoint_key(type_name: str) -> str:
    for prefix, key in ENDPOINT_KEY_BY_TYPE_PREFIX.items():
        if type_name.startswith(prefix):
            return key
    raise AssertionError(f"no AWS endpoint known for {type_name}; add it to ENDPOINT_KEY_BY_TYPE_PREFIX")


def terraform_endpoint_keys(config: TerraformConfig) -> set[str]:
    """Return the provider endpoint keys the configuration's resources and data sources call."""
    types = config.resource_types() | (config.data_types() - LOCAL_DATA_SOURCES)
    return {endpoint_key(type_name) for type_name in types}


def code_services(stack_definition: dict[str, Any]) -> set[str]:
    services: set[str] = set()
    for spec in stack_definition["functions"].values():
        services |= find_services(_parse_modules(REPO_ROOT / spec["source_dir"] / spec["package"]))
    return services


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def localstack_tfvars() -> dict[str, Any]:
    return parse_file(LOCALSTACK_TFVARS)


def test_docker_compose_config_validates() -> None:
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.skip("docker-compose is not installed, so `docker-compose config` cannot run; `make test-tools` installs it")
    result = subprocess.run(
        [docker_compose, "--file", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_localstack_image_pinned(compose: dict[str, Any]) -> None:
    assert compose["services"]["localstack"]["image"] == LOCALSTACK_IMAGE


def test_published_ports_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"service {name} publishes {port} beyond 127.0.0.1"


def test_localstack_services_cover_terraform(compose: dict[str, Any], terraform_config: TerraformConfig) -> None:
    started = set(compose["services"]["localstack"]["environment"]["SERVICES"].split(","))
    needed = {LOCALSTACK_SERVICE_BY_ENDPOINT_KEY.get(key, key) for key in terraform_endpoint_keys(terraform_config)}
    missing = needed - SERVED_BY_SIGNER - started
    assert not missing, f"add {sorted(missing)} to SERVICES of the localstack service"


def test_localstack_services_cover_code(compose: dict[str, Any], stack_definition: dict[str, Any]) -> None:
    started = set(compose["services"]["localstack"]["environment"]["SERVICES"].split(","))
    missing = code_services(stack_definition) - SERVED_BY_SIGNER - started
    assert not missing, f"add {sorted(missing)} to SERVICES of the localstack service"


def test_localstack_runs_lambda_through_docker_socket(compose: dict[str, Any]) -> None:
    localstack = compose["services"]["localstack"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack["volumes"]
    assert localstack["environment"]["LAMBDA_DOCKER_NETWORK"] == compose["networks"]["survey"]["name"]


def test_localstack_tfvars_use_local_signer(localstack_tfvars: dict[str, Any]) -> None:
    assert localstack_tfvars["identity_provider"] == "local_jwks"


def test_signer_settings_match_tfvars(compose: dict[str, Any], localstack_tfvars: dict[str, Any]) -> None:
    signer = compose["services"]["signer"]["environment"]
    assert signer["SIGNER_ISSUER"] == localstack_tfvars["local_jwks_issuer"]
    assert signer["SIGNER_USER_POOL_ID"] == localstack_tfvars["local_user_pool_id"]
    assert signer["SIGNER_CLIENT_ID"] == localstack_tfvars["local_user_pool_client_id"]
    assert f"{signer['SIGNER_ISSUER']}/.well-known/jwks.json" == localstack_tfvars["local_jwks_url"]
    assert (signer["SIGNER_REQUIRE_CONFIRMATION"] == "true") == localstack_tfvars["local_signup_requires_code"]


def test_signer_urls_use_signer_port(compose: dict[str, Any], localstack_tfvars: dict[str, Any]) -> None:
    port = compose["services"]["signer"]["environment"]["SIGNER_PORT"]
    assert localstack_tfvars["local_cognito_endpoint_url"] == f"http://signer:{port}"
    assert localstack_tfvars["local_jwks_issuer"].startswith(f"http://signer:{port}/")


def test_tfvars_set_declared_variables_only(terraform_config: TerraformConfig, localstack_tfvars: dict[str, Any]) -> None:
    undeclared = set(localstack_tfvars) - set(terraform_config.variables())
    assert not undeclared, f"env/localstack.tfvars sets undeclared variables {sorted(undeclared)}"


def test_terraform_service_targets_localstack(compose: dict[str, Any]) -> None:
    environment = compose["services"]["terraform"]["environment"]
    assert environment["AWS_ENDPOINT_URL"] == LOCALSTACK_ENDPOINT
    assert environment["S3_HOSTNAME"] == "localstack"


def test_deploy_script_applies_localstack_tfvars() -> None:
    script = (REPO_ROOT / "docker" / "terraform" / "deploy-localstack.sh").read_text(encoding="utf-8")
    assert "tflocal apply -input=false -auto-approve -var-file=env/localstack.tfvars" in script
    assert "python scripts/package.py" in script


def load_tflocal(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the tflocal script of terraform-local as a module, configured as the terraform service runs it."""
    script = shutil.which("tflocal") or str(Path(sys.executable).parent / "tflocal")
    if not Path(script).is_file():
        pytest.skip("terraform-local is not installed (pip install terraform-local), so tflocal's override cannot be generated")
    # tflocal reads its settings from the environment when it is imported.
    monkeypatch.setenv("AWS_ENDPOINT_URL", LOCALSTACK_ENDPOINT)
    monkeypatch.setenv("S3_HOSTNAME", "localstack")
    monkeypatch.setenv("DRY_RUN", "1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    loader = importlib.machinery.SourceFileLoader("tflocal_script", script)
    spec = importlib.util.spec_from_loader("tflocal_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tflocal_override(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generate the provider override file as `tflocal` does in infra/, and parse it."""
    override = tmp_path_factory.mktemp("tflocal") / "localstack_providers_override.tf"
    with pytest.MonkeyPatch.context() as monkeypatch:
        tflocal = load_tflocal(monkeypatch)
        monkeypatch.chdir(INFRA_DIR)  # tflocal reads the provider blocks of ./*.tf
        tflocal.create_provider_config_file(str(override), tflocal.determine_provider_aliases())
    providers = parse_file(override)["provider"]
    assert len(providers) == 1
    return providers[0]["aws"]


def test_tflocal_override_covers_terraform_services(tflocal_override: dict[str, Any], terraform_config: TerraformConfig) -> None:
    endpoints = tflocal_override["endpoints"][0]
    missing = terraform_endpoint_keys(terraform_config) - set(endpoints)
    assert not missing, f"tflocal's override has no endpoint for {sorted(missing)}"


def test_tflocal_override_points_at_localstack(tflocal_override: dict[str, Any], terraform_config: TerraformConfig) -> None:
    endpoints = tflocal_override["endpoints"][0]
    for key in terraform_endpoint_keys(terraform_config):
        assert endpoints[key] == LOCALSTACK_ENDPOINT, key


def test_tflocal_override_uses_path_style_s3(tflocal_override: dict[str, Any]) -> None:
    assert tflocal_override["s3_use_path_style"] is True


def test_tflocal_override_keeps_stack_region(tflocal_override: dict[str, Any]) -> None:
    assert tflocal_override["region"] == "${local.region}"
