"""Syntax and conventions of the Terraform configuration, checked without providers."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.terraform_config import INFRA_DIR, TerraformConfig, parse_file

TF_FILES = sorted(INFRA_DIR.glob("*.tf"))
TFVARS_FILES = sorted((INFRA_DIR / "env").glob("*.tfvars"))

# The names the offline stack also serves at /_local/outputs.
REQUIRED_OUTPUTS = {
    "api_url",
    "website_url",
    "user_pool_id",
    "user_pool_client_id",
    "jwks_url",
    "token_issuer",
    "surveys_table",
    "responses_table",
    "notifications_topic_arn",
    "public_bucket",
    "private_bucket",
    "aws_endpoint_url",
    "region",
    "frontend_function_name",
    "backend_function_name",
}

CHECKOV_SKIP = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
REGION_NAME = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]\b")


def test_terraform_fmt_check_passes() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed, so `terraform fmt -check` cannot run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-list=true", str(INFRA_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`; unformatted files:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", TF_FILES + TFVARS_FILES, ids=lambda path: path.relative_to(INFRA_DIR).as_posix())
def test_hcl_file_parses(path: Path) -> None:
    parsed = parse_file(path)
    assert isinstance(parsed, dict)


def test_terraform_files_by_concern_exist() -> None:
    expected = {
        "versions.tf",
        "variables.tf",
        "outputs.tf",
        "main.tf",
        "cognito.tf",
        "dynamodb.tf",
        "s3.tf",
        "sns.tf",
        "lambda.tf",
        "iam.tf",
        "apigateway.tf",
        "website.tf",
    }
    missing = expected - {path.name for path in TF_FILES}
    assert not missing, f"missing Terraform files: {sorted(missing)}"


def test_aws_provider_pinned_exactly(terraform_config: TerraformConfig) -> None:
    providers = [block["required_providers"] for block in terraform_config.terraform_blocks() if "required_providers" in block]
    aws = providers[0][0]["aws"]
    assert aws["source"] == "hashicorp/aws"
    assert re.fullmatch(r"=\s*\d+\.\d+\.\d+", aws["version"]), f"pin the AWS provider exactly, got {aws['version']!r}"


def test_terraform_version_constraint(terraform_config: TerraformConfig) -> None:
    versions = [block["required_version"] for block in terraform_config.terraform_blocks() if "required_version" in block]
    assert versions == [">= 1.6"]


def test_variables_have_description_and_type(terraform_config: TerraformConfig) -> None:
    for name, body in terraform_config.variables().items():
        assert body.get("description"), f"variable {name} has no description"
        assert body.get("type"), f"variable {name} has no type"
        assert "any" not in str(body["type"]), f"variable {name} uses type any"


def test_outputs_have_descriptions(terraform_config: TerraformConfig) -> None:
    for name, body in terraform_config.outputs().items():
        assert body.get("description"), f"output {name} has no description"


def test_outputs_are_exactly_the_shared_names(terraform_config: TerraformConfig) -> None:
    assert set(terraform_config.outputs()) == REQUIRED_OUTPUTS


def test_outputs_match_offline_stack_names(terraform_config: TerraformConfig) -> None:
    from local.config import StackConfig
    from local.names import StackNames
    from local.outputs import stack_outputs

    offline = stack_outputs(StackConfig(), StackNames())
    missing = set(terraform_config.outputs()) - set(offline)
    assert not missing, f"the offline stack's /_local/outputs lacks {sorted(missing)}"


@pytest.mark.parametrize("path", TF_FILES, ids=lambda path: path.name)
def test_checkov_skips_give_reasons(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = CHECKOV_SKIP.search(line)
        if match:
            reason = (match.group("reason") or "").strip()
            assert len(reason) >= 20, f"{path.name}:{number}: checkov skip {match.group('check')} needs a reason after the colon"


@pytest.mark.parametrize("path", TF_FILES, ids=lambda path: path.name)
def test_no_hard_coded_account_or_region(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(r"\s*(description|error_message)\s*=", line):
            continue  # examples in help text are not configuration
        assert not ACCOUNT_ID.search(line), f"{path.name}:{number} contains what looks like an account id"
        assert not REGION_NAME.search(line), f"{path.name}:{number} names a region; use local.region"



def configuration_text() -> str:
    """Return the .tf files without their comment lines."""
    lines = []
    for path in TF_FILES:
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith(("#", "//"))]
    return "\n".join(lines)


def declared_resources(config: TerraformConfig) -> set[str]:
    return {
        f"{resource_type}.{name}"
        for parsed in config.files.values()
        for block in parsed.get("resource", [])
        for resource_type, resources in block.items()
        for name in resources
    }


def declared_data_sources(config: TerraformConfig) -> set[str]:
    return {f"{data_type}.{name}" for data_type in config.data_types() for name in config.data_sources(data_type)}


# `terraform validate` needs the provider, so these catch the typos it would.
def test_variable_references_declared(terraform_config: TerraformConfig) -> None:
    referenced = set(re.findall(r"\bvar\.([a-z0-9_]+)", configuration_text()))
    undeclared = referenced - set(terraform_config.variables())
    assert not undeclared, f"undeclared variables: {sorted(undeclared)}"


def test_local_references_declared(terraform_config: TerraformConfig) -> None:
    referenced = set(re.findall(r"\blocal\.([a-z0-9_]+)", configuration_text()))
    undeclared = referenced - set(terraform_config.locals())
    assert not undeclared, f"undeclared locals: {sorted(undeclared)}"


def test_resource_references_declared(terraform_config: TerraformConfig) -> None:
    text = configuration_text()
    referenced = {f"{kind}.{name}" for kind, name in re.findall(r"(?<![.\w])(aws_[a-z0-9_]+)\.([a-z0-9_]+)", text)}
    undeclared = referenced - declared_resources(terraform_config)
    assert not undeclared, f"undeclared resources: {sorted(undeclared)}"


def test_data_references_declared(terraform_config: TerraformConfig) -> None:
    referenced = {f"{kind}.{name}" for kind, name in re.findall(r"\bdata\.(aws_[a-z0-9_]+)\.([a-z0-9_]+)", configuration_text())}
    undeclared = referenced - declared_data_sources(terraform_config)
    assert not undeclared, f"undeclared data sources: {sorted(undeclared)}"


def test_locals_and_variables_used(terraform_config: TerraformConfig) -> None:
    text = configuration_text()
    unused_variables = {name for name in terraform_config.variables() if f"var.{name}" not in text}
    unused_locals = {name for name in terraform_config.locals() if not re.search(rf"\blocal\.{name}\b", text)}
    assert not unused_variables, f"unused variables: {sorted(unused_variables)}"
    assert not unused_locals, f"unused locals: {sorted(unused_locals)}"
