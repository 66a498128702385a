"""HTTP client of the survey API and the survey the benchmark submits to."""
from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

REQUEST_TIMEOUT_SECONDS = 60
BENCH_PASSWORD = "Bench-password-1"

# One question of each type, so a submission updates every kind of aggregate and
# results run the two value-index queries of a number question.
BENCH_SURVEY: dict[str, Any] = {
    "title": "Benchmark survey",
    "description": "Created by python -m bench.",
    "questions": [
        {"type": "single_choice", "text": "Pizza or salad?", "options": ["Pizza", "Salad"], "required": True},
        {"type": "multiple_choice", "text": "Which drinks?", "options": ["Water", "Tea", "Coffee"], "required": False},
        {"type": "rating", "text": "How was lunch?", "min": 1, "max": 5, "required": True},
        {"type": "number", "text": "How many slices?", "min": 0, "max": 20, "required": False},
        {"type": "text", "text": "Anything else?", "max_length": 200, "required": False},
    ],
}


def bench_answers(rng: random.Random) -> dict[str, Any]:
    """Return a valid, varied answer set for BENCH_SURVEY (question ids q1..q5)."""
    return {
        "q1": rng.choice(["Pizza", "Salad"]),
        "q2": rng.sample(["Water", "Tea", "Coffee"], rng.randint(0, 3)),
        "q3": rng.randint(1, 5),
        "q4": rng.randint(0, 20),
        "q5": rng.choice(["", "More pizza, please.", "Fine."]),
    }


class ApiError(RuntimeError):
    """The API returned an unexpected status. The message gives the route, status and body."""


class ApiClient:
    """A thread-safe client: each thread gets its own requests session."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.id_token: str | None = None
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # No proxy: every request goes to the stack on the loopback.
            session.trust_env = False
            self._local.session = session
        return session

    def request(self, method: str, path: str, *, expected: tuple[int, ...], auth: bool = False, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if auth:
            headers["Authorization"] = f"Bearer {self.id_token}"
        response = self.session.request(
            method, f"{self.api_url}{path}", headers=headers, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
        )
        if response.status_code not in expected:
            raise ApiError(f"{method} {path} returned {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def sign_up_and_log_in(self, email: str, password: str = BENCH_PASSWORD) -> None:
        self.request("POST", "/auth/signup", json={"email": email, "password": password}, expected=(201,))
        tokens = self.request("POST", "/auth/login", json={"email": email, "password": password}, expected=(200,))
        self.id_token = tokens["id_token"]

    def create_survey(self, survey: dict[str, Any] | None = None) -> str:
        created = self.request("POST", "/survey/create", json=survey or BENCH_SURVEY, auth=True, expected=(201,))
        return created["survey_id"]

    def respond(self, survey_id: str, answers: dict[str, Any]) -> str:
        # A new Idempotency-Key each time, as the web app sends one per submission.
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"survey_id": survey_id, "answers": answers}
        return self.request("POST", "/survey/respond", json=body, headers=headers, expected=(201,))["response_id"]

    def results(self, survey_id: str) -> dict[str, Any]:
        return self.request("GET", "/survey/results", params={"survey_id": survey_id}, auth=True, expected=(200,))

    def survey(self, survey_id: str) -> dict[str, Any]:
        return self.request("GET", "/survey", params={"survey_id": survey_id}, auth=True, expected=(200,))

    def responses_page(self, survey_id: str, limit: int = 25, next_token: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"survey_id": survey_id, "limit": limit}
        if next_token:
            params["next_token"] = next_token
        return self.request("GET", "/survey/responses", params=params, auth=True, expected=(200,))

    def count_responses(self, survey_id: str) -> int:
        """Count the stored responses by paging through GET /survey/responses."""
        total, next_token = 0, None
        while True:
            page = self.responses_page(survey_id, limit=100, next_token=next_token)
            total += len(page["responses"])
            next_token = page["next_token"]
            if not next_token:
                return total

    def submit_many(self, survey_id: str, count: int, *, clients: int, seed: int = 0) -> None:
        """Submit `count` responses from `clients` threads; raise ApiError on the first failure."""
        if count <= 0:
            return

        def submit(index: int) -> None:
            self.respond(survey_id, bench_answers(random.Random(seed * 1_000_003 + index)))

        with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bench-load") as pool:
            for future in [pool.submit(submit, index) for index in range(count)]:
                future.result()
