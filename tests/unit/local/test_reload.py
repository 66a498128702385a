"""Hot reload: the source watcher, the reloader, and the settings that turn it on and point it elsewhere."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from local.cli import build_parser
from local.config import ConfigError, StackConfig
from local.functions import function_configs
from local.names import StackNames
from local.reload import (
    HotReloader,
    SourceWatcher,
    WatchedFunction,
    changed_paths,
    scan,
    start_hot_reload,
    syntax_error,
)

WAIT_SECONDS = 10


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """A function source folder: frontend_fn/frontend_fn/app.py, like the repository's services/."""
    package = tmp_path / "frontend_fn" / "frontend_fn"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("def handler(event, context):\n    return {}\n")
    return tmp_path / "frontend_fn"


@pytest.fixture
def function(source_dir: Path) -> WatchedFunction:
    return WatchedFunction(name="survey-frontend", package_dir=source_dir / "frontend_fn", display_root=source_dir)


def touch(path: Path, text: str) -> None:
    """Write a file and move its mtime forward, so the change shows even on a coarse clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


class FakeRuntime:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.prewarmed = threading.Event()

    def recycle(self, function_name: str) -> None:
        self.calls.append(("recycle", function_name))

    def prewarm(self, function_name: str) -> None:
        self.calls.append(("prewarm", function_name))
        self.prewarmed.set()


# --- scanning -----------------------------------------------------------------------------


def test_scan_lists_package_files(source_dir: Path) -> None:
    snapshot = scan(source_dir / "frontend_fn", source_dir)
    assert sorted(snapshot) == ["frontend_fn/__init__.py", "frontend_fn/app.py"]


def test_scan_skips_caches_and_editor_files(source_dir: Path) -> None:
    package = source_dir / "frontend_fn"
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    for name in ("app.py~", ".app.py.swp", "#app.py#", "stale.pyc", ".hidden"):
        (package / name).write_text("x")
    assert sorted(scan(package, source_dir)) == ["frontend_fn/__init__.py", "frontend_fn/app.py"]


def test_scan_missing_folder_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path / "missing", tmp_path) == {}


def test_changed_paths_added_removed_modified() -> None:
    before = {"a.py": (1, 10), "b.py": (1, 10), "c.py": (1, 10)}
    after = {"a.py": (1, 10), "b.py": (2, 10), "d.py": (1, 1)}
    assert changed_paths(before, after) == ["b.py", "c.py", "d.py"]


def test_syntax_error_names_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ndef f(:\n")
    error = syntax_error(broken)
    assert error is not None
    assert error.startswith("line 2:")


def test_syntax_error_none_for_valid_code(source_dir: Path) -> None:
    assert syntax_error(source_dir / "frontend_fn" / "app.py") is None


# --- the watcher --------------------------------------------------------------------------


def test_watcher_poll_reports_edit(function: WatchedFunction) -> None:
    seen: list[tuple[str, list[str]]] = []
    watcher = SourceWatcher([function], lambda changed_function, paths: seen.append((changed_function.name, paths)))
    touch(function.package_dir / "app.py", "def handler(event, context):\n    return {'v': 2}\n")

    assert watcher.poll() == {"survey-frontend": ["frontend_fn/app.py"]}
    assert seen == [("survey-frontend", ["frontend_fn/app.py"])]


def test_watcher_poll_without_change_is_quiet(function: WatchedFunction) -> None:
    seen: list[str] = []
    watcher = SourceWatcher([function], lambda changed_function, paths: seen.append(changed_function.name))
    assert watcher.poll() == {}
    assert seen == []


def test_watcher_reports_new_and_deleted_files(function: WatchedFunction) -> None:
    watcher = SourceWatcher([function], lambda changed_function, paths: None)
    (function.package_dir / "extra.py").write_text("VALUE = 1\n")
    (function.package_dir / "__init__.py").unlink()
    assert watcher.poll() == {"survey-frontend": ["frontend_fn/__init__.py", "frontend_fn/extra.py"]}


def test_watcher_thread_calls_on_change(function: WatchedFunction) -> None:
    changed = threading.Event()
    watcher = SourceWatcher([function], lambda changed_function, paths: changed.set(), interval=0.05)
    watcher.start()
    try:
        touch(function.package_dir / "app.py", "VALUE = 3\n")
        assert changed.wait(WAIT_SECONDS)
    finally:
        watcher.stop()


def test_watcher_survives_failing_callback(function: WatchedFunction) -> None:
    calls: list[int] = []
    first_call = threading.Event()
    second_call = threading.Event()

    def on_change(changed_function: WatchedFunction, paths: list[str]) -> None:
        calls.append(1)
        if len(calls) == 1:
            first_call.set()
            raise RuntimeError("recycle failed")
        second_call.set()

    watcher = SourceWatcher([function], on_change, interval=0.05)
    watcher.start()
    try:
        touch(function.package_dir / "app.py", "VALUE = 4\n")
        assert first_call.wait(WAIT_SECONDS)
        touch(function.package_dir / "app.py", "VALUE = 5\n")
        assert second_call.wait(WAIT_SECONDS)
    finally:
        watcher.stop()


# --- the reloader -------------------------------------------------------------------------


def test_reload_recycles_then_prewarms(function: WatchedFunction, caplog: pytest.LogCaptureFixture) -> None:
    runtime = FakeRuntime()
    reloader = HotReloader(runtime, [function])
    with caplog.at_level(logging.INFO, logger="local.reload"):
        reloader.reload(function, ["frontend_fn/app.py"])
        assert runtime.prewarmed.wait(WAIT_SECONDS)
    assert runtime.calls == [("recycle", "survey-frontend"), ("prewarm", "survey-frontend")]
    assert "Reloaded survey-frontend (changed: frontend_fn/app.py)" in caplog.messages


def test_reload_logs_syntax_error(function: WatchedFunction, caplog: pytest.LogCaptureFixture) -> None:
    (function.package_dir / "app.py").write_text("def handler(event, context)\n    return {}\n")
    runtime = FakeRuntime()
    with caplog.at_level(logging.INFO, logger="local.reload"):
        HotReloader(runtime, [function]).reload(function, ["frontend_fn/app.py"])
        runtime.prewarmed.wait(WAIT_SECONDS)
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].getMessage().startswith("Syntax error in frontend_fn/app.py, line 1:")
    assert ("recycle", "survey-frontend") in runtime.calls


def test_reload_skips_syntax_check_of_other_files(function: WatchedFunction, caplog: pytest.LogCaptureFixture) -> None:
    (function.package_dir / "notes.txt").write_text("def (")
    with caplog.at_level(logging.INFO, logger="local.reload"):
        HotReloader(FakeRuntime(), [function]).reload(function, ["frontend_fn/notes.txt"])
    assert not [record for record in caplog.records if record.levelno == logging.ERROR]


def test_start_hot_reload_needs_recycle() -> None:
    class StubRuntime:
        def start(self) -> None: ...

    assert start_hot_reload(StubRuntime()) is None


# --- settings -----------------------------------------------------------------------------


def test_config_reload_on_by_default() -> None:
    assert StackConfig.from_sources({}, environ={}).reload is True


def test_config_reload_off_from_environment() -> None:
    assert StackConfig.from_sources({}, environ={"SURVEY_LOCAL_RELOAD": "false"}).reload is False


def test_config_reload_option_beats_environment() -> None:
    config = StackConfig.from_sources({"reload": True}, environ={"SURVEY_LOCAL_RELOAD": "0"})
    assert config.reload is True


def test_config_invalid_reload_variable() -> None:
    with pytest.raises(ConfigError, match="SURVEY_LOCAL_RELOAD"):
        StackConfig.from_sources({}, environ={"SURVEY_LOCAL_RELOAD": "sometimes"})


def test_config_services_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="services folder"):
        StackConfig.from_sources({"services_dir": str(tmp_path / "missing")}, environ={})


def test_function_configs_use_services_dir(tmp_path: Path) -> None:
    config = StackConfig.from_sources({"services_dir": str(tmp_path)}, environ={})
    names = StackNames(config.prefix, config.account_id, config.region)
    source_dirs = sorted(function.source_dir for function in function_configs(config, names))
    assert source_dirs == [tmp_path.resolve() / "backend_fn", tmp_path.resolve() / "frontend_fn"]


def test_function_configs_default_to_repository(tmp_path: Path) -> None:
    config = StackConfig.from_sources({}, environ={})
    names = StackNames(config.prefix, config.account_id, config.region)
    for function in function_configs(config, names):
        assert function.source_dir.parent == config.repo_root / "services"


def test_cli_no_reload_and_services_dir() -> None:
    args = build_parser().parse_args(["up", "--no-reload", "--services-dir", "/tmp/services"])
    assert args.reload is False
    assert args.services_dir == "/tmp/services"


def test_cli_reload_unset_is_none() -> None:
    assert build_parser().parse_args(["up"]).reload is None
