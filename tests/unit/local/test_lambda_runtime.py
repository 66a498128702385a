"""LambdaRuntime driven with real worker processes running the sample functions."""
from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.lambda_runtime import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    LambdaRuntime,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
)
from local.lambda_runtime import process as worker_process
from tests.unit.local.fixtures.runtime_support import (
    ACCOUNT_ID,
    FUNCTIONS_DIR,
    REGION,
    RecordWaiter,
    sample_function,
)

FUNCTIONS = [
    sample_function("echo", "handlers.echo"),
    sample_function("describe", "handlers.describe", memory_mb=256, environment={"GREETING": "hello"}),
    sample_function("raise", "handlers.raise_error"),
    sample_function("sleep-forever", "handlers.sleep_forever"),
    sample_function("nap", "handlers.sleep_briefly", max_concurrency=2),
    sample_function("nap-alone", "handlers.sleep_briefly", max_concurrency=1),
    sample_function("print-a-lot", "handlers.print_a_lot"),
    sample_function("exit", "handlers.exit_process"),
    sample_function("syntax-error", "broken_syntax.handler"),
    sample_function("missing-dependency", "missing_dependency.handler"),
    sample_function("missing-handler", "handlers.no_such_handler"),
    sample_function("unserializable", "handlers.return_unserializable"),
    sample_function("read-stdin", "handlers.read_stdin"),
    sample_function("powertools", "handlers.powertools_logged", timeout_seconds=10.0),
]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LambdaRuntime]:
    # Workers start on first use, so each test pays only for the functions it invokes.
    lambda_runtime = LambdaRuntime(FUNCTIONS, region=REGION, account_id=ACCOUNT_ID)
    yield lambda_runtime
    lambda_runtime.stop()


@pytest.fixture
def records() -> Iterator[RecordWaiter]:
    waiter = RecordWaiter()
    root = logging.getLogger("local")
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(waiter)
    yield waiter
    root.removeHandler(waiter)
    root.setLevel(previous_level)


