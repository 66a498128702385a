"""Run every measurement against one offline stack and build the report."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import ApiClient
from bench.launcher import launch_stack, supports_option
from bench.measurements import (
    ColdStart,
    DynamoFloor,
    StartUp,
    Throughput,
    cpu_description,
    load_average,
    measure_frontend_cold_start,
    measure_latencies,
    measure_results_scaling,
    measure_startup,
    measure_throughput,
    memory_total_gib,
)
from bench.report import Report, milliseconds, percentile

# Targets of the offline stack on a 2-core machine.
P50_MAX_RATIO = 3.0
P99_MAX_RATIO = 10.0
RESULTS_MAX_GROWTH = 1.2
MIN_RESPONSES_PER_SECOND = 200.0
WARM_START_MAX_SECONDS = 2.0
ROUTES = ("create", "respond", "results", "responses page")


@dataclass(frozen=True)
class Settings:
    rounds: int
    warmup: int
    clients: int
    throughput_responses: int
    results_sizes: tuple[int, ...]
    results_samples: int
    cold_start_runs: int
    startup_cold_runs: int
    startup_warm_runs: int
    skip_startup: bool
    log_dir: Path
    # Run the stacks with --no-persist instead of a temporary data folder.
    in_memory: bool = False

    @classmethod
    def full(cls, log_dir: Path) -> Settings:
        return cls(
            rounds=200, warmup=10, clients=8, throughput_responses=2000, results_sizes=(10, 1000, 10_000),
            results_samples=40, cold_start_runs=5, startup_cold_runs=1, startup_warm_runs=3,
            skip_startup=False, log_dir=log_dir,
        )

    @classmethod
    def quick(cls, log_dir: Path) -> Settings:
        return cls(
            rounds=10, warmup=2, clients=4, throughput_responses=40, results_sizes=(10, 50),
            results_samples=5, cold_start_runs=1, startup_cold_runs=1, startup_warm_runs=1,
            skip_startup=False, log_dir=log_dir,
        )


def machine_description() -> str:
    memory = memory_total_gib()
    memory_text = f"{memory:.1f} GiB RAM" if memory is not None else "RAM unknown"
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu_description()}, {memory_text}, "
        f"Python {platform.python_version()} on {platform.system()}, load average at the start {load_average()}"
    )


def run(settings: Settings, progress: Callable[[str], None] = print) -> Report:
    """Start a stack, take every measurement, stop the stack and return the report."""
    report = Report(f"Offline stack benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    report.note(f"Machine: {machine_description()}.")
    report.note(f"Command: {' '.join(['python -m bench', *sys.argv[1:]])}")
    state_args, data_dir_option = _state_options(settings.in_memory)
    report.note(
        "State: in memory (--no-persist)." if settings.in_memory
        else "State: a temporary data folder for each stack, as `make up` keeps .local-data (journal on)."
    )

    progress("Starting the stack")
    # Hot reload stays off, so that an edit of services/ during the run cannot restart the workers.
    stack = launch_stack(
        settings.log_dir / "stack.log",
        extra_args=[*state_args, "--no-reload"],
        data_dir_option=data_dir_option,
        sample_rss=True,
    )
    try:
        outputs = _fetch_outputs(stack.edge_url)
        client = ApiClient(outputs["api_url"])
        client.sign_up_and_log_in(f"bench-{uuid.uuid4().hex[:10]}@example.com")

        progress(f"Latency: {settings.rounds} rounds of the floor and each route")
        floor = DynamoFloor(stack.edge_url, outputs["surveys_table"], outputs["responses_table"])
        latencies = measure_latencies(client, floor, rounds=settings.rounds, warmup=settings.warmup)

        progress(f"Throughput: {settings.throughput_responses} responses from {settings.clients} clients")
        throughput = measure_throughput(client, clients=settings.clients, total=settings.throughput_responses)

        progress(f"Results latency at {', '.join(map(str, settings.results_sizes))} responses")
        scaling = measure_results_scaling(
            client, sizes=list(settings.results_sizes), samples=settings.results_samples, load_clients=settings.clients
        )

        progress(f"Frontend cold start: {settings.cold_start_runs} fresh workers")
        cold_start = measure_frontend_cold_start(stack.edge_url, client, runs=settings.cold_start_runs, warm_samples=5)
        assert stack.sampler is not None
        stack.sampler.sample()
        peak_rss = stack.sampler.peak_bytes
    finally:
        stack.stop()

    startup = None
    if not settings.skip_startup:
        progress("Start-up: cold and warm runs of python -m local up")
        startup = measure_startup(
            settings.log_dir,
            cold_runs=settings.startup_cold_runs,
            warm_runs=settings.startup_warm_runs,
            extra_args=state_args,
            data_dir_option=data_dir_option,
        )

    _add_latency_rows(report, latencies)
    _add_throughput_rows(report, throughput)
    _add_scaling_rows(report, scaling)
    _add_startup_rows(report, startup, peak_rss)
    _add_cold_start_rows(report, cold_start)
    report.note(f"Load average at the end: {load_average()}.")
    report.note(f"Logs of the stacks: {settings.log_dir}")
    return report


def _state_options(in_memory: bool) -> tuple[list[str], bool]:
    """Return the extra `up` arguments and whether to pass a temporary --data-dir, for the stack's version."""
    if in_memory:
        return (["--no-persist"] if supports_option("--no-persist") else []), False
    return [], supports_option("--data-dir")


