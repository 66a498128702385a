"""Template routes against moto's in-process S3, and the shipped templates against the contract's rules."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from frontend_fn import app
from frontend_fn.templates import CACHE_TTL_SECONDS, TemplateStore
from frontend_fn.validation import TEMPLATE_NAME_PATTERN

from .helpers import BUCKET, REGION, REPO_ROOT, FakeClock, load_event, response_json, with_token

TEMPLATES_DIR = REPO_ROOT / "infra" / "templates"
TEMPLATE_FILES = sorted(TEMPLATES_DIR.glob("*.json"))
QUESTION_TYPES = {"single_choice", "multiple_choice", "rating", "number", "text"}


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        for path in TEMPLATE_FILES:
            client.put_object(Bucket=BUCKET, Key=f"templates/{path.name}", Body=path.read_bytes())
        yield client


@pytest.fixture
def store_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def template_deps(deps, s3, store_clock):
    deps.templates = TemplateStore(s3, BUCKET, "templates/", clock=store_clock)
    return deps


def _list_event(token: str) -> dict:
    event = load_event("apigw_get_template", resource="/templates", path="/templates", queryStringParameters=None)
    return with_token(event, token)


def _get_event(token: str, name: str) -> dict:
    return with_token(load_event("apigw_get_template", queryStringParameters={"name": name}), token)


def test_list_templates_sorted_with_titles(template_deps, make_token):
    response = app.handle_event(_list_event(make_token()), template_deps)
    assert response["statusCode"] == 200
    templates = response_json(response)["templates"]
    expected_names = sorted(path.stem for path in TEMPLATE_FILES)
    assert [item["name"] for item in templates] == expected_names
    titles = {path.stem: json.loads(path.read_text())["title"] for path in TEMPLATE_FILES}
    assert all(item["title"] == titles[item["name"]] for item in templates)


def test_list_templates_requires_token(template_deps):
    event = with_token(load_event("apigw_get_template", resource="/templates", path="/templates"), None)
    assert app.handle_event(event, template_deps)["statusCode"] == 401


def test_list_templates_skips_other_and_invalid_objects(template_deps, s3, make_token):
    s3.put_object(Bucket=BUCKET, Key="templates/notes.txt", Body=b"not a template")
    s3.put_object(Bucket=BUCKET, Key="templates/Upper-Case.json", Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="templates/nested/inner.json", Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="templates/broken.json", Body=b"{not json")
    s3.put_object(Bucket=BUCKET, Key="other/outside.json", Body=b'{"title": "x", "questions": []}')
    response = app.handle_event(_list_event(make_token()), template_deps)
    names = [item["name"] for item in response_json(response)["templates"]]
    assert names == sorted(path.stem for path in TEMPLATE_FILES)


def test_get_template_returns_content(template_deps, make_token):
    response = app.handle_event(_get_event(make_token(), "customer-satisfaction"), template_deps)
    assert response["statusCode"] == 200
    body = response_json(response)
    stored = json.loads((TEMPLATES_DIR / "customer-satisfaction.json").read_text())
    assert body == {"name": "customer-satisfaction", "title": stored["title"],
                    "description": stored["description"], "questions": stored["questions"]}


def test_get_unknown_template_is_404(template_deps, make_token):
    response = app.handle_event(_get_event(make_token(), "no-such-template"), template_deps)
    assert response["statusCode"] == 404
    assert response_json(response)["error"] == "not_found"


def test_get_invalid_stored_template_is_500(template_deps, s3, make_token):
    s3.put_object(Bucket=BUCKET, Key="templates/broken.json", Body=b'{"title": 5}')
    response = app.handle_event(_get_event(make_token(), "broken"), template_deps)
    assert response["statusCode"] == 500
    assert response_json(response)["error"] == "internal"


def test_get_template_cached_until_ttl(template_deps, s3, store_clock, make_token):
    token = make_token()
    assert app.handle_event(_get_event(token, "event-feedback"), template_deps)["statusCode"] == 200
    s3.delete_object(Bucket=BUCKET, Key="templates/event-feedback.json")
    assert app.handle_event(_get_event(token, "event-feedback"), template_deps)["statusCode"] == 200
    store_clock.advance(CACHE_TTL_SECONDS + 1)
    assert app.handle_event(_get_event(token, "event-feedback"), template_deps)["statusCode"] == 404


def test_list_templates_cached_until_ttl(template_deps, s3, store_clock, make_token):
    token = make_token()
    before = response_json(app.handle_event(_list_event(token), template_deps))["templates"]
    s3.put_object(Bucket=BUCKET, Key="templates/added-later.json", Body=b'{"title": "Added", "questions": []}')
    cached = response_json(app.handle_event(_list_event(token), template_deps))["templates"]
    assert cached == before
    store_clock.advance(CACHE_TTL_SECONDS + 1)
    refreshed = response_json(app.handle_event(_list_event(token), template_deps))["templates"]
    assert "added-later" in [item["name"] for item in refreshed]


def test_missing_bucket_is_502(deps, make_token):
    with mock_aws():
        deps.templates = TemplateStore(boto3.client("s3", region_name=REGION), "no-such-bucket", "templates/")
        response = app.handle_event(_list_event(make_token()), deps)
    assert response["statusCode"] == 502
    assert "no-such-bucket" not in response["body"]


# The shipped templates


def _question_errors(index: int, question: dict[str, Any]) -> list[str]:
    """Return the contract's question rules that `question` breaks."""
    where = f"questions[{index}]"
    errors = []
    if question.get("type") not in QUESTION_TYPES:
        return [f"{where}.type"]
    text = question.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= 500:
        errors.append(f"{where}.text")
    if not isinstance(question.get("required", False), bool):
        errors.append(f"{where}.required")
    kind = question["type"]
    if kind in ("single_choice", "multiple_choice"):
        options = question.get("options")
        if (not isinstance(options, list) or not 2 <= len(options) <= 50
                or not all(isinstance(option, str) and option.strip() for option in options)
                or len(set(options)) != len(options)):
            errors.append(f"{where}.options")
    elif kind == "rating":
        low, high = question.get("min", 1), question.get("max", 5)
        if not (type(low) is int and type(high) is int and 0 <= low < high <= 10):
            errors.append(f"{where}.min/max")
    elif kind == "number":
        low, high = question.get("min"), question.get("max")
        if low is not None and high is not None and not low < high:
            errors.append(f"{where}.min/max")
    elif kind == "text":
        max_length = question.get("max_length", 2000)
        if not (type(max_length) is int and 1 <= max_length <= 5000):
            errors.append(f"{where}.max_length")
    return errors


def test_shipped_templates_at_least_three():
    assert len(TEMPLATE_FILES) >= 3


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda path: path.stem)
def test_shipped_template_follows_contract(path: Path):
    template = json.loads(path.read_text())
    assert isinstance(template["title"], str)
    assert 1 <= len(template["title"]) <= 200
    assert len(template.get("description", "")) <= 2000
    questions = template["questions"]
    assert 1 <= len(questions) <= 100
    errors = [error for index, question in enumerate(questions) for error in _question_errors(index, question)]
    assert errors == []
    ids = [question["id"] for question in questions if "id" in question]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda path: path.stem)
def test_shipped_template_uses_several_types(path: Path):
    questions = json.loads(path.read_text())["questions"]
    assert len({question["type"] for question in questions}) >= 3


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda path: path.stem)
def test_shipped_template_name_is_valid(path: Path):
    assert TEMPLATE_NAME_PATTERN.fullmatch(path.stem)


def test_question_rules_catch_bad_rating():
    assert _question_errors(0, {"type": "rating", "text": "x", "min": 5, "max": 5}) == ["questions[0].min/max"]
