"""Find the AWS API calls in a function's code and the IAM actions they need.

The scan is static. It parses every module of the package and finds the
services named in `boto3.client("...")` and `boto3.resource("...")` calls, plus
DynamoDB when `boto3.dynamodb` is imported (the resource layer). Every
`.method(...)` call whose name is an operation of one of those services in
botocore's service models counts as a call. The operation list comes from the
installed botocore, so a new call needs no change here.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

# IAM actions whose name differs from the API operation's (IAM's Service
# Authorization Reference for each service).
IAM_ACTION_OVERRIDES: dict[tuple[str, str], frozenset[str]] = {
    ("lambda", "Invoke"): frozenset({"lambda:InvokeFunction"}),
    ("s3", "ListObjectsV2"): frozenset({"s3:ListBucket"}),
    ("s3", "ListObjects"): frozenset({"s3:ListBucket"}),
    ("s3", "HeadObject"): frozenset({"s3:GetObject"}),
    ("s3", "HeadBucket"): frozenset({"s3:ListBucket"}),
    ("dynamodb", "TransactGetItems"): frozenset({"dynamodb:GetItem"}),
}

# DynamoDB authorizes each action inside TransactWriteItems as the matching
# single-item action; TransactWriteItems itself is no IAM action.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}

# Resource-layer helpers that wrap one API operation.
RESOURCE_HELPERS = {("dynamodb", "batch_writer"): "BatchWriteItem"}

CLIENT_FACTORIES = {"client", "resource"}


class ScanError(Exception):
    """The scan cannot tell which IAM actions a call needs."""


@dataclass(frozen=True)
class AwsCall:
    """One API operation called at one place in the code."""

    service: str  # boto3 service name, e.g. "cognito-idp"
    operation: str  # API operation name, e.g. "TransactWriteItems"
    location: str  # "<file>:<line>"
    line: int


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def operations_by_method(service: str) -> dict[str, str]:
    """Map each boto3 method name of a service to its API operation name."""
    model = _session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def iam_prefix(service: str) -> str:
    """Return the IAM action prefix of a service (its SigV4 signing name)."""
    return _session().get_service_model(service).signing_name


def needs_no_authorization(service: str, operation: str) -> bool:
    """Return whether the operation is sent unsigned, so IAM never evaluates it (Cognito's SignUp, InitiateAuth...)."""
    return _session().get_service_model(service).operation_model(operation).auth_type == "none"


def _parse_modules(package_dir: Path) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) for path in sorted(package_dir.rglob("*.py"))]


def _string_argument(call: ast.Call, keyword: str) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    for argument in call.keywords:
        if argument.arg == keyword and isinstance(argument.value, ast.Constant) and isinstance(argument.value.value, str):
            return argument.value.value
    return None


def find_services(modules: Iterable[tuple[Path, ast.Module]]) -> set[str]:
    """Return the services the code creates clients or resources for."""
    services: set[str] = set()
    for _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_FACTORIES:
                name = _string_argument(node, "service_name")
                if name:
                    services.add(name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                names = [module] if module else [alias.name for alias in node.names]
                if any(name and name.startswith("boto3.dynamodb") for name in names):
                    services.add("dynamodb")
    return services


def find_calls(package_dir: Path) -> list[AwsCall]:
    """Return every API operation call in the package, in file and line order."""
    modules = _parse_modules(package_dir)
    services = sorted(find_services(modules))
    calls: list[AwsCall] = []
    for path, tree in modules:
        relative = path.relative_to(package_dir.parent).as_posix()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            location = f"{relative}:{node.lineno}"
            place = (location, node.lineno)
            for service in services:
                operations = operations_by_method(service)
                if method in ("get_paginator", "get_waiter"):
                    operation_method = _string_argument(node, "operation_name")
                    if operation_method in operations:
                        calls.append(AwsCall(service, operations[operation_method], *place))
                elif method in operations:
                    calls.append(AwsCall(service, operations[method], *place))
                elif (service, method) in RESOURCE_HELPERS:
                    calls.append(AwsCall(service, RESOURCE_HELPERS[(service, method)], *place))
    return sorted(calls, key=lambda call: (call.location.rsplit(":", 1)[0], call.line))


def transaction_item_kinds(package_dir: Path) -> set[str]:
    """Return the TransactItems kinds (Put, Update...) used as dict keys anywhere in the package."""
    kinds: set[str] = set()
    for _, tree in _parse_modules(package_dir):
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEM_ACTIONS:
                        kinds.add(key.value)
    return kinds


def iam_actions_for(call: AwsCall, package_dir: Path) -> frozenset[str]:
    """Return the IAM actions one call needs."""
    if needs_no_authorization(call.service, call.operation):
        return frozenset()
    if (call.service, call.operation) == ("dynamodb", "TransactWriteItems"):
        kinds = transaction_item_kinds(package_dir)
        if not kinds:
            raise ScanError(f"{call.location}: TransactWriteItems, but no Put/Update/Delete/ConditionCheck item was found.")
        return frozenset(TRANSACTION_ITEM_ACTIONS[kind] for kind in kinds)
    override = IAM_ACTION_OVERRIDES.get((call.service, call.operation))
    if override is not None:
        return override
    return frozenset({f"{iam_prefix(call.service)}:{call.operation}"})


def required_actions(package_dir: Path) -> dict[str, list[str]]:
    """Map each IAM action the package needs to the places that need it."""
    needed: dict[str, list[str]] = {}
    for call in find_calls(package_dir):
        for action in iam_actions_for(call, package_dir):
            needed.setdefault(action, []).append(call.location)
    return needed
