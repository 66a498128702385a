"""`python -m bench`: measure the offline stack and print a table of figures and targets."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.launcher import REPO_ROOT, StackLaunchError
from bench.runner import Settings, run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start the offline stack on free loopback ports, measure latency, throughput, "
        "results scaling, start-up and cold starts, and print the figures with the target of each.",
    )
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke test (about a minute)")
    parser.add_argument("--clients", type=int, metavar="N", help="concurrent clients of the throughput run (default 8)")
    parser.add_argument("--rounds", type=int, metavar="N", help="timed rounds of the latency run (default 200)")
    parser.add_argument(
        "--responses", type=int, metavar="N", help="responses submitted in the throughput run (default 2000)"
    )
    parser.add_argument(
        "--results-sizes", metavar="N,N,...",
        help="survey sizes at which results are timed, ascending (default 10,1000,10000)",
    )
    parser.add_argument("--skip-startup", action="store_true", help="leave out the cold and warm start-up runs")
    parser.add_argument(
        "--in-memory", action="store_true",
        help="run the stacks with --no-persist instead of a temporary data folder (no journal writes)",
    )
    parser.add_argument(
        "--log-dir", type=Path, default=REPO_ROOT / "test-artifacts" / "bench", metavar="DIR",
        help="folder for the logs of the stacks the benchmark starts (default test-artifacts/bench)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="also write the table to FILE")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.quick(args.log_dir) if args.quick else Settings.full(args.log_dir)
    changes: dict[str, object] = {"skip_startup": args.skip_startup, "in_memory": args.in_memory}
    if args.clients is not None:
        changes["clients"] = args.clients
    if args.rounds is not None:
        changes["rounds"] = args.rounds
    if args.responses is not None:
        changes["throughput_responses"] = args.responses
    if args.results_sizes:
        changes["results_sizes"] = _parse_sizes(args.results_sizes)
    return dataclasses.replace(settings, **changes)


def _parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SystemExit(f"error: --results-sizes must be integers separated by commas, got {text!r}") from None
    if len(sizes) < 2 or list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
        raise SystemExit(f"error: --results-sizes needs at least two ascending sizes of 1 or more, got {text!r}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    for name in ("clients", "rounds", "throughput_responses"):
        if getattr(settings, name) < 1:
            print(f"error: {name.replace('_', ' ')} must be at least 1", file=sys.stderr)
            return 2
    try:
        report = run(settings, progress=lambda line: print(f"==> {line}", file=sys.stderr, flush=True))
    except StackLaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    table = report.render()
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