def invoke_json(runtime: LambdaRuntime, name: str, event: object = None) -> dict:
    result = runtime.invoke(name, json.dumps(event if event is not None else {}).encode())
    return json.loads(result.payload)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_invoke_echo_returns_handler_result(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("echo", b'{"answer": 42}')

    assert result.status_code == 200
    assert result.function_error is None
    assert json.loads(result.payload) == {"event": {"answer": 42}, "request_id": result.request_id}


def test_invoke_empty_payload_is_empty_event(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("echo", b"")

    assert json.loads(result.payload)["event"] == {}


def test_invoke_reuses_warm_worker(runtime: LambdaRuntime) -> None:
    first = invoke_json(runtime, "describe")
    second = invoke_json(runtime, "describe")

    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_invoke_environment_has_lambda_variables(runtime: LambdaRuntime) -> None:
    environ = invoke_json(runtime, "describe")["environ"]

    assert environ["GREETING"] == "hello"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "describe"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/describe"
    assert "[$LATEST]" in environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert environ["AWS_REGION"] == REGION
    assert environ["AWS_DEFAULT_REGION"] == REGION
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert environ["_HANDLER"] == "sample_fn.handlers.describe"
    assert environ["AWS_ACCESS_KEY_ID"] == "test"


def test_invoke_environment_excludes_parent_variables(runtime: LambdaRuntime) -> None:
    environ = invoke_json(runtime, "describe")["environ"]

    # pytest sets PYTEST_CURRENT_TEST in this process, and a worker must not inherit it.
    assert "PYTEST_CURRENT_TEST" not in environ
    assert "PYTHONPATH" not in environ


def test_invoke_context_has_aws_attributes(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("describe", b"{}")
    context = json.loads(result.payload)["context"]

    assert context["function_name"] == "describe"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:describe"
    assert context["memory_limit_in_mb"] == "256"
    assert context["aws_request_id"] == result.request_id
    assert context["log_group_name"] == "/aws/lambda/describe"
    assert context["log_stream_name"].startswith("20")
    assert 0 < context["remaining_ms"] <= 1000
    assert context["identity"] is None
    assert context["client_context"] is None


def test_invoke_imports_only_own_package(runtime: LambdaRuntime) -> None:
    described = invoke_json(runtime, "describe")

    assert described["sibling_importable"] is False
    assert described["sys_path_0"] == described["environ"]["LAMBDA_TASK_ROOT"]
    assert described["cwd"] == described["environ"]["LAMBDA_TASK_ROOT"]
    assert sorted(os.listdir(described["cwd"])) == ["sample_fn"]


def test_invoke_handler_exception_gives_error_payload(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("raise", b'{"value": 7}')
    error = json.loads(result.payload)

    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: 7"
    assert error["requestId"] == result.request_id
    assert "in raise_error" in error["stackTrace"][-1]


def test_invoke_handler_exception_logged_with_request_id(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    result = runtime.invoke("raise", b'{"value": 8}')

    record = records.wait_for("[ERROR] ValueError: bad input: 8")
    assert record is not None
    assert record.levelno == logging.ERROR
    assert record.request_id == result.request_id
    assert "Traceback (most recent call last):" in record.getMessage()


def test_invoke_timeout_returns_sandbox_timedout(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("sleep-forever", b"{}")
    error = json.loads(result.payload)

    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    assert error == {
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }


def test_invoke_timeout_kills_worker_and_recovers(runtime: LambdaRuntime) -> None:
    killed_pid = invoke_json(runtime, "nap-alone", {"seconds": 0})["pid"]
    timed_out = runtime.invoke("nap-alone", b'{"seconds": 5}')

    recovered = runtime.invoke("nap-alone", b'{"seconds": 0}')

    assert json.loads(timed_out.payload)["errorType"] == "Sandbox.Timedout"
    assert recovered.function_error is None
    assert json.loads(recovered.payload)["pid"] != killed_pid
    assert process_exists(killed_pid) is False


def test_invoke_syntax_error_reported_every_time(runtime: LambdaRuntime) -> None:
    for _ in range(2):
        result = runtime.invoke("syntax-error", b"{}")
        error = json.loads(result.payload)

        assert result.function_error == "Unhandled"
        assert error["errorType"] == "Runtime.UserCodeSyntaxError"
        assert error["errorMessage"].startswith("Syntax error in module 'sample_fn.broken_syntax'")


def test_invoke_missing_dependency_gives_import_error(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("missing-dependency", b"{}")
    error = json.loads(result.payload)

    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'sample_fn.missing_dependency': No module named 'sample_fn_missing_dependency'"
    )


def test_invoke_missing_handler_gives_handler_not_found(runtime: LambdaRuntime) -> None:
    error = json.loads(runtime.invoke("missing-handler", b"{}").payload)

    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'no_such_handler' missing on module 'sample_fn.handlers'"


def test_invoke_process_exit_gives_exit_error(runtime: LambdaRuntime) -> None:
    for _ in range(2):
        result = runtime.invoke("exit", b'{"code": 3}')
        error = json.loads(result.payload)

        assert result.function_error == "Unhandled"
        assert error["errorType"] == "Runtime.ExitError"
        expected = f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3"
        assert error["errorMessage"] == expected


def test_invoke_unserializable_result_gives_marshal_error(runtime: LambdaRuntime) -> None:
    error = json.loads(runtime.invoke("unserializable", b"{}").payload)

    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"


def test_invoke_stdin_is_not_protocol_pipe(runtime: LambdaRuntime) -> None:
    first = invoke_json(runtime, "read-stdin")
    second = runtime.invoke("read-stdin", b"{}")

    assert first == {"stdin": ""}
    assert second.function_error is None


def test_invoke_output_forwarded_with_request_id(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    result = runtime.invoke("print-a-lot", b'{"lines": 50}')

    lines = [r for r in records.records if r.name == "local.lambda_runtime.functions.print-a-lot"]
    assert [r.getMessage() for r in lines] == [f"line {n}" for n in range(50)] + ["to stderr"]
    assert {r.request_id for r in lines} == {result.request_id}


def test_invoke_output_over_limit_counted(
    runtime: LambdaRuntime, records: RecordWaiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_process, "MAX_FORWARDED_LINES", 20)

    runtime.invoke("print-a-lot", b'{"lines": 30}')

    lines = [r for r in records.records if r.name == "local.lambda_runtime.functions.print-a-lot"]
    assert len(lines) == 21
    assert lines[-1].getMessage() == "11 more output lines were not logged (at most 20 lines per invocation)"


def test_invoke_tail_returns_log_result(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("print-a-lot", b'{"lines": 3}', log_type="Tail")

    assert result.log_result is not None
    assert base64.b64decode(result.log_result).decode() == "line 0\nline 1\nline 2\nto stderr"


def test_invoke_logs_one_line_per_invocation(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    result = runtime.invoke("echo", b"{}")

    lines = [r for r in records.records if r.name == "local.lambda_runtime.runtime"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert lines[0].request_id == result.request_id
    assert lines[0].getMessage().startswith("Invoked echo in ")
    assert lines[0].getMessage().endswith(" ms: succeeded")


def test_invoke_powertools_logger_injects_context(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    result = runtime.invoke("powertools", b"{}")

    assert result.function_error is None
    lines = [r for r in records.records if r.name == "local.lambda_runtime.functions.powertools"]
    logged = json.loads(lines[-1].getMessage())
    assert logged["message"] == "handled with powertools"
    assert logged["function_request_id"] == result.request_id
    assert logged["function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:powertools"
    assert lines[-1].levelno == logging.INFO


def test_invoke_concurrent_calls_use_two_workers(runtime: LambdaRuntime) -> None:
    results: list[dict] = []
    barrier = threading.Barrier(2)

    def call() -> None:
        barrier.wait()
        results.append(invoke_json(runtime, "nap", {"seconds": 0.5}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({result["pid"] for result in results}) == 2


def test_invoke_unknown_function_raises_not_found(runtime: LambdaRuntime) -> None:
    with pytest.raises(ResourceNotFoundException) as raised:
        runtime.invoke("nope", b"{}")

    assert raised.value.message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:nope"


def test_invoke_invalid_json_raises_invalid_content(runtime: LambdaRuntime) -> None:
    with pytest.raises(InvalidRequestContentException):
        runtime.invoke("echo", b"{not json")


def test_invoke_large_payload_raises_too_large(runtime: LambdaRuntime) -> None:
    payload = json.dumps("x" * 6_291_456).encode()

    with pytest.raises(RequestTooLargeException):
        runtime.invoke("echo", payload)


def test_invoke_unknown_type_raises_invalid_parameter(runtime: LambdaRuntime) -> None:
    with pytest.raises(InvalidParameterValueException):
        runtime.invoke("echo", b"{}", invocation_type="Sometimes")


def test_invoke_dry_run_returns_204(runtime: LambdaRuntime) -> None:
    result = runtime.invoke("echo", b"{}", invocation_type="DryRun")

    assert result.status_code == 204
    assert result.payload == b""


def test_invoke_event_runs_in_background(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    result = runtime.invoke("print-a-lot", b'{"lines": 1}', invocation_type="Event")

    assert result.status_code == 202
    record = records.wait_for("Invoked print-a-lot in ")
    assert record is not None
    assert record.request_id == result.request_id


@pytest.mark.parametrize(
    "identifier",
    [
        "echo",
        "echo:$LATEST",
        f"{ACCOUNT_ID}:function:echo",
        f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:echo",
        f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:echo:$LATEST",
    ],
)
def test_resolve_accepts_name_and_arn_forms(runtime: LambdaRuntime, identifier: str) -> None:
    assert runtime.resolve(identifier).name == "echo"


@pytest.mark.parametrize(
    "identifier",
    [
        "echo:prod",
        f"arn:aws:lambda:{REGION}:999999999999:function:echo",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT_ID}:function:echo",
        "arn:aws:s3:::echo",
    ],
)
def test_resolve_rejects_other_functions(runtime: LambdaRuntime, identifier: str) -> None:
    with pytest.raises(ResourceNotFoundException):
        runtime.resolve(identifier)


def test_function_names_lists_configured_functions(runtime: LambdaRuntime) -> None:
    assert runtime.function_names() == [function.name for function in FUNCTIONS]


def test_too_many_requests_when_workers_stay_busy(records: RecordWaiter) -> None:
    limited = LambdaRuntime(
        [sample_function("sleep-forever", "handlers.sleep_forever", timeout_seconds=3.0, max_concurrency=1)],
        region=REGION,
        account_id=ACCOUNT_ID,
        queue_timeout_seconds=0.2,
    )
    first = threading.Thread(target=limited.invoke, args=("sleep-forever", b"{}"))
    try:
        first.start()
        assert records.wait_for("going to sleep") is not None

        with pytest.raises(TooManyRequestsException) as raised:
            limited.invoke("sleep-forever", b"{}")
    finally:
        first.join()
        limited.stop()

    assert raised.value.body() == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
    }


def test_recycle_picks_up_edited_code(tmp_path: Path) -> None:
    source_dir = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, source_dir)
    reloading = LambdaRuntime(
        [sample_function("version", "version.handler", source_dir=source_dir)], region=REGION, account_id=ACCOUNT_ID
    )
    module = source_dir / "sample_fn" / "version.py"
    try:
        before = invoke_json(reloading, "version")
        module.write_text(module.read_text().replace('VERSION = "one"', 'VERSION = "edited"'))
        warm = invoke_json(reloading, "version")
        reloading.recycle("version")
        after = invoke_json(reloading, "version")
    finally:
        reloading.stop()

    assert before == {"version": "one"}
    assert warm == {"version": "one"}
    assert after == {"version": "edited"}


def test_start_prewarms_one_worker(records: RecordWaiter) -> None:
    prewarmed = LambdaRuntime([sample_function("describe", "handlers.describe")], region=REGION, account_id=ACCOUNT_ID)
    try:
        prewarmed.start()
        starts_after_start = len([r for r in records.records if r.getMessage().startswith("Started worker")])
        described = invoke_json(prewarmed, "describe")
        starts_after_invoke = len([r for r in records.records if r.getMessage().startswith("Started worker")])
    finally:
        prewarmed.stop()

    assert starts_after_start == 1
    assert starts_after_invoke == 1
    assert described["invocations"] == 1


def test_stop_ends_worker_processes() -> None:
    stopping = LambdaRuntime([sample_function("describe", "handlers.describe")], region=REGION, account_id=ACCOUNT_ID)
    pid = invoke_json(stopping, "describe")["pid"]

    stopping.stop()

    assert process_exists(pid) is False


def test_stop_removes_code_roots() -> None:
    stopping = LambdaRuntime([sample_function("describe", "handlers.describe")], region=REGION, account_id=ACCOUNT_ID)
    code_root = invoke_json(stopping, "describe")["environ"]["LAMBDA_TASK_ROOT"]

    stopping.stop()

    assert Path(code_root).exists() is False