def _fetch_outputs(edge_url: str) -> dict[str, str]:
    import json
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{edge_url}/_local/outputs", timeout=10) as response:
        return json.load(response)


def _add_latency_rows(report: Report, latencies: dict[str, list[float]]) -> None:
    floor = latencies["floor"]
    floor_p50, floor_p99 = percentile(floor, 0.50), percentile(floor, 0.99)
    report.add(
        f"floor: TransactWriteItems via boto3, p50 / p99 (n={len(floor)})",
        f"{milliseconds(floor_p50)} / {milliseconds(floor_p99)}",
    )
    for route in ROUTES:
        samples = latencies[route]
        p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
        report.add(
            f"{route}: full chain p50 (n={len(samples)})",
            f"{milliseconds(p50)} = {p50 / floor_p50:.1f}x floor",
            f"<= {P50_MAX_RATIO:.0f}x floor p50",
            p50 <= P50_MAX_RATIO * floor_p50,
        )
        report.add(
            f"{route}: full chain p99",
            f"{milliseconds(p99)} = {p99 / floor_p99:.1f}x floor",
            f"<= {P99_MAX_RATIO:.0f}x floor p99",
            p99 <= P99_MAX_RATIO * floor_p99,
        )


def _add_throughput_rows(report: Report, throughput: Throughput) -> None:
    report.add(
        f"respond throughput, {throughput.clients} clients, {throughput.submitted} responses",
        f"{throughput.per_second:.0f} responses/s ({throughput.seconds:.1f} s)",
        f">= {MIN_RESPONSES_PER_SECOND:.0f}/s",
        throughput.per_second >= MIN_RESPONSES_PER_SECOND,
    )
    report.add(
        "stored count after the throughput run",
        f"listed {throughput.stored}, survey {throughput.counted}, results {throughput.result_count}",
        f"all = {throughput.submitted}",
        throughput.exact,
    )


def _add_scaling_rows(report: Report, scaling: dict[int, list[float]]) -> None:
    sizes = sorted(scaling)
    medians = {size: statistics.median(samples) for size, samples in scaling.items()}
    for size in sizes:
        report.add(f"results p50 with {size:,} responses (n={len(scaling[size])})", milliseconds(medians[size]))
    smallest, largest = sizes[0], sizes[-1]
    growth = medians[largest] / medians[smallest]
    report.add(
        f"results growth from {smallest:,} to {largest:,} responses",
        f"{growth:.2f}x",
        f"<= {RESULTS_MAX_GROWTH}x",
        growth <= RESULTS_MAX_GROWTH,
    )


def _add_startup_rows(report: Report, startup: StartUp | None, peak_rss: int) -> None:
    if startup is not None:
        if startup.cold_seconds:
            report.add(
                f"start-up to ready, cold (no bytecode cache, n={len(startup.cold_seconds)})",
                f"{statistics.median(startup.cold_seconds):.2f} s",
            )
        if startup.warm_seconds:
            warm = statistics.median(startup.warm_seconds)
            report.add(
                f"start-up to ready, warm (median of {len(startup.warm_seconds)})",
                f"{warm:.2f} s",
                f"< {WARM_START_MAX_SECONDS:.0f} s",
                warm < WARM_START_MAX_SECONDS,
            )
    report.add("peak RSS of the stack's process tree during the run", f"{peak_rss / 1024 / 1024:.0f} MiB")


def _add_cold_start_rows(report: Report, cold_start: ColdStart) -> None:
    runs = len(cold_start.init_seconds)
    report.add(
        f"frontend worker init: import and module set-up (median of {runs})",
        milliseconds(statistics.median(cold_start.init_seconds)),
    )
    report.add(
        "frontend first invocation of a fresh worker (clients, JWKS)",
        milliseconds(statistics.median(cold_start.first_invocation_seconds)),
    )
    report.add(
        "frontend warm invocation, same event",
        milliseconds(statistics.median(cold_start.warm_invocation_seconds)),
    )
