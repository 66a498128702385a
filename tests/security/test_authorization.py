"""Owner data stays with its owner: other users, respondents, the edge and the website see none of it.

tests/integration/test_isolation.py covers the owner routes with an ID token. This
module adds access tokens, the export formats and paging, a full before-and-after
comparison, the respondent routes, the listing, and the private bucket.
"""
from __future__ import annotations

import http.client
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.security.conftest import ANSWERS, assert_contract_error, survey_state
from tests.security.support import unverified_parts
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

PUBLIC_VIEW_FIELDS = {"survey_id", "title", "description", "questions", "status", "closes_at"}
SUMMARY_FIELDS = {"survey_id", "title", "status", "created_at", "response_count"}

OWNER_REQUESTS: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("GET", "/survey", {}, None),
    ("PATCH", "/survey", {}, {"title": "Hijacked"}),
    ("PATCH", "/survey", {}, {"status": "closed"}),
    ("PATCH", "/survey", {}, {"max_responses": 1, "closes_at": "2020-01-01T00:00:00.000Z"}),
    ("DELETE", "/survey", {}, None),
    ("GET", "/survey/responses", {}, None),
    ("GET", "/survey/responses", {"limit": 1}, None),
    ("GET", "/survey/results", {}, None),
    ("GET", "/survey/export", {"format": "csv"}, None),
    ("GET", "/survey/export", {"format": "json"}, None),
]


def owner_secrets(owner: User, survey: dict[str, Any]) -> list[str]:
    """Return strings that only the owner may see: identity, private survey text and the answers."""
    return [
        owner.email,
        unverified_parts(owner.id_token)[1]["sub"],
        survey["title"],
        survey["description"],
        ANSWERS["q4"],
    ]


@pytest.mark.parametrize("token_kind", ["id_token", "access_token"])
@pytest.mark.parametrize(
    ("method", "path", "params", "body"), OWNER_REQUESTS, ids=[f"{m} {p} {q}" for m, p, q, _ in OWNER_REQUESTS]
)
def test_intruder_owner_route_changes_nothing(
    stack: StackUnderTest,
    owner: User,
    intruder: User,
    create_survey: Callable[..., dict],
    submit: Callable[..., Any],
    method: str,
    path: str,
    params: dict[str, Any],
    body: dict[str, Any] | None,
    token_kind: str,
) -> None:
    survey = create_survey()
    survey_id = survey["survey_id"]
    assert submit(survey_id).status_code == 201
    before = survey_state(stack, owner, survey_id)

    headers = {"Authorization": f"Bearer {getattr(intruder, token_kind)}"}
    response = stack.request(method, path, params={"survey_id": survey_id, **params}, json=body, headers=headers)
    assert response.status_code in (403, 404), response.text
    assert response.json()["error"] in ("forbidden", "not_found")
    for secret in owner_secrets(owner, survey):
        assert secret not in response.text

    assert survey_state(stack, owner, survey_id) == before


def test_intruder_listing_excludes_owner_surveys(
    stack: StackUnderTest, owner: User, intruder: User, create_survey: Callable[..., dict]
) -> None:
    mine = {create_survey()["survey_id"] for _ in range(3)}
    theirs = {create_survey(user=intruder)["survey_id"] for _ in range(3)}

    for user, own, foreign in ((owner, mine, theirs), (intruder, theirs, mine)):
        listed = list_all_surveys(stack, user, limit=1) + list_all_surveys(stack, user, limit=100)
        listed_ids = {summary["survey_id"] for summary in listed}
        assert own <= listed_ids
        assert not listed_ids & foreign
        for summary in listed:
            assert set(summary) == SUMMARY_FIELDS


