"""Hand-written bad input for every route, beyond what tests/integration covers.

Every case must get a 4xx in the contract's error shape or the documented
success, never a 5xx. Cases aimed at the guarded survey then check that the
survey, its responses and its results are exactly as they were.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.fuzz.contract import assert_client_error
from tests.integration.conftest import SAMPLE_ANSWERS, SAMPLE_SURVEY
from tests.support.stack import TEST_PASSWORD, StackUnderTest, User

pytestmark = pytest.mark.integration

# The contract's request body limit: 256 KiB.
MAX_BODY_BYTES = 256 * 1024
DEEP_NESTING_LEVELS = 10_000
ONE_MEGABYTE = 1024 * 1024
TEXT_QUESTION = {"type": "text", "text": "Anything else?"}

# Every route that takes a JSON body.
BODY_ROUTES = [
    ("POST", "/auth/signup"),
    ("POST", "/auth/confirm"),
    ("POST", "/auth/login"),
    ("POST", "/flask/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/survey/create"),
    ("PATCH", "/survey"),
    ("POST", "/survey/respond"),
]
BODY_ROUTE_IDS = [f"{method} {path}" for method, path in BODY_ROUTES]
# Routes that take a survey_id query parameter and only read.
SURVEY_READ_ROUTES = ["/survey", "/survey/responses", "/survey/results", "/survey/export", "/survey/public"]


@dataclass
class GuardedSurvey:
    """A survey with responses that the rejected cases aim at, and how it looked before them."""

    survey_id: str
    snapshot: dict[str, Any]


def survey_snapshot(stack: StackUnderTest, owner: User, survey_id: str) -> dict[str, Any]:
    """Read the survey, every response and the results, the state that no rejected request may change."""
    snapshot = {}
    for path in ("/survey", "/survey/responses", "/survey/results"):
        params = {"survey_id": survey_id, "limit": "100"} if path == "/survey/responses" else {"survey_id": survey_id}
        response = stack.get(path, params=params, headers=owner.headers)
        assert response.status_code == 200, response.text
        snapshot[path] = response.json()
    return snapshot


@pytest.fixture(scope="module")
def owner(stack: StackUnderTest) -> User:
    return stack.create_user("bad-input")


@pytest.fixture(scope="module")
def guarded(stack: StackUnderTest, owner: User) -> GuardedSurvey:
    created = stack.post("/survey/create", json=SAMPLE_SURVEY, headers=owner.headers)
    assert created.status_code == 201, created.text
    survey_id = created.json()["survey_id"]
    for _ in range(2):
        submitted = stack.post("/survey/respond", json={"survey_id": survey_id, "answers": SAMPLE_ANSWERS})
        assert submitted.status_code == 201, submitted.text
    return GuardedSurvey(survey_id, survey_snapshot(stack, owner, survey_id))


@pytest.fixture
def assert_guarded_unchanged(stack: StackUnderTest, owner: User, guarded: GuardedSurvey) -> Callable[[], None]:
    def check() -> None:
        assert survey_snapshot(stack, owner, guarded.survey_id) == guarded.snapshot

    return check


@pytest.fixture
def new_survey(stack: StackUnderTest, owner: User) -> Callable[..., str]:
    """Create a survey of the owner (SAMPLE_SURVEY unless `document` is given) and return its id."""

    def create(document: dict[str, Any] | None = None) -> str:
        created = stack.post("/survey/create", json=document or SAMPLE_SURVEY, headers=owner.headers)
        assert created.status_code == 201, created.text
        return created.json()["survey_id"]

    return create


def valid_body(route: tuple[str, str], owner: User, guarded: GuardedSurvey) -> dict[str, Any]:
    """Return a body that the route accepts, so that a test changes one thing about it."""
    bodies: dict[str, dict[str, Any]] = {
        "/auth/signup": {"email": f"valid-{uuid.uuid4().hex[:12]}@example.com", "password": TEST_PASSWORD},
        "/auth/confirm": {"email": owner.email, "code": "123456"},
        "/auth/login": {"email": owner.email, "password": owner.password},
        "/flask/login": {"email": owner.email, "password": owner.password},
        "/auth/refresh": {"refresh_token": owner.refresh_token},
        "/survey/create": copy.deepcopy(SAMPLE_SURVEY),
        "/survey": {"title": "Changed by a rejected request"},
        "/survey/respond": {"survey_id": guarded.survey_id, "answers": copy.deepcopy(SAMPLE_ANSWERS)},
    }
    return bodies[route[1]]


def send_raw(
    stack: StackUnderTest,
    route: tuple[str, str],
    owner: User,
    guarded: GuardedSurvey,
    data: bytes | str,
    content_type: str | None = "application/json",
) -> requests.Response:
    """Send `data` as it is to a body route, with the owner's token and the guarded survey's id where needed."""
    method, path = route
    headers = dict(owner.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    params = {"survey_id": guarded.survey_id} if path == "/survey" else None
    return stack.request(method, path, data=data, headers=headers, params=params)


def padded_json(document: dict[str, Any], size: int) -> bytes:
    """Return `document` as compact JSON of exactly `size` bytes, filled up by an unknown `padding` field."""
    without_padding = json.dumps({**document, "padding": ""}, separators=(",", ":")).encode()
    body = json.dumps({**document, "padding": "x" * (size - len(without_padding))}, separators=(",", ":")).encode()
    assert len(body) == size
    return body


# --- Content types --------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzz", "application/xml",
     "application/jsonp", "text/json"],
)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=BODY_ROUTE_IDS)
def test_body_route_wrong_content_type_is_unsupported(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
    content_type: str,
) -> None:
    body = json.dumps(valid_body(route, owner, guarded))
    response = send_raw(stack, route, owner, guarded, body, content_type)
    assert_client_error(response, 415, "unsupported_media_type")
    assert_guarded_unchanged()


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=UTF-8", None])
def test_login_json_media_type_variants_accepted(stack: StackUnderTest, owner: User, guarded: GuardedSurvey, content_type: str | None) -> None:
    # Media types are case-insensitive, and the API reads a body without Content-Type as JSON.
    route = ("POST", "/auth/login")
    body = json.dumps(valid_body(route, owner, guarded))
    response = send_raw(stack, route, owner, guarded, body, content_type)
    assert response.status_code == 200, response.text


# --- Invalid JSON, non-object bodies and deep nesting ------------------------


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "{", '{"a": }', '{"a": 1} trailing', "{'single': 'quotes'}", "[]", '"text"', "null", "42", "true",
     '{"a": undefined}', "\ufeff{}"],
    ids=["empty", "blank", "unclosed", "missing value", "trailing text", "single quotes", "array", "string", "null",
         "number", "boolean", "undefined", "byte order mark"],
)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=BODY_ROUTE_IDS)
def test_body_route_invalid_json_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
    raw: str,
) -> None:
    response = send_raw(stack, route, owner, guarded, raw.encode("utf-8"))
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


@pytest.mark.parametrize(
    "raw",
    ['{"a":' * DEEP_NESTING_LEVELS + "1" + "}" * DEEP_NESTING_LEVELS,
     "[" * DEEP_NESTING_LEVELS + "]" * DEEP_NESTING_LEVELS,
     '{"answers": ' + "[" * DEEP_NESTING_LEVELS + "]" * DEEP_NESTING_LEVELS + "}"],
    ids=["objects", "arrays", "inside a field"],
)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=BODY_ROUTE_IDS)
def test_body_route_deep_nesting_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
    raw: str,
) -> None:
    response = send_raw(stack, route, owner, guarded, raw)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


def test_respond_deep_answer_value_is_bad_request(
    stack: StackUnderTest, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None]
) -> None:
    nested = "[" * DEEP_NESTING_LEVELS + "]" * DEEP_NESTING_LEVELS
    raw = f'{{"survey_id": "{guarded.survey_id}", "answers": {{"q1": "Yes", "q3": 4, "q5": {nested}}}}}'
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


# --- Body size --------------------------------------------------------------


def test_create_body_of_exactly_limit_is_accepted(stack: StackUnderTest, owner: User) -> None:
    body = padded_json(SAMPLE_SURVEY, MAX_BODY_BYTES)
    response = stack.post("/survey/create", data=body, headers={**owner.headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:500]
    assert "padding" not in response.json()


def test_respond_body_of_exactly_limit_is_accepted(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    body = padded_json({"survey_id": survey_id, "answers": SAMPLE_ANSWERS}, MAX_BODY_BYTES)
    response = stack.post("/survey/respond", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:500]
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"] == SAMPLE_ANSWERS


def test_create_limit_sized_long_description_is_bad_request(stack: StackUnderTest, owner: User) -> None:
    # The body is within 256 KiB, so only the description's own limit of 2000 characters rejects it.
    document = {**SAMPLE_SURVEY, "description": ""}
    without_description = json.dumps(document, separators=(",", ":")).encode()
    document["description"] = "d" * (MAX_BODY_BYTES - len(without_description))
    body = json.dumps(document, separators=(",", ":")).encode()
    assert len(body) == MAX_BODY_BYTES
    response = stack.post("/survey/create", data=body, headers={**owner.headers, "Content-Type": "application/json"})
    error = assert_client_error(response, 400, "bad_request")
    assert "description" in error["message"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=BODY_ROUTE_IDS)
def test_body_one_byte_over_limit_too_large(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
) -> None:
    body = padded_json(valid_body(route, owner, guarded), MAX_BODY_BYTES + 1)
    response = send_raw(stack, route, owner, guarded, body)
    assert_client_error(response, 413, "payload_too_large")
    assert_guarded_unchanged()


# --- Unicode, control characters and invalid UTF-8 ----------------------------

# Astral emoji, a ZWJ sequence, a flag, combining marks, CJK, right-to-left
# text, a zero-width space and markup that must come back as text.
UNICODE_SAMPLES = [
    "Ünïcödé 調査 🎉",
    "👩‍👩‍👧 family 🇫🇷 flag",
    "e\u0301 combining, 𝒳 math",
    "שלום עולם \u202eevil\u202c",
    "zero\u200bwidth <b>bold</b> &amp;",
]
CONTROL_SAMPLES = ["nul\x00byte", "bell\x07 escape\x1b[31m", "line\u2028separator", "tab\tinside", "cr\rlf\nend\x7f"]


def text_survey(texts: list[str]) -> dict[str, Any]:
    """Return a survey whose every text field (title, description, question texts, options) uses `texts`."""
    return {
        "title": texts[0],
        "description": " | ".join(texts),
        "questions": [
            {"type": "single_choice", "text": texts[1], "options": texts[2:4], "required": True},
            {"type": "multiple_choice", "text": texts[2], "options": texts},
            {"type": "text", "text": texts[3]},
        ],
    }


@pytest.mark.parametrize("texts", [UNICODE_SAMPLES, CONTROL_SAMPLES], ids=["unicode", "control characters"])
def test_text_fields_round_trip_exactly(stack: StackUnderTest, owner: User, texts: list[str]) -> None:
    document = text_survey(texts)
    created = stack.post("/survey/create", json=document, headers=owner.headers)
    assert created.status_code == 201, created.text
    survey = created.json()
    survey_id = survey["survey_id"]
    params = {"survey_id": survey_id}

    fetched = stack.get("/survey", params=params, headers=owner.headers).json()
    public = stack.get("/survey/public", params=params).json()
    for view in (survey, fetched, public):
        assert view["title"] == document["title"]
        assert view["description"] == document["description"]
        assert [question["text"] for question in view["questions"]] == [question["text"] for question in document["questions"]]
        assert view["questions"][0]["options"] == document["questions"][0]["options"]
        assert view["questions"][1]["options"] == document["questions"][1]["options"]

    answers = {"q1": texts[3], "q2": [texts[0], texts[4]], "q3": " ".join(reversed(texts))}
    submitted = stack.post("/survey/respond", json={"survey_id": survey_id, "answers": answers})
    assert submitted.status_code == 201, submitted.text

    listed = stack.get("/survey/responses", params=params, headers=owner.headers).json()
    assert listed["responses"][0]["answers"] == answers
    exported = stack.get("/survey/export", params={**params, "format": "json"}, headers=owner.headers).json()
    assert exported[0]["answers"] == answers
    results = stack.get("/survey/results", params=params, headers=owner.headers).json()
    assert results["questions"][0]["counts"][texts[3]] == 1
    assert results["questions"][1]["counts"][texts[4]] == 1

    csv_response = stack.get("/survey/export", params={**params, "format": "csv"}, headers=owner.headers)
    assert csv_response.status_code == 200, csv_response.text
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8"), newline="")))
    assert answers["q3"] in rows[1]


def test_signup_email_special_local_part_round_trips(stack: StackUnderTest) -> None:
    email = f"o'brien+{uuid.uuid4().hex[:8]}.x_y{{z}}~@example.com"
    signup = stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    assert signup.status_code == 201, signup.text
    assert signup.json()["email"] == email
    stack.confirm_if_needed(email, signup.json())
    login = stack.post("/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert login.status_code == 200, login.text
    me = stack.get("/auth/me", headers={"Authorization": f"Bearer {login.json()['id_token']}"})
    assert me.json()["email"] == email


def test_signup_unicode_password_logs_in(stack: StackUnderTest) -> None:
    email = stack.new_email("unicode-password")
    password = "Sùp3r-sécret 🎉 調査"
    signup = stack.post("/auth/signup", json={"email": email, "password": password})
    assert signup.status_code == 201, signup.text
    stack.confirm_if_needed(email, signup.json())
    login = stack.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text


@pytest.mark.parametrize(
    "local_part",
    ["josé", "用户", "smile😀", "nul\x00byte", "new\nline", "spa ce", "(comment)", "quoted\"part"],
)
def test_signup_email_invalid_local_part_is_bad_request(stack: StackUnderTest, local_part: str) -> None:
    # The API accepts the ASCII local parts of its documented address pattern, not RFC 6531 addresses.
    email = f"{local_part}@example.com"
    response = stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    error = assert_client_error(response, 400, "bad_request")
    assert "email" in error["message"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=BODY_ROUTE_IDS)
def test_body_route_invalid_utf8_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
) -> None:
    # A body that is JSON except for bytes that are not UTF-8 inside one of its strings.
    body = json.dumps(valid_body(route, owner, guarded)).encode()
    broken = body[:-1] + b', "note": "\xff\xfe\xc3("}'
    response = send_raw(stack, route, owner, guarded, broken)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


# The string field of each body route that gets the escape. The respond route's answers have their own test.
SURROGATE_TARGETS = {
    "/auth/signup": "password",
    "/auth/confirm": "code",
    "/auth/login": "password",
    "/flask/login": "password",
    "/auth/refresh": "refresh_token",
    "/survey/create": "title",
    "/survey": "title",
}


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ude00\\ud83d"], ids=["high", "low", "reversed pair"])
@pytest.mark.parametrize("route", BODY_ROUTES[:-1], ids=BODY_ROUTE_IDS[:-1])
def test_body_route_unpaired_surrogate_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: tuple[str, str],
    escape: str,
) -> None:
    # A \u escape of half a UTF-16 pair is valid JSON syntax but not Unicode, and no UTF-8 text can store it.
    body = valid_body(route, owner, guarded)
    field = SURROGATE_TARGETS[route[1]]
    body[field] += "@escape@"
    raw = json.dumps(body).replace("@escape@", escape)
    response = send_raw(stack, route, owner, guarded, raw)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


def test_respond_unpaired_surrogate_in_answer_is_bad_request(
    stack: StackUnderTest, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None]
) -> None:
    raw = json.dumps({"survey_id": guarded.survey_id, "answers": {**SAMPLE_ANSWERS, "q5": "x"}}).replace('"x"', '"x\\ud800"')
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


def test_respond_escaped_surrogate_pair_round_trips(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    raw = json.dumps({"survey_id": survey_id, "answers": {"q1": "Yes", "q3": 4, "q5": "x"}}).replace('"x"', '"\\ud83d\\ude00"')
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"]["q5"] == "\U0001F600"


@pytest.mark.parametrize(
    ("path", "query"),
    [("/survey/public", "survey_id=%FF%FE"), ("/survey", "survey_id=%C3%28"), ("/template", "name=%FFa"),
     ("/surveys", "limit=%FF"), ("/surveys", "next_token=%ED%A0%80"), ("/survey/export", "format=csv%FF")],
)
def test_query_invalid_utf8_is_bad_request(
    stack: StackUnderTest, owner: User, guarded: GuardedSurvey, path: str, query: str
) -> None:
    if path == "/survey/export":
        query = f"survey_id={guarded.survey_id}&{query}"
    response = stack.get(f"{path}?{query}", headers=owner.headers)
    assert_client_error(response, 400, "bad_request")


@pytest.mark.parametrize("value", [b"\xff\xfe", b"key\x00nul", b"key\x07bell", "ключ".encode()])
def test_respond_bad_idempotency_key_bytes_rejected(
    stack: StackUnderTest, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None], value: bytes
) -> None:
    response = stack.post(
        "/survey/respond",
        json={"survey_id": guarded.survey_id, "answers": SAMPLE_ANSWERS},
        headers={"Idempotency-Key": value},
    )
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


@pytest.mark.parametrize("token", [b"Bearer \xff\xfe", b"Bearer \x00\x01", b"Bearer " + b"a" * 8000, b"Bearer a.b.c.d.e"])
def test_owner_route_bad_token_bytes_unauthorized(stack: StackUnderTest, guarded: GuardedSurvey, token: bytes) -> None:
    response = stack.get("/survey", params={"survey_id": guarded.survey_id}, headers={"Authorization": token})
    assert_client_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("path", "name"),
    [("/survey/public", "survey_id"), ("/survey", "survey_id"), ("/template", "name"), ("/surveys", "next_token"),
     ("/surveys", "limit")],
)
def test_query_control_characters_are_bad_request(stack: StackUnderTest, owner: User, path: str, name: str) -> None:
    for value in ("\x00", "a\x07b", "\x1b[2J", "5\x00"):
        response = stack.get(path, params={name: value}, headers=owner.headers)
        error = assert_client_error(response, 400, "bad_request")
        assert name in error["message"]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/survey/public", "survey_id"), ("/survey", "survey_id"), ("/template", "name"), ("/surveys", "next_token")],
)
def test_query_one_megabyte_value_is_client_error(stack: StackUnderTest, owner: User, path: str, name: str) -> None:
    # NOTE: API Gateway and the offline stack's HTTP server reject a URL this long before the API
    # runs, so the body is the server's own 414 page, not the contract's error object.
    response = stack.get(path, params={name: "a" * ONE_MEGABYTE}, headers=owner.headers)
    assert 400 <= response.status_code < 500, response.status_code


# --- Numbers: strings, booleans, non-finite, huge and negative zero -----------

# (case, body change, field the error must name), applied to a valid submission.
INVALID_SUBMISSION_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("number as string with decimals", {"q4": "2.5"}, "q4"),
    ("number as string with exponent", {"q4": "1e3"}, "q4"),
    ("number as boolean", {"q4": False}, "q4"),
    ("rating as boolean false", {"q3": False}, "q3"),
    ("rating as integral float", {"q3": 4.0}, "q3"),
    ("rating as list", {"q3": [4]}, "q3"),
    ("number as object", {"q4": {"value": 2}}, "q4"),
    ("text as boolean", {"q5": True}, "q5"),
    ("text as list", {"q5": ["Great", "food"]}, "q5"),
    ("single choice as number", {"q1": 1}, "q1"),
    ("multiple choice with number", {"q2": ["Talks", 1]}, "q2"),
    ("multiple choice with null", {"q2": ["Talks", None]}, "q2"),
    ("required as empty string", {"q1": ""}, "q1"),
    ("required as null", {"q1": None}, "q1"),
    ("required as empty list", {"q1": []}, "q1"),
]


@pytest.mark.parametrize(
    ("case", "change", "field"), INVALID_SUBMISSION_VALUES, ids=[case for case, _, _ in INVALID_SUBMISSION_VALUES]
)
def test_respond_wrong_answer_type_names_question(
    stack: StackUnderTest,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    case: str,
    change: dict[str, Any],
    field: str,
) -> None:
    answers = {**SAMPLE_ANSWERS, **change}
    response = stack.post("/survey/respond", json={"survey_id": guarded.survey_id, "answers": answers})
    error = assert_client_error(response, 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r}"
    assert_guarded_unchanged()


# (case, raw JSON value) for a number question's answer, a rating's answer and max_responses.
NUMBER_LITERALS = [
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("minus Infinity", "-Infinity"),
    ("overflowing double", "1e309"),
    ("negative overflowing double", "-1e309"),
    ("400-digit integer", "1" + "0" * 400),
    ("5000-digit integer", "1" + "0" * 5000),
    ("number as string", '"4"'),
    ("boolean", "true"),
]


@pytest.mark.parametrize(("case", "literal"), NUMBER_LITERALS, ids=[case for case, _ in NUMBER_LITERALS])
@pytest.mark.parametrize("question", ["q3", "q4"], ids=["rating", "number"])
def test_respond_bad_number_literal_is_bad_request(
    stack: StackUnderTest,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    question: str,
    case: str,
    literal: str,
) -> None:
    answers = {key: value for key, value in SAMPLE_ANSWERS.items() if key != question}
    raw = json.dumps({"survey_id": guarded.survey_id, "answers": answers})[:-2] + f', "{question}": {literal}}}}}'
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


def test_respond_underflowing_number_counts_as_zero(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    # 1e-400 is below the smallest double, so JSON parsers read it as 0.0, which the number question allows.
    survey_id = new_survey()
    raw = json.dumps({"survey_id": survey_id, "answers": {"q1": "Yes", "q3": 4}})[:-2] + ', "q4": 1e-400}}'
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"]["q4"] == 0


@pytest.mark.parametrize(("case", "literal"), NUMBER_LITERALS, ids=[case for case, _ in NUMBER_LITERALS])
@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("create max_responses", '{"title": "T", "questions": [{"type": "text", "text": "Q"}], "max_responses": %s}'),
        ("create rating max", '{"title": "T", "questions": [{"type": "rating", "text": "Q", "max": %s}]}'),
        ("create text max_length", '{"title": "T", "questions": [{"type": "text", "text": "Q", "max_length": %s}]}'),
        ("patch max_responses", '{"max_responses": %s}'),
    ],
    ids=["create max_responses", "create rating max", "create text max_length", "patch max_responses"],
)
def test_survey_bad_number_literal_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    route: str,
    template: str,
    case: str,
    literal: str,
) -> None:
    raw = template % literal
    headers = {**owner.headers, "Content-Type": "application/json"}
    if route.startswith("patch"):
        response = stack.patch("/survey", params={"survey_id": guarded.survey_id}, data=raw, headers=headers)
    else:
        response = stack.post("/survey/create", data=raw, headers=headers)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


# (raw JSON value, what the error message names): NaN is not JSON at all, the others are numbers out of range.
NUMBER_BOUND_LITERALS = [("1e309", "questions[0].min"), ("-1e309", "questions[0].min"),
                         ("1" + "0" * 400, "questions[0].min"), ("NaN", "JSON")]


@pytest.mark.parametrize(("literal", "named"), NUMBER_BOUND_LITERALS, ids=["1e309", "-1e309", "10**400", "NaN"])
def test_create_number_bound_unusable_rejected(stack: StackUnderTest, owner: User, literal: str, named: str) -> None:
    raw = '{"title": "T", "questions": [{"type": "number", "text": "Q", "min": %s}]}' % literal
    response = stack.post("/survey/create", data=raw, headers={**owner.headers, "Content-Type": "application/json"})
    error = assert_client_error(response, 400, "bad_request")
    assert named in error["message"]


def test_respond_negative_zero_counts_as_zero(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    raw = json.dumps({"survey_id": survey_id, "answers": {"q1": "Yes", "q3": 4}})[:-2] + ', "q4": -0.0}}'
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    results = stack.get("/survey/results", params={"survey_id": survey_id}, headers=owner.headers).json()
    number = results["questions"][3]
    assert number["count"] == 1
    assert number["min"] == 0
    assert number["max"] == 0
    assert number["average"] == 0
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"]["q4"] == 0


def test_create_negative_zero_max_responses_is_bad_request(stack: StackUnderTest, owner: User) -> None:
    raw = '{"title": "T", "questions": [{"type": "text", "text": "Q"}], "max_responses": -0}'
    response = stack.post("/survey/create", data=raw, headers={**owner.headers, "Content-Type": "application/json"})
    error = assert_client_error(response, 400, "bad_request")
    assert "max_responses" in error["message"]


# (case, PATCH body, field the error must name)
INVALID_CHANGES: list[tuple[str, dict[str, Any], str]] = [
    ("max_responses as string", {"max_responses": "10"}, "max_responses"),
    ("max_responses as boolean", {"max_responses": True}, "max_responses"),
    ("max_responses as float", {"max_responses": 10.5}, "max_responses"),
    ("status as boolean", {"status": False}, "status"),
    ("title as number", {"title": 42}, "title"),
    ("closes_at as number", {"closes_at": 1_900_000_000}, "closes_at"),
    ("closes_at without zone", {"closes_at": "2030-01-01T00:00:00"}, "closes_at"),
    ("closes_at invalid date", {"closes_at": "2030-02-30T00:00:00Z"}, "closes_at"),
    ("closes_at in Arabic-Indic digits", {"closes_at": "٢٠٣٠-01-01T00:00:00Z"}, "closes_at"),
    ("closes_at in full-width digits", {"closes_at": "２０３０-01-01T00:00:00Z"}, "closes_at"),
    ("duplicate question ids", {"questions": [{"id": "a", **TEXT_QUESTION}, {"id": "a", **TEXT_QUESTION}]}, "questions[1].id"),
    ("question id with slash", {"questions": [{"id": "a/b", **TEXT_QUESTION}]}, "questions[0].id"),
    ("rating min as string", {"questions": [{"type": "rating", "text": "Q", "min": "0"}]}, "questions[0].min"),
    ("text max_length as boolean", {"questions": [{**TEXT_QUESTION, "max_length": True}]}, "questions[0].max_length"),
    ("required as string", {"questions": [{**TEXT_QUESTION, "required": "true"}]}, "questions[0].required"),
    ("only unknown fields", {"owner_sub": "someone-else", "response_count": 0}, "changes nothing"),
    ("empty object", {}, "changes nothing"),
]


@pytest.mark.parametrize(("case", "changes", "field"), INVALID_CHANGES, ids=[case for case, _, _ in INVALID_CHANGES])
def test_patch_invalid_change_names_field(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    case: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = stack.patch("/survey", params={"survey_id": guarded.survey_id}, json=changes, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r}"
    assert_guarded_unchanged()


@pytest.mark.parametrize("closes_at", ["٢٠٠٠-01-01T00:00:00Z", "2000-01-01T00:00:00.١٢٣Z"], ids=["year", "fraction"])
def test_create_closes_at_non_ascii_digits_rejected(stack: StackUnderTest, owner: User, closes_at: str) -> None:
    # Python's int() reads these digits, but a survey that stored them would never close.
    response = stack.post("/survey/create", json={**SAMPLE_SURVEY, "closes_at": closes_at}, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert "closes_at" in error["message"]


def test_create_question_ids_differing_in_case_are_distinct(stack: StackUnderTest, owner: User) -> None:
    document = {"title": "T", "questions": [{"id": "Q1", **TEXT_QUESTION}, {"id": "q1", **TEXT_QUESTION}]}
    response = stack.post("/survey/create", json=document, headers=owner.headers)
    assert response.status_code == 201, response.text
    assert [question["id"] for question in response.json()["questions"]] == ["Q1", "q1"]


def test_create_missing_id_skips_taken_ids(stack: StackUnderTest, owner: User) -> None:
    # The second question would get q2 by position, which the third one already uses.
    document = {"title": "T", "questions": [{"id": "q1", **TEXT_QUESTION}, TEXT_QUESTION, {"id": "q2", **TEXT_QUESTION}]}
    response = stack.post("/survey/create", json=document, headers=owner.headers)
    assert response.status_code == 201, response.text
    ids = [question["id"] for question in response.json()["questions"]]
    assert len(set(ids)) == 3, ids


# --- Unknown fields and duplicate keys ------------------------------------------


def test_create_unknown_fields_are_ignored(stack: StackUnderTest, owner: User) -> None:
    forged_id = str(uuid.uuid4())
    document = copy.deepcopy(SAMPLE_SURVEY)
    document.update(
        {"survey_id": forged_id, "owner_sub": "someone-else", "owner_email": "x@example.com", "status": "closed",
         "response_count": 99, "created_at": "2000-01-01T00:00:00.000Z", "questions_version": 7,
         "x_unknown": {"nested": ["value"]}}
    )
    document["questions"][0]["x_secret"] = "hidden"
    document["questions"][4]["options"] = ["ignored", "for text"]
    created = stack.post("/survey/create", json=document, headers=owner.headers)
    assert created.status_code == 201, created.text
    survey = created.json()
    fetched = stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers)

    for text in (created.text, fetched.text):
        for unknown in ("someone-else", "x_unknown", "x_secret", "hidden", "questions_version", "ignored"):
            assert unknown not in text
    assert survey["survey_id"] != forged_id
    assert survey["status"] == "open"
    assert survey["response_count"] == 0
    assert survey["created_at"] != "2000-01-01T00:00:00.000Z"
    assert "options" not in survey["questions"][4]


def test_patch_unknown_fields_are_ignored(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    changes = {"title": "Renamed", "owner_sub": "someone-else", "survey_id": str(uuid.uuid4()), "response_count": 50,
               "created_at": "2000-01-01T00:00:00.000Z", "x_unknown": True}
    response = stack.patch("/survey", params={"survey_id": survey_id}, json=changes, headers=owner.headers)
    assert response.status_code == 200, response.text
    survey = response.json()
    assert survey["title"] == "Renamed"
    assert survey["survey_id"] == survey_id
    assert survey["response_count"] == 0
    assert survey["created_at"] != "2000-01-01T00:00:00.000Z"
    assert "x_unknown" not in response.text
    assert "someone-else" not in response.text


def test_respond_unknown_fields_are_ignored(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    body = {"survey_id": survey_id, "answers": SAMPLE_ANSWERS, "response_id": "forged",
            "submitted_at": "2000-01-01T00:00:00.000Z", "x_unknown": [1, 2]}
    response = stack.post("/survey/respond", json=body)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"response_id"}
    assert response.json()["response_id"] != "forged"
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    stored = listed["responses"][0]
    assert set(stored) == {"response_id", "submitted_at", "answers"}
    assert stored["submitted_at"] != "2000-01-01T00:00:00.000Z"
    assert stored["answers"] == SAMPLE_ANSWERS


def test_create_duplicate_keys_keep_last_value(stack: StackUnderTest, owner: User) -> None:
    raw = '{"title": "first", "title": "second", "questions": [{"type": "text", "text": "A", "text": "B"}]}'
    response = stack.post("/survey/create", data=raw, headers={**owner.headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    survey = response.json()
    assert survey["title"] == "second"
    assert survey["questions"][0]["text"] == "B"
    fetched = stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert fetched["title"] == "second"


def test_respond_duplicate_survey_id_key_uses_last(
    stack: StackUnderTest, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None]
) -> None:
    # The frontend and the backend must agree on which survey_id counts: the last one, an unknown survey.
    unknown = str(uuid.uuid4())
    raw = '{"survey_id": "%s", "answers": %s, "survey_id": "%s"}' % (guarded.survey_id, json.dumps(SAMPLE_ANSWERS), unknown)
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert_client_error(response, 404, "not_found")
    assert_guarded_unchanged()


def test_respond_duplicate_answer_key_uses_last(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    raw = '{"survey_id": "%s", "answers": {"q1": "Yes", "q3": 4, "q1": "No"}}' % survey_id
    response = stack.post("/survey/respond", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"] == {"q1": "No", "q3": 4}


# --- Null and empty strings --------------------------------------------------

# (route, body, field the error must name). Each body is valid but for one null or empty value.
REJECTED_NULLS_AND_EMPTIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("signup email null", "/auth/signup", {"email": None, "password": TEST_PASSWORD}, "email"),
    ("signup password null", "/auth/signup", {"email": "n@example.com", "password": None}, "password"),
    ("signup email empty", "/auth/signup", {"email": "", "password": TEST_PASSWORD}, "email"),
    ("signup password empty", "/auth/signup", {"email": "n@example.com", "password": ""}, "password"),
    ("confirm email null", "/auth/confirm", {"email": None, "code": "123456"}, "email"),
    ("confirm code null", "/auth/confirm", {"email": "n@example.com", "code": None}, "code"),
    ("confirm code empty", "/auth/confirm", {"email": "n@example.com", "code": ""}, "code"),
    ("login email null", "/auth/login", {"email": None, "password": TEST_PASSWORD}, "email"),
    ("login password null", "/auth/login", {"email": "n@example.com", "password": None}, "password"),
    ("login password empty", "/auth/login", {"email": "n@example.com", "password": ""}, "password"),
    ("alias login email empty", "/flask/login", {"email": "", "password": TEST_PASSWORD}, "email"),
    ("refresh token null", "/auth/refresh", {"refresh_token": None}, "refresh_token"),
    ("refresh token empty", "/auth/refresh", {"refresh_token": ""}, "refresh_token"),
    ("create title null", "/survey/create", {"title": None, "questions": [TEXT_QUESTION]}, "title"),
    ("create title blank", "/survey/create", {"title": "   ", "questions": [TEXT_QUESTION]}, "title"),
    ("create questions null", "/survey/create", {"title": "T", "questions": None}, "questions"),
    ("create question type null", "/survey/create", {"title": "T", "questions": [{"type": None, "text": "Q"}]}, "questions[0].type"),
    ("create question text null", "/survey/create", {"title": "T", "questions": [{"type": "text", "text": None}]}, "questions[0].text"),
    ("create question required null", "/survey/create", {"title": "T", "questions": [{**TEXT_QUESTION, "required": None}]}, "questions[0].required"),
    ("create options null", "/survey/create", {"title": "T", "questions": [{"type": "single_choice", "text": "Q", "options": None}]}, "questions[0].options"),
    ("create option null", "/survey/create", {"title": "T", "questions": [{"type": "single_choice", "text": "Q", "options": ["A", None]}]}, "questions[0].options[1]"),
    ("create rating min null", "/survey/create", {"title": "T", "questions": [{"type": "rating", "text": "Q", "min": None}]}, "questions[0].min"),
    ("create max_length null", "/survey/create", {"title": "T", "questions": [{**TEXT_QUESTION, "max_length": None}]}, "questions[0].max_length"),
    ("create closes_at empty", "/survey/create", {"title": "T", "questions": [TEXT_QUESTION], "closes_at": ""}, "closes_at"),
    ("create question id empty", "/survey/create", {"title": "T", "questions": [{"id": "", **TEXT_QUESTION}]}, "questions[0].id"),
]


@pytest.mark.parametrize(
    ("case", "path", "body", "field"), REJECTED_NULLS_AND_EMPTIES, ids=[case for case, _, _, _ in REJECTED_NULLS_AND_EMPTIES]
)
def test_null_or_empty_field_is_bad_request(
    stack: StackUnderTest, owner: User, case: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = stack.post(path, json=body, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r}"


# (case, PATCH body, field the error must name)
REJECTED_NULL_CHANGES: list[tuple[str, dict[str, Any], str]] = [
    ("title null", {"title": None}, "title"),
    ("title empty", {"title": ""}, "title"),
    ("status null", {"status": None}, "status"),
    ("status empty", {"status": ""}, "status"),
    ("questions null", {"questions": None}, "questions"),
    ("closes_at empty", {"closes_at": ""}, "closes_at"),
]


@pytest.mark.parametrize(("case", "changes", "field"), REJECTED_NULL_CHANGES, ids=[case for case, _, _ in REJECTED_NULL_CHANGES])
def test_patch_null_or_empty_field_is_bad_request(
    stack: StackUnderTest,
    owner: User,
    guarded: GuardedSurvey,
    assert_guarded_unchanged: Callable[[], None],
    case: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = stack.patch("/survey", params={"survey_id": guarded.survey_id}, json=changes, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r}"
    assert_guarded_unchanged()


@pytest.mark.parametrize(
    "body",
    [{"survey_id": None, "answers": SAMPLE_ANSWERS}, {"survey_id": "", "answers": SAMPLE_ANSWERS},
     {"survey_id": "GUARDED", "answers": None}, {"survey_id": "GUARDED", "answers": ""},
     {"survey_id": "GUARDED", "answers": {"": "Yes", **SAMPLE_ANSWERS}}],
    ids=["survey_id null", "survey_id empty", "answers null", "answers empty string", "empty question id"],
)
def test_respond_null_or_empty_field_is_bad_request(
    stack: StackUnderTest, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None], body: dict[str, Any]
) -> None:
    body = {**body, "survey_id": guarded.survey_id} if body["survey_id"] == "GUARDED" else body
    response = stack.post("/survey/respond", json=body)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()


def test_create_accepted_nulls_mean_absent(stack: StackUnderTest, owner: User) -> None:
    # api/openapi.yaml marks these fields nullable, and null means the same as a missing field.
    document = {
        "title": "Nulls",
        "description": None,
        "closes_at": None,
        "max_responses": None,
        "questions": [{"id": None, "type": "number", "text": "Q", "min": None, "max": None}],
    }
    response = stack.post("/survey/create", json=document, headers=owner.headers)
    assert response.status_code == 201, response.text
    survey = response.json()
    assert survey["description"] == ""
    assert survey["closes_at"] is None
    assert survey["max_responses"] is None
    assert survey["questions"][0]["id"] == "q1"
    assert survey["questions"][0]["min"] is None
    assert survey["questions"][0]["max"] is None


def test_patch_accepted_nulls_clear_fields(stack: StackUnderTest, owner: User) -> None:
    created = stack.post(
        "/survey/create",
        json={**SAMPLE_SURVEY, "closes_at": "2099-01-01T00:00:00Z", "max_responses": 5},
        headers=owner.headers,
    )
    survey_id = created.json()["survey_id"]
    changes = {"description": None, "closes_at": None, "max_responses": None}
    response = stack.patch("/survey", params={"survey_id": survey_id}, json=changes, headers=owner.headers)
    assert response.status_code == 200, response.text
    survey = response.json()
    assert survey["description"] == ""
    assert survey["closes_at"] is None
    assert survey["max_responses"] is None


def test_respond_optional_null_and_empty_are_unanswered(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    answers = {"q1": "Yes", "q2": [], "q3": 4, "q4": None, "q5": ""}
    response = stack.post("/survey/respond", json={"survey_id": survey_id, "answers": answers})
    assert response.status_code == 201, response.text
    listed = stack.get("/survey/responses", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"] == {"q1": "Yes", "q3": 4}
    results = stack.get("/survey/results", params={"survey_id": survey_id}, headers=owner.headers).json()
    assert [question["answered"] for question in results["questions"]] == [1, 0, 1, 0, 0]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/survey", "survey_id"), ("/survey/public", "survey_id"), ("/surveys", "limit"), ("/surveys", "next_token"),
     ("/template", "name"), ("/survey/export", "format"), ("/survey/responses", "limit")],
)
def test_query_empty_value_is_bad_request(stack: StackUnderTest, owner: User, guarded: GuardedSurvey, path: str, name: str) -> None:
    params = {name: ""}
    if name != "survey_id" and path.startswith("/survey/"):
        params["survey_id"] = guarded.survey_id
    response = stack.get(path, params=params, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert name in error["message"]


# --- Query parameter forms ------------------------------------------------------


@pytest.mark.parametrize("limit", ["1e2", "1E1", "10.0", "0x10", "+5", " 5", "5 ", "١٠"])
@pytest.mark.parametrize("path", ["/surveys", "/survey/responses"])
def test_limit_not_plain_integer_is_bad_request(
    stack: StackUnderTest, owner: User, guarded: GuardedSurvey, path: str, limit: str
) -> None:
    # "١٠" is 10 in Arabic-Indic digits, which Python's int() would accept.
    params = {"limit": limit, "survey_id": guarded.survey_id} if path == "/survey/responses" else {"limit": limit}
    response = stack.get(path, params=params, headers=owner.headers)
    error = assert_client_error(response, 400, "bad_request")
    assert "limit" in error["message"]


@pytest.mark.parametrize("path", SURVEY_READ_ROUTES)
def test_uppercase_survey_id_reaches_survey(stack: StackUnderTest, owner: User, guarded: GuardedSurvey, path: str) -> None:
    response = stack.get(path, params={"survey_id": guarded.survey_id.upper()}, headers=owner.headers)
    assert response.status_code == 200, response.text
    if path in ("/survey", "/survey/public", "/survey/results"):
        assert response.json()["survey_id"] == guarded.survey_id


def test_uppercase_survey_id_writes_same_survey(stack: StackUnderTest, owner: User, new_survey: Callable[..., str]) -> None:
    survey_id = new_survey()
    upper = survey_id.upper()
    submitted = stack.post("/survey/respond", json={"survey_id": upper, "answers": SAMPLE_ANSWERS})
    assert submitted.status_code == 201, submitted.text
    patched = stack.patch("/survey", params={"survey_id": upper}, json={"title": "Upper"}, headers=owner.headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["survey_id"] == survey_id
    assert patched.json()["response_count"] == 1
    deleted = stack.delete("/survey", params={"survey_id": upper}, headers=owner.headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["survey_id"] == survey_id
    assert deleted.json()["responses_deleted"] == 1
    assert stack.get("/survey", params={"survey_id": survey_id}, headers=owner.headers).status_code == 404


@pytest.mark.parametrize("path", SURVEY_READ_ROUTES)
def test_repeated_query_parameter_uses_last(stack: StackUnderTest, owner: User, guarded: GuardedSurvey, path: str) -> None:
    # API Gateway's queryStringParameters keeps the last value of a repeated parameter.
    last_valid = stack.get(f"{path}?survey_id=not-a-uuid&survey_id={guarded.survey_id}", headers=owner.headers)
    assert last_valid.status_code == 200, last_valid.text
    last_invalid = stack.get(f"{path}?survey_id={guarded.survey_id}&survey_id=not-a-uuid", headers=owner.headers)
    assert_client_error(last_invalid, 400, "bad_request")


def test_repeated_limit_uses_last(stack: StackUnderTest, owner: User) -> None:
    accepted = stack.get("/surveys?limit=500&limit=5", headers=owner.headers)
    assert accepted.status_code == 200, accepted.text
    rejected = stack.get("/surveys?limit=5&limit=500", headers=owner.headers)
    assert_client_error(rejected, 400, "bad_request")


def test_delete_repeated_survey_id_keeps_survey(
    stack: StackUnderTest, owner: User, guarded: GuardedSurvey, assert_guarded_unchanged: Callable[[], None]
) -> None:
    response = stack.delete(f"/survey?survey_id={guarded.survey_id}&survey_id=not-a-uuid", headers=owner.headers)
    assert_client_error(response, 400, "bad_request")
    assert_guarded_unchanged()
