"""`python -m bench --quick` runs end to end and prints its table. The figures are not checked."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(os.environ.get("SURVEY_API_URL")), reason="the benchmark starts offline stacks"),
]

# Rows that every quick run prints, whatever the machine.
EXPECTED_ROWS = (
    "floor: TransactWriteItems via boto3",
    "respond: full chain p50",
    "results: full chain p99",
    "respond throughput",
    "stored count after the throughput run",
    "results growth from 10 to 50 responses",
    "start-up to ready, warm",
    "peak RSS of the stack's process tree",
    "frontend worker init",
)


def test_bench_quick_prints_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--log-dir", str(tmp_path), "--output", str(tmp_path / "table.md")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| measurement" in result.stdout
    for row in EXPECTED_ROWS:
        assert row in result.stdout
    assert (tmp_path / "table.md").read_text() == result.stdout
