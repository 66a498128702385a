"""checkov's policy checks on infra/, run from its own virtualenv (its pins clash with python-hcl2)."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.infra.terraform_config import INFRA_DIR, REPO_ROOT

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


def run_checkov() -> dict:
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV.relative_to(REPO_ROOT)}; `make test-tools` installs it")
    result = subprocess.run(
        [str(CHECKOV), "--skip-download", "--quiet", "--framework", "terraform", "--output", "json", "-d", str(INFRA_DIR)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # Exit code 1 means failed checks, which the report lists. Any other code means checkov failed to run.
    assert result.returncode in (0, 1), f"checkov exited with {result.returncode}:\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    return run_checkov()


def test_checkov_reports_no_failed_check(checkov_report: dict) -> None:
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}:{check['file_line_range'][0]})"
        for check in checkov_report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks; fix them or add a justified #checkov:skip:\n" + "\n".join(failed)


def test_checkov_ran_checks(checkov_report: dict) -> None:
    assert checkov_report["summary"]["passed"] > 0


def test_checkov_parses_every_file(checkov_report: dict) -> None:
    assert checkov_report["summary"]["parsing_errors"] == 0
