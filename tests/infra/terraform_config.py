"""Read the Terraform configuration in infra/ with python-hcl2, for checks that need no provider.

No provider can be downloaded on the test machines, so `terraform validate` and
`plan` cannot run. These helpers give the tests the parsed blocks instead, and
evaluate the few expression forms the configuration uses to derive values from
stack.json (`${each.value.x}`, `${local.x}`, `try(x, null)`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"

# The options terraform-local uses: plain strings, blocks as lists, no comments.
PARSE_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)

_WHOLE_INTERPOLATION = re.compile(r"^\$\{(?P<expression>[^{}]+)\}$")
_INTERPOLATION = re.compile(r"\$\{(?P<expression>[^{}]+)\}")
_TRY_OR_NULL = re.compile(r"^try\((?P<inner>[^(),]+),\s*null\)$")
_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")


class UnsupportedExpression(ValueError):
    """An expression uses a form these helpers do not evaluate."""


def parse_file(path: Path) -> dict[str, Any]:
    """Parse one .tf or .tfvars file."""
    with path.open(encoding="utf-8") as stream:
        return hcl2.load(stream, serialization_options=PARSE_OPTIONS)


@dataclass
class TerraformConfig:
    """The blocks of every .tf file in one directory, by kind."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = INFRA_DIR) -> TerraformConfig:
        return cls({path.name: parse_file(path) for path in sorted(directory.glob("*.tf"))})

    def _labelled_blocks(self, kind: str, block_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for parsed in self.files.values():
            for block in parsed.get(kind, []):
                for name, body in block.get(block_type, {}).items():
                    found[name] = body
        return found

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Return the resources of one type by name."""
        return self._labelled_blocks("resource", resource_type)

    def data_sources(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self._labelled_blocks("data", data_type)

    def resource_types(self) -> set[str]:
        return {block_type for parsed in self.files.values() for block in parsed.get("resource", []) for block_type in block}

    def data_types(self) -> set[str]:
        return {block_type for parsed in self.files.values() for block in parsed.get("data", []) for block_type in block}

    def variables(self) -> dict[str, dict[str, Any]]:
        return {name: body for parsed in self.files.values() for block in parsed.get("variable", []) for name, body in block.items()}

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {name: body for parsed in self.files.values() for block in parsed.get("output", []) for name, body in block.items()}

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for parsed in self.files.values():
            for block in parsed.get("locals", []):
                merged.update(block)
        return merged

    def terraform_blocks(self) -> list[dict[str, Any]]:
        return [block for parsed in self.files.values() for block in parsed.get("terraform", [])]

    def providers(self) -> list[dict[str, Any]]:
        return [block for parsed in self.files.values() for block in parsed.get("provider", [])]


def lookup(reference: str, scope: Mapping[str, Any]) -> Any:
    """Follow a dotted reference such as each.value.hash_key through nested mappings."""
    value: Any = scope
    for part in reference.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"{reference!r}: {part!r} is not defined in the scope")
        value = value[part]
    return value


def evaluate_expression(expression: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate a reference or try(reference, null) against scope."""
    expression = expression.strip()
    if expression == "null":
        return None
    try_match = _TRY_OR_NULL.match(expression)
    if try_match:
        try:
            return evaluate_expression(try_match.group("inner"), scope)
        except KeyError:
            return None
    if _REFERENCE.match(expression):
        return lookup(expression, scope)
    raise UnsupportedExpression(f"cannot evaluate {expression!r}")


def evaluate(value: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate a parsed attribute value: a literal, one interpolation, or a string template."""
    if not isinstance(value, str):
        return value
    whole = _WHOLE_INTERPOLATION.match(value)
    if whole:
        return evaluate_expression(whole.group("expression"), scope)
    return _INTERPOLATION.sub(lambda match: str(evaluate_expression(match.group("expression"), scope)), value)


def dynamic_blocks(body: Mapping[str, Any], block_name: str) -> list[dict[str, Any]]:
    """Return the `dynamic "<block_name>"` blocks of a resource body."""
    return [block[block_name] for block in body.get("dynamic", []) if block_name in block]


def expand_dynamic(body: Mapping[str, Any], block_name: str, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Expand a dynamic block as Terraform would, evaluating its content for each element."""
    expanded = []
    for block in dynamic_blocks(body, block_name):
        collection = evaluate(block["for_each"], scope)
        items = collection.items() if isinstance(collection, Mapping) else enumerate(collection)
        for key, value in items:
            inner_scope = {**scope, block_name: {"key": key, "value": value}}
            for content in block["content"]:
                expanded.append({name: evaluate(item, inner_scope) for name, item in content.items()})
    return expanded


def policy_statements(config: TerraformConfig, document_name: str) -> list[dict[str, Any]]:
    """Return the statements of data.aws_iam_policy_document.<document_name>."""
    document = config.data_sources("aws_iam_policy_document")[document_name]
    return list(document.get("statement", []))


def allowed_actions(statements: list[dict[str, Any]]) -> set[str]:
    """Collect the actions of the Allow statements (the default effect is Allow)."""
    actions: set[str] = set()
    for statement in statements:
        if statement.get("effect", "Allow") == "Allow":
            actions.update(statement.get("actions", []))
    return actions