def list_all_surveys(stack: StackUnderTest, user: User, limit: int) -> list[dict[str, Any]]:
    surveys: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = stack.get("/surveys", params=params, headers=user.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        surveys.extend(body["surveys"])
        if body["next_token"] is None:
            return surveys
        params["next_token"] = body["next_token"]


def test_intruder_responses_token_is_rejected(
    stack: StackUnderTest, owner: User, intruder: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    # A page token of the owner's responses, replayed on the intruder's own survey, must not page into the owner's.
    owned = create_survey()["survey_id"]
    for _ in range(2):
        assert submit(owned).status_code == 201
    page = stack.get("/survey/responses", params={"survey_id": owned, "limit": 1}, headers=owner.headers).json()
    assert page["next_token"]

    their_own = create_survey(user=intruder)["survey_id"]
    response = stack.get(
        "/survey/responses",
        params={"survey_id": their_own, "limit": 1, "next_token": page["next_token"]},
        headers=intruder.headers,
    )
    assert_contract_error(response, 400, "bad_request")
    assert ANSWERS["q4"] not in response.text


def test_public_view_shows_no_owner_data(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    survey = create_survey()
    assert submit(survey["survey_id"]).status_code == 201
    response = stack.get("/survey/public", params={"survey_id": survey["survey_id"]})
    assert response.status_code == 200, response.text
    assert set(response.json()) == PUBLIC_VIEW_FIELDS
    for secret in (owner.email, unverified_parts(owner.id_token)[1]["sub"], ANSWERS["q4"], "response_count"):
        assert secret not in response.text


def test_respond_returns_only_response_id(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    survey = create_survey()
    assert submit(survey["survey_id"]).status_code == 201
    response = submit(survey["survey_id"], key=f"key-{uuid.uuid4().hex}")
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"response_id"}
    for secret in (owner.email, ANSWERS["q4"], survey["description"]):
        assert secret not in response.text


@pytest.mark.parametrize(
    "case", ["closed", "full", "invalid answer", "unknown question", "missing answer"]
)
def test_respondent_errors_show_no_owner_data(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any], case: str
) -> None:
    survey = create_survey(max_responses=1) if case == "full" else create_survey()
    survey_id = survey["survey_id"]
    assert submit(survey_id).status_code == 201
    if case == "closed":
        closed = stack.patch("/survey", params={"survey_id": survey_id}, json={"status": "closed"}, headers=owner.headers)
        assert closed.status_code == 200, closed.text
    answers = {
        "closed": ANSWERS,
        "full": ANSWERS,
        "invalid answer": {**ANSWERS, "q1": "Maybe"},
        "unknown question": {**ANSWERS, "q99": "x"},
        "missing answer": {"q3": 1},
    }[case]

    response = submit(survey_id, answers=answers)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "message"}
    for secret in (owner.email, unverified_parts(owner.id_token)[1]["sub"], ANSWERS["q4"]):
        assert secret not in response.text


# --- the private bucket ---------------------------------------------------------------


@pytest.fixture(scope="module")
def template_key_and_title(stack: StackUnderTest, owner: User) -> tuple[str, str]:
    """Return the object key of one template in the private bucket and a text that only its content has."""
    name = stack.get("/templates", headers=owner.headers).json()["templates"][0]["name"]
    template = stack.get("/template", params={"name": name}, headers=owner.headers).json()
    return f"templates/{name}.json", template["questions"][0]["text"]


def raw_get(host: str, port: int, target: str, host_header: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    """Send a request with the target exactly as given: no dot-segment removal, no re-encoding."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host_header or f"{host}:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_private_bucket_anonymous_read_is_denied(
    offline_stack: StackUnderTest, template_key_and_title: tuple[str, str]
) -> None:
    key, marker = template_key_and_title
    bucket = offline_stack.outputs["private_bucket"]
    edge = urlsplit(offline_stack.edge_url)
    assert edge.hostname is not None and edge.port is not None

    requests_to_try = [
        ("GET", f"/{bucket}/{key}", None),
        ("HEAD", f"/{bucket}/{key}", None),
        ("GET", f"/{key}", f"{bucket}.localhost:{edge.port}"),
        ("GET", f"/{key}", f"{bucket}.s3.localhost.localstack.cloud:{edge.port}"),
    ]
    for method, target, host_header in requests_to_try:
        status, body = raw_get(edge.hostname, edge.port, target, host_header, method)
        assert status == 403, f"{method} {target} (Host {host_header}) returned {status}"
        assert marker.encode() not in body


def test_public_bucket_anonymous_read_is_allowed(offline_stack: StackUnderTest) -> None:
    # The control case: anonymous reads work where the bucket policy allows them.
    edge = urlsplit(offline_stack.edge_url)
    assert edge.hostname is not None and edge.port is not None
    status, body = raw_get(edge.hostname, edge.port, f"/{offline_stack.outputs['public_bucket']}/index.html")
    assert status == 200
    assert b"<html" in body.lower()


def website_traversal_targets(stack: StackUnderTest, key: str) -> list[str]:
    bucket = stack.outputs["private_bucket"]
    return [
        f"/../{bucket}/{key}",
        f"/%2e%2e/{bucket}/{key}",
        f"/%2E%2E%2F{bucket}%2F{key.replace('/', '%2F')}",
        f"/..%2f{bucket}/{key}",
        f"/..%5c{bucket}%5c{key}",
        f"/./../../{bucket}/{key}",
        f"//{bucket}/{key}",
        f"/%2f{bucket}/{key}",
        f"/{bucket}/{key}",
        f"/{key}",
        f"{stack.edge_url}/{bucket}/{key}",
        f"http://{bucket}.localhost:{urlsplit(stack.edge_url).port}/{key}",
    ]


def test_website_traversal_stays_in_public_bucket(
    offline_stack: StackUnderTest, template_key_and_title: tuple[str, str]
) -> None:
    key, marker = template_key_and_title
    website = urlsplit(offline_stack.outputs["website_url"])
    assert website.hostname is not None and website.port is not None
    for target in website_traversal_targets(offline_stack, key):
        status, body = raw_get(website.hostname, website.port, target)
        assert status in (400, 404), f"{target} returned {status}"
        assert marker.encode() not in body


def test_website_private_host_header_stays_public(
    offline_stack: StackUnderTest, template_key_and_title: tuple[str, str]
) -> None:
    key, marker = template_key_and_title
    website = urlsplit(offline_stack.outputs["website_url"])
    edge_port = urlsplit(offline_stack.edge_url).port
    assert website.hostname is not None and website.port is not None
    host_header = f"{offline_stack.outputs['private_bucket']}.localhost:{edge_port}"
    status, body = raw_get(website.hostname, website.port, f"/{key}", host_header)
    assert status == 404
    assert marker.encode() not in body


def test_website_serves_index(offline_stack: StackUnderTest) -> None:
    # The control case of the traversal tests: the same client reads the site's own pages.
    response = requests.get(f"{offline_stack.outputs['website_url']}/", timeout=30)
    assert response.status_code == 200
    assert "<html" in response.text.lower()
