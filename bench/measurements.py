"""The benchmark's measurements. Each returns raw figures; bench.runner turns them into rows."""
from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.client import ApiClient, bench_answers
from bench.launcher import REPO_ROOT, launch_stack


class DynamoFloor:
    """One raw TransactWriteItems through the edge endpoint with boto3: the floor of the full chain.

    The transaction has the shape of one submission, so the respond route and the floor
    write the same items. It puts a response and its idempotency item (both conditional),
    adds 1 to the survey's counter (conditional), updates an aggregate and puts a value-index item.
    """

    def __init__(self, edge_url: str, surveys_table: str, responses_table: str) -> None:
        import boto3
        from botocore.config import Config

        self._client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=edge_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        self._surveys_table = surveys_table
        self._responses_table = responses_table
        self._survey_id = str(uuid.uuid4())
        self._client.put_item(
            TableName=surveys_table,
            Item={"survey_id": {"S": self._survey_id}, "status": {"S": "open"}, "response_count": {"N": "0"}},
        )

    def write(self) -> None:
        response_id = str(uuid.uuid4())
        survey = {"survey_id": {"S": self._survey_id}}
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {
                    "TableName": self._responses_table,
                    "Item": {**survey, "item_key": {"S": f"r#{response_id}"}, "answers": {"S": '{"q1": "Pizza"}'}},
                    "ConditionExpression": "attribute_not_exists(item_key)",
                }},
                {"Put": {
                    "TableName": self._responses_table,
                    "Item": {**survey, "item_key": {"S": f"i#{response_id}"}, "response_id": {"S": response_id}},
                    "ConditionExpression": "attribute_not_exists(item_key)",
                }},
                {"Update": {
                    "TableName": self._surveys_table,
                    "Key": survey,
                    "UpdateExpression": "ADD response_count :one",
                    "ConditionExpression": "#status = :open",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":open": {"S": "open"}},
                }},
                {"Update": {
                    "TableName": self._responses_table,
                    "Key": {**survey, "item_key": {"S": "a#0"}},
                    "UpdateExpression": "ADD c1 :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }},
                {"Put": {
                    "TableName": self._responses_table,
                    "Item": {**survey, "item_key": {"S": f"v#q4#{response_id}"}, "value": {"N": "3"}},
                }},
            ]
        )


def timed(operation: Callable[[], Any]) -> float:
    started = time.perf_counter()
    operation()
    return time.perf_counter() - started


# --- latency of each route against the floor ---------------------------------------


