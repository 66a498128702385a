"""Template routes: read from the private bucket through the API only."""
from __future__ import annotations

import pytest

from tests.integration.conftest import assert_error
from tests.support.stack import StackUnderTest, User


def test_templates_lists_at_least_three(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/templates", headers=owner.headers)
    assert response.status_code == 200, response.text
    templates = response.json()["templates"]
    assert len(templates) >= 3
    for template in templates:
        assert set(template) == {"name", "title"}


def test_each_template_creates_a_survey(stack: StackUnderTest, owner: User) -> None:
    for summary in stack.get("/templates", headers=owner.headers).json()["templates"]:
        response = stack.get("/template", params={"name": summary["name"]}, headers=owner.headers)
        assert response.status_code == 200, response.text
        template = response.json()
        assert set(template) == {"name", "title", "description", "questions"}
        assert template["title"] == summary["title"]
        created = stack.post(
            "/survey/create",
            json={"title": template["title"], "description": template["description"], "questions": template["questions"]},
            headers=owner.headers,
        )
        assert created.status_code == 201, f"{summary['name']}: {created.text}"


def test_templates_need_a_token(stack: StackUnderTest) -> None:
    assert_error(stack.get("/templates"), 401, "unauthorized")
    assert_error(stack.get("/template", params={"name": "customer-satisfaction"}), 401, "unauthorized")


def test_unknown_template_is_not_found(stack: StackUnderTest, owner: User) -> None:
    assert_error(stack.get("/template", params={"name": "no-such-template"}, headers=owner.headers), 404, "not_found")


@pytest.mark.parametrize(
    "name",
    ["../x", "%2e%2e/x", "..%2fx", "/etc/passwd", "templates/x", "UPPER", "a" * 65, "", "x.json", "a b"],
)
def test_template_name_outside_pattern_is_bad_request(stack: StackUnderTest, owner: User, name: str) -> None:
    body = assert_error(stack.get("/template", params={"name": name}, headers=owner.headers), 400, "bad_request")
    assert "name" in body["message"]
