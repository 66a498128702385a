"""Fixtures for the infrastructure tests: the parsed Terraform configuration and stack.json."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.terraform_config import INFRA_DIR, TerraformConfig


@pytest.fixture(scope="session")
def terraform_config() -> TerraformConfig:
    return TerraformConfig.load(INFRA_DIR)


@pytest.fixture(scope="session")
def stack_definition() -> dict[str, Any]:
    return json.loads((INFRA_DIR / "stack.json").read_text(encoding="utf-8"))
