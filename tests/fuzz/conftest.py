"""Fixtures of the fuzz suite: a signed-in owner, real surveys to aim at, and the OpenAPI schema.

The tests run on the session's `stack`: the offline stack, or the deployed
stack that SURVEY_API_URL names. The schemathesis fuzz test skips a deployed
stack, because its generated sign-ups would make Cognito send email.
"""
from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import SAMPLE_ANSWERS, SAMPLE_SURVEY
from tests.support.offline import ARTIFACTS
from tests.support.stack import StackUnderTest, User

try:
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:
    # Without schemathesis, and so without Hypothesis, the fuzz test skips itself.
    pass
else:
    # Hypothesis caches Unicode tables in .hypothesis/ of the working directory by default.
    set_hypothesis_home_dir(ARTIFACTS / "hypothesis")

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
# The fuzz test runs at least this many generated requests in all.
MIN_TOTAL_CASES = 2000
# A fixed seed and derandomized Hypothesis make runs of the same code send the same requests.
# NOTE: Hypothesis also draws constants from the project modules loaded in the session
# (hypothesis 6.170), so selecting other test modules changes a few of the requests.
FUZZ_SEED = 20_240_601
# Surveys that the read, export and respond cases aim at. Each has responses before the fuzzing starts.
READABLE_SURVEYS = 3
RESPONSES_PER_READABLE_SURVEY = 2
# Surveys that the PATCH cases change.
EDITABLE_SURVEYS = 2
# Surveys that fuzzed create requests made, kept as targets for valid submissions.
MAX_GENERATED_SURVEYS = 20
# A generated survey is kept only if its max_responses, when set, is at least this.
GENERATED_SURVEY_MIN_ROOM = 5


@dataclass
class FuzzTally:
    """Requests the fuzz test sent, by operation and by response status."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.cases.values())


TALLY = FuzzTally()


@dataclass
class SurveyPool:
    """Real surveys of the fuzz owner, so that generated survey ids reach the backend."""

    stack: StackUnderTest
    owner: User
    readable: list[str] = field(default_factory=list)
    editable: list[str] = field(default_factory=list)
    # Survey objects that fuzzed POST /survey/create requests returned.
    generated: list[dict[str, Any]] = field(default_factory=list)

    def keep_generated(self, survey: dict[str, Any]) -> None:
        """Keep a created survey as a target for valid submissions if it can take several of them."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        open_long_enough = survey["closes_at"] is None or survey["closes_at"] > now
        room_for_several = survey["max_responses"] is None or survey["max_responses"] >= GENERATED_SURVEY_MIN_ROOM
        if open_long_enough and room_for_several and len(self.generated) < MAX_GENERATED_SURVEYS:
            self.generated.append(survey)

    def create(self, responses: int = 0) -> str:
        """Create a survey with every question type, submit `responses` answers, and return its id."""
        created = self.stack.post("/survey/create", json=copy.deepcopy(SAMPLE_SURVEY), headers=self.owner.headers)
        assert created.status_code == 201, created.text
        survey_id = created.json()["survey_id"]
        for _ in range(responses):
            submitted = self.stack.post("/survey/respond", json={"survey_id": survey_id, "answers": SAMPLE_ANSWERS})
            assert submitted.status_code == 201, submitted.text
        return survey_id


@pytest.fixture(scope="session")
def fuzz_owner(stack: StackUnderTest) -> User:
    return stack.create_user("fuzz-owner")


@pytest.fixture(scope="session")
def survey_pool(stack: StackUnderTest, fuzz_owner: User) -> SurveyPool:
    pool = SurveyPool(stack, fuzz_owner)
    pool.readable = [pool.create(RESPONSES_PER_READABLE_SURVEY) for _ in range(READABLE_SURVEYS)]
    pool.editable = [pool.create() for _ in range(EDITABLE_SURVEYS)]
    return pool


@pytest.fixture(scope="session")
def fuzz_tally() -> FuzzTally:
    return TALLY


def examples_per_operation(operation_count: int) -> int:
    """Return Hypothesis' max_examples per operation so that the operations reach MIN_TOTAL_CASES together."""
    return math.ceil(MIN_TOTAL_CASES / operation_count)


@pytest.fixture(scope="session")
def api_schema(stack: StackUnderTest) -> Any:
    """Load api/openapi.yaml for schemathesis, aimed at the stack under test."""
    if not stack.is_offline:
        pytest.skip("the fuzz test signs up generated email addresses, which a deployed Cognito pool would email")
    import schemathesis

    probe = schemathesis.openapi.from_path(OPENAPI_PATH)
    # CORS preflights take no input, so only the other operations share the case budget.
    operations = [result.ok() for result in probe.get_all_operations()]
    fuzzed_operations = [operation for operation in operations if operation.method.upper() != "OPTIONS"]

    config = schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "base-url": stack.api_url,
            # No cache or example database, so a run leaves no state files in the repository.
            "cache": {"enabled": False},
            "generation": {
                "max-examples": examples_per_operation(len(fuzzed_operations)),
                "deterministic": True,
                "database": "none",
            },
            # Generation speed depends on the machine's load, so it must not fail the run.
            "suppress-health-check": ["too_slow"],
        }
    )
    return schemathesis.openapi.from_path(OPENAPI_PATH, config=config)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.total == 0:
        return
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(TALLY.statuses.items()))
    terminalreporter.write_sep("-", "OpenAPI fuzzing")
    terminalreporter.write_line(
        f"{TALLY.total} generated requests over {len(TALLY.cases)} operations; responses by status: {statuses}"
    )
    if terminalreporter.config.option.verbose > 0:
        for (label, status), count in sorted(TALLY.outcomes.items()):
            terminalreporter.write_line(f"  {label}: {status} x {count}")
