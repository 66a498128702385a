"""Start and stop the offline stack as a subprocess, for tests and benchmarks."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
STACK_START_TIMEOUT_SECONDS = 60


def free_port_pair() -> tuple[int, int]:
    """Return two free loopback ports, the second one above the first."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port, port + 1


def _wait_for_health(edge_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STACK_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The offline stack exited with code {process.returncode} before it was ready; "
                f"its log is in {log_path}:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        try:
            if requests.get(f"{edge_url}/_local/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The offline stack was not ready after {STACK_START_TIMEOUT_SECONDS} s; see {log_path}")


def start_offline_stack(
    name: str, extra_args: list[str] | None = None, data_dir: Path | None = None, port: int | None = None
):
    """Start `python -m local up` on free ports, or on `port` and the next one; return (process, edge_url, log_path).

    The stack keeps its state in `data_dir`, or in memory when it is None, so test runs
    neither collect state in the repository's .local-data nor compete for its lock.
    A restarted stack needs the port of the first, because the token issuer contains it.
    """
    port, web_port = free_port_pair() if port is None else (port, port + 1)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    state_args = ["--data-dir", str(data_dir)] if data_dir is not None else ["--no-persist"]
    # Reloading watches the real services/ folder, so an edit made during a test run
    # would restart the workers under test. Only a stack given its own copy reloads.
    extra_args = list(extra_args or [])
    if "--services-dir" not in extra_args:
        state_args.append("--no-reload")
    command = [
        sys.executable, "-m", "local", "up",
        "--port", str(port), "--web-port", str(web_port),
        *state_args,
        *extra_args,
    ]
    log_file = log_path.open("w")
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    edge_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(edge_url, process, log_path)
    except BaseException:
        stop_process(process)
        raise
    return process, edge_url, log_path


def stop_process(process: subprocess.Popen) -> None:
    """Stop the stack by PID: SIGINT (as Ctrl-C), then SIGKILL after a grace period."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
