"""Resource names and ARNs of one stack, read from infra/stack.json.

Terraform reads the same file, so the offline stack, the tests and the AWS
deployment agree on every name. This module uses only the standard library
because Terraform-agreement checks and test helpers import it on their own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = REPO_ROOT / "infra" / "stack.json"

DEFAULT_ACCOUNT_ID = "123456789012"


def load_stack_definition(path: Path = STACK_FILE) -> dict[str, Any]:
    """Read infra/stack.json (or another file of the same shape)."""
    with path.open(encoding="utf-8") as stack_file:
        return json.load(stack_file)


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as infra/stack.json declares it, with its resolved name."""

    key: str  # "frontend" or "backend"
    name: str
    arn: str
    handler: str
    runtime: str
    package: str
    source_dir: Path
    timeout_seconds: float
    memory_mb: int
    environment_names: tuple[str, ...]
    role_name: str


class StackNames:
    """Every resource name and ARN of a stack with the given prefix, account and region."""

    def __init__(
        self,
        prefix: str = "survey",
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = "us-east-1",
        *,
        definition: dict[str, Any] | None = None,
        repo_root: Path = REPO_ROOT,
    ) -> None:
        self.prefix = prefix
        self.account_id = account_id
        self.region = region
        self.definition = definition if definition is not None else load_stack_definition()
        self.repo_root = repo_root

    def _name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    # --- DynamoDB ---------------------------------------------------------

    def table_keys(self) -> list[str]:
        return list(self.definition["tables"])

    def table_name(self, key: str) -> str:
        return self._name(self.definition["tables"][key]["suffix"])

    def table_arn(self, key: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{self.table_name(key)}"

    @property
    def surveys_table(self) -> str:
        return self.table_name("surveys")

    @property
    def responses_table(self) -> str:
        return self.table_name("responses")

    def create_table_arguments(self, key: str) -> dict[str, Any]:
        """Build the keyword arguments of boto3's `create_table` for one table (on-demand billing)."""
        table = self.definition["tables"][key]
        arguments: dict[str, Any] = {
            "TableName": self.table_name(key),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind} for name, kind in table["attributes"].items()
            ],
            "KeySchema": _key_schema(table["hash_key"], table["range_key"]),
        }
        indexes = [_global_secondary_index(index) for index in table["global_secondary_indexes"]]
        if indexes:
            arguments["GlobalSecondaryIndexes"] = indexes
        return arguments

    # --- S3 -----------------------------------------------------------------

    def bucket_name(self, key: str) -> str:
        return f"{self._name(self.definition['buckets'][key]['suffix'])}-{self.account_id}"

    @property
    def public_bucket(self) -> str:
        return self.bucket_name("public")

    @property
    def private_bucket(self) -> str:
        return self.bucket_name("private")

    @property
    def templates_prefix(self) -> str:
        return self.definition["templates_prefix"]

    # --- SNS ----------------------------------------------------------------

    @property
    def topic_name(self) -> str:
        return self._name(self.definition["topic"]["suffix"])

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{self.topic_name}"

    # --- Lambda and IAM -----------------------------------------------------

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        return {key: self._function_spec(key, spec) for key, spec in self.definition["functions"].items()}

    def _function_spec(self, key: str, spec: dict[str, Any]) -> FunctionSpec:
        name = self._name(spec["suffix"])
        return FunctionSpec(
            key=key,
            name=name,
            arn=self.function_arn(name),
            handler=spec["handler"],
            runtime=spec["runtime"],
            package=spec["package"],
            source_dir=self.repo_root / spec["source_dir"],
            timeout_seconds=float(spec["timeout_seconds"]),
            memory_mb=int(spec["memory_mb"]),
            environment_names=tuple(spec["environment"]),
            # NOTE: infra/stack.json names no IAM roles, so this "<function name>-role" form is
            # the offline stack's own choice and may differ from the Terraform role names.
            role_name=f"{name}-role",
        )

    def function_arn(self, function_name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}"

    def role_arn(self, role_name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{role_name}"

    @property
    def frontend_function_name(self) -> str:
        return self.functions["frontend"].name

    @property
    def backend_function_name(self) -> str:
        return self.functions["backend"].name

    # --- API Gateway and Cognito --------------------------------------------

    @property
    def api_name(self) -> str:
        return self._name(self.definition["api"]["suffix"])

    @property
    def api_stage(self) -> str:
        return self.definition["api"]["stage"]

    @property
    def user_pool_name(self) -> str:
        return self._name(self.definition["user_pool"]["suffix"])

    @property
    def user_pool_client_name(self) -> str:
        return self._name(self.definition["user_pool"]["client_suffix"])


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _global_secondary_index(index: dict[str, Any]) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index["projection_type"]}
    if index["projection_type"] == "INCLUDE":
        projection["NonKeyAttributes"] = list(index["non_key_attributes"])
    return {
        "IndexName": index["name"],
        "KeySchema": _key_schema(index["hash_key"], index["range_key"]),
        "Projection": projection,
    }
