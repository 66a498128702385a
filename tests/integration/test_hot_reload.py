"""Hot reload over HTTP: an edit of a copy of the functions' code takes effect without a restart."""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.offline import REPO_ROOT, start_offline_stack, stop_process

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SURVEY_API_URL")), reason="hot reload is a feature of the offline stack"
)

# How long a test waits for an edit to show in responses. Hot reload polls every 0.3 s,
# so this leaves room for a cold worker start on a loaded machine.
RELOAD_DEADLINE_SECONDS = 30
ORIGINAL_MESSAGE = 'raise NotFound(f"No route matches {path[:200]}.")'
EDITED_MESSAGE = 'raise NotFound(f"No route matches {path[:200]} (edited).")'


@pytest.fixture(scope="module")
def services_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("hot-reload") / "services"
    shutil.copytree(REPO_ROOT / "services", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@pytest.fixture(scope="module")
def reload_stack(services_copy: Path) -> Iterator[dict[str, Any]]:
    process, edge_url, log_path = start_offline_stack("hot-reload", ["--services-dir", str(services_copy)])
    try:
        outputs = requests.get(f"{edge_url}/_local/outputs", timeout=10).json()
        yield {"api_url": outputs["api_url"], "log_path": log_path}
    finally:
        stop_process(process)


def wait_for(request: Callable[[], requests.Response], done: Callable[[requests.Response], bool]) -> requests.Response:
    """Repeat a request until `done` accepts the response or the deadline passes; return the last response."""
    deadline = time.monotonic() + RELOAD_DEADLINE_SECONDS
    response = request()
    while not done(response) and time.monotonic() < deadline:
        time.sleep(0.2)
        response = request()
    return response


def test_hot_reload_edit_syntax_error_and_fix(reload_stack: dict[str, Any], services_copy: Path) -> None:
    app_file = services_copy / "frontend_fn" / "frontend_fn" / "app.py"
    source = app_file.read_text()
    assert ORIGINAL_MESSAGE in source

    def unknown_route() -> requests.Response:
        return requests.get(f"{reload_stack['api_url']}/no-such-route", timeout=30)

    first = unknown_route()
    assert first.status_code == 404
    assert first.json()["message"] == "No route matches /no-such-route."

    edited_source = source.replace(ORIGINAL_MESSAGE, EDITED_MESSAGE)
    app_file.write_text(edited_source)
    edited = wait_for(unknown_route, lambda response: "(edited)" in response.text)
    assert edited.status_code == 404
    assert edited.json()["message"] == "No route matches /no-such-route (edited)."
    log = reload_stack["log_path"].read_text(errors="replace")
    assert "Reloaded survey-frontend (changed: frontend_fn/app.py)" in log

    app_file.write_text(edited_source + "\ndef broken(:\n")
    broken = wait_for(unknown_route, lambda response: response.status_code == 502)
    assert broken.status_code == 502
    body = broken.json()
    assert body["error"] == "bad_gateway"
    assert "syntax error" in body["message"]
    assert "Traceback" not in broken.text
    assert str(services_copy) not in broken.text

    app_file.write_text(edited_source)
    fixed = wait_for(unknown_route, lambda response: response.status_code == 404)
    assert fixed.status_code == 404
    assert fixed.json()["message"] == "No route matches /no-such-route (edited)."


def test_hot_reload_leaves_repository_untouched(reload_stack: dict[str, Any], services_copy: Path) -> None:
    repository_source = (REPO_ROOT / "services" / "frontend_fn" / "frontend_fn" / "app.py").read_text()
    assert ORIGINAL_MESSAGE in repository_source
    assert services_copy != REPO_ROOT / "services"
