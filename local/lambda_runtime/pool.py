"""The worker processes of one function: warm reuse, a concurrency limit, recycling."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from local.lambda_runtime.errors import LambdaServiceError, TooManyRequestsException
from local.lambda_runtime.process import WorkerProcess

logger = logging.getLogger(__name__)


class RuntimeStoppedError(LambdaServiceError):
    code = "ServiceException"
    status = 500


class WorkerPool:
    """Up to `max_workers` workers of one function, each running one invocation at a time.

    An invocation takes the most recently used idle worker, so the same warm worker
    keeps serving a sequential caller. When every worker is busy and the limit is
    reached, the invocation waits up to `queue_timeout_seconds` for a worker.
    """

    def __init__(
        self,
        function_name: str,
        *,
        max_workers: int,
        queue_timeout_seconds: float,
        create_worker: Callable[[], WorkerProcess],
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_concurrency of {function_name} must be at least 1, not {max_workers}.")
        self.function_name = function_name
        self._max_workers = max_workers
        self._queue_timeout_seconds = queue_timeout_seconds
        self._create_worker = create_worker
        self._condition = threading.Condition()
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        # Workers that exist or are starting, at most max_workers.
        self._worker_count = 0
        # Incremented by recycle(). A worker started before the increment is retired on release.
        self._generation = 0
        self._worker_generation: dict[WorkerProcess, int] = {}
        self._stopped = False

    def acquire(self) -> WorkerProcess:
        """Return a worker reserved for one invocation, starting one when none is idle.

        Raises TooManyRequestsException when no worker frees up in time, and
        WorkerInitError when a new worker cannot load the handler.
        """
        deadline = time.monotonic() + self._queue_timeout_seconds
        with self._condition:
            while True:
                if self._stopped:
                    raise RuntimeStoppedError(f"The Lambda runtime is stopped, so {self.function_name} cannot run.")
                if self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        self._busy.add(worker)
                        return worker
                    self._forget(worker)
                    continue
                if self._worker_count < self._max_workers:
                    self._worker_count += 1
                    generation = self._generation
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # AWS rejects at once when the limit is reached, but the offline stack queues briefly first.
                    raise TooManyRequestsException(
                        "Rate Exceeded.", reason="ReservedFunctionConcurrentInvocationLimitExceeded"
                    )
                self._condition.wait(remaining)

        worker = self._start_worker()
        with self._condition:
            self._worker_generation[worker] = generation
            self._busy.add(worker)
            if not self._stopped:
                return worker
        self.release(worker, reusable=False)
        raise RuntimeStoppedError(f"The Lambda runtime is stopped, so {self.function_name} cannot run.")

    def release(self, worker: WorkerProcess, *, reusable: bool) -> None:
        """Return a worker after an invocation, and stop it unless it may serve another one."""
        with self._condition:
            self._busy.discard(worker)
            current = self._worker_generation.get(worker) == self._generation
            if reusable and current and not self._stopped and worker.alive:
                self._idle.append(worker)
                self._condition.notify()
                return
            self._forget(worker)
        self._stop_worker(worker)

    def prewarm(self) -> None:
        """Start one idle worker unless one exists. An init error is logged, not raised."""
        with self._condition:
            if self._worker_count > 0 or self._stopped:
                return
            self._worker_count += 1
            generation = self._generation
        try:
            worker = self._start_worker()
        except Exception:
            # _start_worker logged the error, and the next invocation returns it to its caller.
            return
        with self._condition:
            self._worker_generation[worker] = generation
            self._busy.add(worker)
        self.release(worker, reusable=True)

    def recycle(self) -> None:
        """Stop the idle workers and retire the busy ones after their current invocation."""
        with self._condition:
            self._generation += 1
            idle, self._idle = self._idle, []
            for worker in idle:
                self._forget(worker)
            busy_count = len(self._busy)
        logger.info(
            "Recycling %s: stopping %d idle workers, retiring %d busy ones after their invocation",
            self.function_name, len(idle), busy_count,
        )
        for worker in idle:
            self._stop_worker(worker)

    def stop(self) -> None:
        """Stop every worker. Busy workers are killed, so their invocations end with an error."""
        with self._condition:
            self._stopped = True
            workers = [*self._idle, *self._busy]
            self._idle = []
            self._condition.notify_all()
        for worker in workers:
            if worker in self._busy:
                worker.kill()
            else:
                self._stop_worker(worker)

    def _start_worker(self) -> WorkerProcess:
        try:
            worker = self._create_worker()
            init_ms = worker.start()
        except Exception as exc:
            with self._condition:
                self._worker_count -= 1
                self._condition.notify()
            logger.error("A new worker of %s failed to start: %s", self.function_name, exc)
            raise
        logger.info("Started worker %s of %s (cold start, init %.0f ms)", worker.pid, self.function_name, init_ms)
        return worker

    def _stop_worker(self, worker: WorkerProcess) -> None:
        worker.stop()
        logger.info("Stopped worker %s of %s", worker.pid, self.function_name)

    def _forget(self, worker: WorkerProcess) -> None:
        # Called with the condition held.
        self._worker_generation.pop(worker, None)
        self._worker_count -= 1
        self._condition.notify()