def measure_latencies(client: ApiClient, floor: DynamoFloor, *, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Time the floor and each route once per round, interleaved, so load spikes hit all of them alike.

    Returns seconds per operation name. The first `warmup` rounds are not recorded.
    """
    rng = random.Random(1)
    survey_id = client.create_survey()
    operations: dict[str, Callable[[], Any]] = {
        "floor": floor.write,
        "create": client.create_survey,
        "respond": lambda: client.respond(survey_id, bench_answers(rng)),
        "results": lambda: client.results(survey_id),
        "responses page": lambda: client.responses_page(survey_id, limit=25),
    }
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for round_index in range(warmup + rounds):
        for name, operation in operations.items():
            seconds = timed(operation)
            if round_index >= warmup:
                samples[name].append(seconds)
    return samples


# --- sustained respond throughput ------------------------------------------------


@dataclass
class Throughput:
    clients: int
    submitted: int
    seconds: float
    stored: int
    counted: int
    result_count: int

    @property
    def per_second(self) -> float:
        return self.submitted / self.seconds

    @property
    def exact(self) -> bool:
        return self.stored == self.submitted and self.counted == self.submitted and self.result_count == self.submitted


def measure_throughput(client: ApiClient, *, clients: int, total: int) -> Throughput:
    """Submit `total` responses to one survey from `clients` threads, then count what was stored three ways."""
    survey_id = client.create_survey()
    # A few untimed submissions start every worker the load needs.
    warm_survey = client.create_survey()
    client.submit_many(warm_survey, max(clients * 4, 20), clients=clients, seed=99)

    started = time.perf_counter()
    client.submit_many(survey_id, total, clients=clients, seed=7)
    seconds = time.perf_counter() - started

    return Throughput(
        clients=clients,
        submitted=total,
        seconds=seconds,
        stored=client.count_responses(survey_id),
        counted=int(client.survey(survey_id)["response_count"]),
        result_count=int(client.results(survey_id)["response_count"]),
    )


# --- results latency as a survey grows ---------------------------------------------


def measure_results_scaling(
    client: ApiClient, *, sizes: list[int], samples: int, load_clients: int
) -> dict[int, list[float]]:
    """Time GET /survey/results of one survey of each size in `sizes`, interleaved round by round.

    Every survey is loaded first, so that each round times all sizes within a moment
    and load from other programs changes their ratio as little as possible.
    """
    surveys = {}
    for size in sizes:
        survey_id = client.create_survey()
        client.submit_many(survey_id, size, clients=load_clients, seed=size)
        count = client.results(survey_id)["response_count"]
        if count != size:
            raise RuntimeError(f"Results count {count} responses, expected {size}: submissions were lost.")
        surveys[size] = survey_id

    # Untimed calls first, so that every survey starts from the same warm state.
    for survey_id in surveys.values():
        for _ in range(3):
            client.results(survey_id)
    timings: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(samples):
        for size, survey_id in surveys.items():
            timings[size].append(timed(lambda: client.results(survey_id)))
    return timings


# --- start-up --------------------------------------------------------------------


@dataclass
class StartUp:
    cold_seconds: list[float]
    warm_seconds: list[float]


def measure_startup(
    log_dir: Path, *, cold_runs: int, warm_runs: int, extra_args: list[str], data_dir_option: bool
) -> StartUp:
    """Time `python -m local up` from spawn to ready, with no bytecode cache (cold) and with it (warm).

    A cold run points PYTHONPYCACHEPREFIX at an empty folder and sets PYTHONDONTWRITEBYTECODE,
    so the stack process compiles every module it imports, the venv's packages included.
    Worker processes get no PYTHON* variables, so they keep using the normal cache.
    """
    cold, warm = [], []
    for run in range(cold_runs):
        with tempfile.TemporaryDirectory(prefix="bench-pycache-") as empty_cache:
            environment = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty_cache}
            stack = launch_stack(
                log_dir / f"startup-cold-{run}.log",
                extra_args=extra_args,
                extra_env=environment,
                data_dir_option=data_dir_option,
            )
            stack.stop()
            cold.append(stack.ready_seconds)
    for run in range(warm_runs):
        stack = launch_stack(log_dir / f"startup-warm-{run}.log", extra_args=extra_args, data_dir_option=data_dir_option)
        stack.stop()
        warm.append(stack.ready_seconds)
    return StartUp(cold, warm)


# --- frontend function cold start ----------------------------------------------------


@dataclass
class ColdStart:
    # Worker start: interpreter, the handler module's imports and module-level set-up.
    init_seconds: list[float]
    # First invocation of a fresh worker: builds the boto3 clients and fetches the JWKS.
    first_invocation_seconds: list[float]
    # Invocations of the same worker once warm.
    warm_invocation_seconds: list[float]


def measure_frontend_cold_start(edge_url: str, client: ApiClient, *, runs: int, warm_samples: int) -> ColdStart:
    """Start fresh frontend workers in this process's own LambdaRuntime, aimed at the running stack.

    Each run starts a worker, times its init, then times its first and later invocations of
    GET /survey/results with a token, so the first one builds the function's clients and
    fetches the JWKS from the stack.
    """
    from local.config import StackConfig
    from local.functions import function_configs
    from local.lambda_runtime import LambdaRuntime
    from local.names import StackNames

    port = int(edge_url.rsplit(":", 1)[1])
    config = StackConfig(port=port, web_port=port + 1)
    names = StackNames(config.prefix, config.account_id, config.region, repo_root=REPO_ROOT)
    frontend = next(function for function in function_configs(config, names) if function.name == names.frontend_function_name)
    survey_id = client.create_survey()
    event = _proxy_event("GET", "/survey/results", {"survey_id": survey_id}, client.id_token or "")

    init, first, warm = [], [], []
    for _ in range(runs):
        runtime = LambdaRuntime([frontend], region=config.region, account_id=config.account_id)
        try:
            started = time.perf_counter()
            runtime.start()
            init.append(time.perf_counter() - started)
            first.append(timed(lambda: _invoke_ok(runtime, frontend.name, event)))
            warm += [timed(lambda: _invoke_ok(runtime, frontend.name, event)) for _ in range(warm_samples)]
        finally:
            runtime.stop()
    return ColdStart(init, first, warm)


def _invoke_ok(runtime: Any, function_name: str, event: dict[str, Any]) -> None:
    import json

    result = runtime.invoke(function_name, json.dumps(event).encode())
    if result.function_error:
        raise RuntimeError(f"{function_name} failed: {result.payload[:300]!r}")
    status = json.loads(result.payload)["statusCode"]
    if status != 200:
        raise RuntimeError(f"{function_name} returned status {status}: {result.payload[:300]!r}")


def _proxy_event(method: str, path: str, query: dict[str, str], token: str) -> dict[str, Any]:
    """Return a minimal API Gateway REST proxy event, enough for the frontend's router."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Authorization": f"Bearer {token}"},
        "multiValueHeaders": {"Authorization": [f"Bearer {token}"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()},
        "pathParameters": None,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "v1", "httpMethod": method, "path": path},
        "body": None,
        "isBase64Encoded": False,
    }


def cpu_description() -> str:
    """Return the CPU model from /proc/cpuinfo, or the platform's processor name elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def memory_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"

