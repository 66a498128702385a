"""Start `python -m local up` as a subprocess on free loopback ports, and sample its memory."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.offline import free_port_pair

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 15.0
# How often start-up polls /_local/health, in seconds. It bounds the start-up figure's resolution.
HEALTH_POLL_SECONDS = 0.02
# How often the memory sampler reads /proc, in seconds.
RSS_SAMPLE_SECONDS = 0.1

# A direct opener, so that HTTP_PROXY never takes the benchmark's requests off the loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StackLaunchError(RuntimeError):
    """The stack did not become ready. The message names the log file."""


def supports_option(option: str) -> bool:
    """Tell whether `python -m local up` accepts `option`, so the benchmark runs before and after it exists."""
    result = subprocess.run(
        [sys.executable, "-m", "local", "up", "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    return option in result.stdout


@dataclass
class LaunchedStack:
    process: subprocess.Popen[bytes]
    edge_url: str
    log_path: Path
    # Seconds from spawning the process to the first 200 from /_local/health.
    ready_seconds: float
    data_dir: Path | None = None
    sampler: RssSampler | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the stack by its PID as Ctrl-C does, then kill it after a grace period."""
        if self.sampler is not None:
            self.sampler.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def launch_stack(
    log_path: Path,
    *,
    extra_args: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    data_dir_option: bool = False,
    sample_rss: bool = False,
) -> LaunchedStack:
    """Start the stack on free ports and wait until /_local/health reports ready.

    With `data_dir_option`, the stack keeps its data in a temporary folder that stop() deletes.
    Raises StackLaunchError when the process exits or stays unready for START_TIMEOUT_SECONDS.
    """
    port, web_port = free_port_pair()
    command = [sys.executable, "-m", "local", "up", "--port", str(port), "--web-port", str(web_port)]
    data_dir = None
    if data_dir_option:
        data_dir = Path(tempfile.mkdtemp(prefix="survey-bench-data-"))
        command += ["--data-dir", str(data_dir)]
    command += extra_args or []
    environment = {**os.environ, **(extra_env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    edge_url = f"http://127.0.0.1:{port}"

    with log_path.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=environment)
    sampler = RssSampler(process.pid) if sample_rss else None
    if sampler is not None:
        sampler.start()
    stack = LaunchedStack(process, edge_url, log_path, 0.0, data_dir, sampler)
    try:
        stack.ready_seconds = _wait_ready(stack, started)
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_ready(stack: LaunchedStack, started: float) -> float:
    deadline = started + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if stack.process.poll() is not None:
            raise StackLaunchError(
                f"The stack exited with code {stack.process.returncode} before it was ready; see {stack.log_path}."
            )
        try:
            with _opener.open(f"{stack.edge_url}/_local/health", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(HEALTH_POLL_SECONDS)
    raise StackLaunchError(f"The stack was not ready after {START_TIMEOUT_SECONDS:.0f} s; see {stack.log_path}.")


class RssSampler:
    """Track the peak resident memory of a process and all its descendants, from /proc (Linux only)."""

    def __init__(self, root_pid: int, interval: float = RSS_SAMPLE_SECONDS) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peak_bytes = 0
        self.supported = Path("/proc/self/status").exists()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        if self.supported:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sample(self) -> int:
        """Return the summed RSS in bytes of the root process and its descendants now."""
        total = 0
        for pid in process_tree(self.root_pid):
            total += _rss_bytes(pid)
        self.peak_bytes = max(self.peak_bytes, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


def process_tree(root_pid: int) -> list[int]:
    """Return `root_pid` and the PIDs of all its descendants, read from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name in brackets may contain spaces, so the fields start after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
