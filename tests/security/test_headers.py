"""Security headers of the API's responses and of the website."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.security.conftest import SURVEY
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_PAGES = ["/", "/index.html", "/survey.html", "/edit.html", "/respond.html", "/no-such-page.html"]
STATIC_FILES = {"/config.json": "application/json", "/js/http.js": "javascript", "/favicon.svg": "image/svg+xml"}


def assert_api_headers(response: requests.Response, content_type: str = JSON_CONTENT_TYPE) -> None:
    assert response.headers.get("X-Content-Type-Options") == "nosniff", response.headers
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    assert response.headers.get("Content-Type") == content_type, response.headers


@pytest.fixture
def owned_survey(create_survey: Callable[..., dict], submit: Callable[..., Any]) -> dict[str, Any]:
    survey = create_survey()
    assert submit(survey["survey_id"]).status_code == 201
    return survey


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/auth/me", {}),
        ("/surveys", {}),
        ("/survey", {"survey_id": None}),
        ("/survey/responses", {"survey_id": None}),
        ("/survey/results", {"survey_id": None}),
        ("/survey/export", {"survey_id": None, "format": "json"}),
        ("/templates", {}),
    ],
)
def test_authenticated_json_is_not_cached(
    stack: StackUnderTest, owner: User, owned_survey: dict[str, Any], path: str, params: dict[str, Any]
) -> None:
    query = {name: value if value is not None else owned_survey["survey_id"] for name, value in params.items()}
    response = stack.get(path, params=query, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert_api_headers(response)


def test_csv_export_is_not_cached(stack: StackUnderTest, owner: User, owned_survey: dict[str, Any]) -> None:
    response = stack.get(
        "/survey/export", params={"survey_id": owned_survey["survey_id"], "format": "csv"}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert_api_headers(response, "text/csv; charset=utf-8")


def test_token_responses_are_not_cached(stack: StackUnderTest, owner: User) -> None:
    login = stack.post("/auth/login", json={"email": owner.email, "password": owner.password})
    assert login.status_code == 200, login.text
    assert_api_headers(login)
    refresh = stack.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert refresh.status_code == 200, refresh.text
    assert_api_headers(refresh)


def test_writes_carry_api_headers(stack: StackUnderTest, owner: User, owned_survey: dict[str, Any]) -> None:
    survey_id = owned_survey["survey_id"]
    responses = [
        stack.post("/survey/create", json=SURVEY, headers=owner.headers),
        stack.patch("/survey", params={"survey_id": survey_id}, json={"title": "Renamed"}, headers=owner.headers),
        stack.delete("/survey", params={"survey_id": survey_id}, headers=owner.headers),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert_api_headers(response)


def test_error_responses_carry_api_headers(stack: StackUnderTest, owner: User) -> None:
    responses = [
        stack.get("/surveys"),
        stack.get("/surveys", headers={"Authorization": "Bearer not-a-token"}),
        stack.get("/survey", params={"survey_id": "not-a-uuid"}, headers=owner.headers),
        stack.get("/no/such/route"),
        stack.request("PUT", "/survey/create", headers=owner.headers),
        stack.post("/survey/create", data="title=x", headers={**owner.headers, "Content-Type": "text/plain"}),
        stack.post("/auth/login", json={"email": owner.email, "password": "Wrong-password-1"}),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        assert_api_headers(response)


def test_public_routes_carry_api_headers(stack: StackUnderTest, owned_survey: dict[str, Any], submit: Callable[..., Any]) -> None:
    public = stack.get("/survey/public", params={"survey_id": owned_survey["survey_id"]})
    assert public.status_code == 200, public.text
    assert_api_headers(public)
    submitted = submit(owned_survey["survey_id"])
    assert submitted.status_code == 201, submitted.text
    assert_api_headers(submitted)


# --- website -----------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", HTML_PAGES)
def test_website_pages_carry_csp(offline_stack: StackUnderTest, path: str) -> None:
    response = requests.get(f"{offline_stack.outputs['website_url']}{path}", timeout=30)
    assert response.status_code in (200, 404), response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "no-referrer"

    csp = csp_directives(response.headers.get("Content-Security-Policy", ""))
    assert csp.get("default-src") == ["'self'"]
    assert csp.get("script-src") == ["'self'"]
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("base-uri") == ["'none'"]
    # The browser may call the API, and nothing else off the site.
    api_origin = offline_stack.outputs["api_url"].split("/restapis/", 1)[0]
    assert csp.get("connect-src") == ["'self'", api_origin]


@pytest.mark.parametrize(("path", "content_type"), sorted(STATIC_FILES.items()))
def test_website_files_are_nosniff(offline_stack: StackUnderTest, path: str, content_type: str) -> None:
    response = requests.get(f"{offline_stack.outputs['website_url']}{path}", timeout=30)
    assert response.status_code == 200, response.text
    assert content_type in response.headers["Content-Type"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_website_rejects_writes(offline_stack: StackUnderTest) -> None:
    response = requests.put(f"{offline_stack.outputs['website_url']}/index.html", data="<script>", timeout=30)
    assert response.status_code == 405
    assert response.headers.get("Allow") == "GET, HEAD"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
