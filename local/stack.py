"""The offline stack in one process: edge endpoint, website, local Cognito, Lambda workers and API proxy."""
from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, Protocol

from werkzeug.serving import BaseWSGIServer, make_server

from local.apigateway import RawHeadersRequestHandler
from local.config import StackConfig
from local.control import FAILED, RUNNING, STOPPED, ControlEndpoints, StackStatus
from local.edge import INTERNAL_USER_AGENT, CognitoApp, EdgeApp, JsonErrorRequestHandler, WsgiApp, create_moto_app
from local.names import StackNames
from local.outbox import Outbox
from local.outputs import stack_outputs
from local.persistence import DataDirLockedError, RestoreSummary, StateStore, StateStoreError
from local.dev_endpoints import DevEndpoints, FunctionLogBuffer
from local.provision import WebsiteSettings, provision
from local.reload import HotReloader, start_hot_reload
from local.sns_email import install_email_delivery
from local.website import WebsiteApp

logger = logging.getLogger(__name__)

SERVICES = ("edge", "moto", "cognito-idp", "lambda", "apigateway", "website")


class StackStartError(RuntimeError):
    """Raised when the stack cannot start. The message gives the cause and the fix."""


class Runtime(Protocol):
    """The part of LambdaRuntime that the stack calls."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...


class ApiProxy(Protocol):
    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...


CognitoFactory = Callable[[StackConfig, Outbox], CognitoApp]
RuntimeFactory = Callable[[StackConfig, StackNames], Runtime]
ApiProxyFactory = Callable[[Runtime, StackConfig, StackNames], ApiProxy]


def default_cognito(config: StackConfig, outbox: Outbox) -> CognitoApp:
    from local.cognito import LocalCognito

    return LocalCognito(
        issuer=config.token_issuer,
        user_pool_id=config.user_pool_id,
        client_id=config.user_pool_client_id,
        outbox=outbox,
        require_confirmation=config.require_confirmation,
    )


def default_runtime(config: StackConfig, names: StackNames) -> Runtime:
    from local.functions import function_configs
    from local.lambda_runtime import LambdaRuntime

    return LambdaRuntime(function_configs(config, names), region=config.region, account_id=config.account_id)


def default_api_proxy(runtime: Runtime, config: StackConfig, names: StackNames) -> ApiProxy:
    from local.apigateway import RestApiProxy

    return RestApiProxy(
        runtime,  # type: ignore[arg-type]
        function_name=names.frontend_function_name,
        api_id=config.api_id,
        stage=names.api_stage,
        openapi_path=config.repo_root / "api" / "openapi.yaml",
        cors_allow_origin=config.website_url,
        account_id=config.account_id,
        region=config.region,
    )


class OfflineStack:
    """Start, serve and stop every part of the offline stack; usable as a context manager.

    `start()` binds both ports first, so a busy port fails before anything else starts.
    """

    def __init__(
        self,
        config: StackConfig,
        *,
        out: IO[str] | None = None,
        cognito_factory: CognitoFactory = default_cognito,
        runtime_factory: RuntimeFactory = default_runtime,
        api_proxy_factory: ApiProxyFactory = default_api_proxy,
        moto_app_factory: Callable[[], WsgiApp] = create_moto_app,
        reset_state: bool = False,
    ) -> None:
        """`reset_state` deletes the state saved in `config.data_dir` before the stack restores it."""
        self.config = config
        self.names = StackNames(config.prefix, config.account_id, config.region, repo_root=config.repo_root)
        self.outbox = Outbox()
        self.status = StackStatus(SERVICES)
        self._out = out if out is not None else sys.stdout
        self._cognito_factory = cognito_factory
        self._runtime_factory = runtime_factory
        self._api_proxy_factory = api_proxy_factory
        self._moto_app_factory = moto_app_factory
        self._reset_state = reset_state
        self.state_store: StateStore | None = None
        self.cognito: CognitoApp | None = None
        self.runtime: Runtime | None = None
        # Bound servers with the thread that serves each, None until it serves.
        self._servers: dict[str, tuple[BaseWSGIServer, threading.Thread | None]] = {}
        self._uninstall_email_delivery: Callable[[], None] | None = None
        self._ready = threading.Event()
        self._stop_lock = threading.Lock()
        self.edge: EdgeApp | None = None
        self._hot_reload: HotReloader | None = None
        self._boto3_session: Any = None
        self._aws_clients: dict[str, Any] = {}
        self._aws_clients_lock = threading.Lock()
        # Recent output lines of each function, for GET /_local/logs and `python -m local logs`.
        self.function_logs = FunctionLogBuffer()

    def __enter__(self) -> OfflineStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def outputs(self) -> dict[str, str]:
        return stack_outputs(self.config, self.names)

    # --- start --------------------------------------------------------------

    def start(self) -> None:
        """Start every part and provision the resources, or raise StackStartError on failure."""
        started = time.monotonic()
        self._bind_servers()
        try:
            self._start_parts()
        except Exception as error:
            for service, state in self.status.snapshot().items():
                if state != RUNNING:
                    self.status.set(service, FAILED)
            if not isinstance(error, StackStartError):
                # A StackStartError already names the cause and the fix, and the CLI prints it.
                logger.exception("The offline stack failed to start")
            self.stop()
            if isinstance(error, StackStartError):
                raise
            raise StackStartError(f"The offline stack failed to start: {error}") from error
        self._ready.set()
        self._print_urls()
        self._print(f"Ready in {time.monotonic() - started:.1f} s")
        logger.debug("Ready")

    def _bind_servers(self) -> None:
        from moto.server import MotoRequestHandler

        from local import moto_patches

        moto_patches.install()
        control = ControlEndpoints(
            status=self.status, outputs=self.outputs, outbox=self.outbox, signer=lambda: self.cognito  # type: ignore[arg-type, return-value]
        ).wsgi_app
        dev_endpoints = DevEndpoints(
            logs=self.function_logs,
            function_names=lambda: [function.name for function in self.names.functions.values()],
            issuer=lambda: self.cognito,  # type: ignore[arg-type, return-value]
        )
        self.function_logs.install()
        self.edge = EdgeApp(
            control=dev_endpoints.wrap(control),
            moto_app=self._moto_app_factory(),
            account_id=self.config.account_id,
        )
        # MotoRequestHandler keeps headers with underscores (S3 metadata) that werkzeug drops,
        # and RawHeadersRequestHandler keeps header names as the client spelled them for API events.
        web_origin = self.config.website_url

        class EdgeRequestHandler(JsonErrorRequestHandler, RawHeadersRequestHandler, MotoRequestHandler):
            cors_allow_origin = web_origin

        edge_server = self._bind("edge", self.config.port, self.edge, EdgeRequestHandler)
        try:
            web_server = self._bind("website", self.config.web_port, _LazyApp(), None)
        except BaseException:
            edge_server.server_close()
            raise
        self._servers = {"edge": (edge_server, None), "website": (web_server, None)}

    def _bind(self, part: str, port: int, app: WsgiApp, handler: Any) -> BaseWSGIServer:
        # Bind here rather than in make_server, which prints its own message and calls sys.exit on failure.
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.config.host, port))
            listener.listen(128)
        except OSError as error:
            listener.close()
            raise StackStartError(_bind_error_message(part, self.config.host, port, error)) from error
        with listener:
            # The server works on a duplicate of the descriptor, so this one can close.
            return make_server(
                self.config.host, port, app, threaded=True, request_handler=handler, fd=listener.fileno()
            )

    def _start_parts(self) -> None:
        assert self.edge is not None
        if self.config.data_dir is not None:
            self._restore_state(self.config.data_dir)
        else:
            self._print("State           in memory only; nothing is kept after the stack stops")
        self._serve("edge")
        self.status.set("edge", RUNNING)
        self.status.set("moto", RUNNING)
        self._print(f"Edge endpoint   {self.config.edge_url} (DynamoDB, S3, SNS, IAM, STS via moto)")

        # The workers import their code while the stack provisions, because neither needs the other.
        self.runtime = self._runtime_factory(self.config, self.names)
        prewarm = threading.Thread(target=self.runtime.start, name="lambda-prewarm", daemon=True)
        prewarm.start()

        self._uninstall_email_delivery = install_email_delivery(self.outbox)
        self.cognito = self._cognito_factory(self.config, self.outbox)
        if self.state_store is not None:
            self.cognito = self.state_store.attach_cognito(self.cognito)  # type: ignore[arg-type]
            self._print(_restore_line(self.state_store.summary))
        self.edge.cognito = self.cognito
        self.status.set("cognito-idp", RUNNING)
        self._print(f"Cognito         user pool {self.config.user_pool_id}, client {self.config.user_pool_client_id}")

        self._print("Provisioning    tables, buckets, web app, topic, roles")
        provision(
            self._aws_client,
            self.names,
            website=WebsiteSettings(
                api_url=self.config.api_url(self.names.api_stage),
                user_pool_client_id=self.config.user_pool_client_id,
                signup_requires_code=self.config.require_confirmation,
            ),
            notification_email=self.config.notification_email,
            web_dir=self.config.repo_root / "web",
            templates_dir=self.config.repo_root / "infra" / "templates",
            progress=lambda line: self._print(f"  {line}"),
        )

        web_server, _ = self._servers["website"]
        web_server.app.target = WebsiteApp(  # type: ignore[attr-defined]
            s3_client=self._aws_client("s3"), bucket=self.names.public_bucket, api_origin=self.config.edge_url
        )
        self._serve("website")
        self.status.set("website", RUNNING)
        self._print(f"Website         {self.config.website_url}/")

        prewarm.join()
        self.edge.lambda_app = self.runtime.wsgi_app
        self.status.set("lambda", RUNNING)
        self._print(f"Lambda          {self.names.frontend_function_name}, {self.names.backend_function_name} (worker processes)")
        if self.config.reload:
            self._hot_reload = start_hot_reload(self.runtime)
            if self._hot_reload is not None:
                self._print("Hot reload      on: saving a file of a function's package restarts its workers")

        self.edge.apigateway_app = self._api_proxy_factory(self.runtime, self.config, self.names).wsgi_app
        self.status.set("apigateway", RUNNING)
        self._print(f"API Gateway     {self.names.api_name}, stage {self.names.api_stage}")

    def _restore_state(self, data_dir: Path) -> None:
        """Lock the data folder, then load moto's state and the outbox before the edge serves a request."""
        assert self.edge is not None
        store = StateStore(
            data_dir,
            identity={"prefix": self.config.prefix, "region": self.config.region, "account_id": self.config.account_id},
        )
        self.state_store = store
        try:
            store.open(reset=self._reset_state)
            if self._reset_state:
                count = len(store.summary.deleted_by_reset)
                self._print(f"State           --reset deleted the saved state in {data_dir} ({count} files)")
            self.edge.moto_app = store.restore_moto(self.edge.moto_app)
            store.restore_outbox(self.outbox)
        except (StateStoreError, DataDirLockedError) as error:
            raise StackStartError(str(error)) from error
        except OSError as error:
            # The data folder and its files raise these: missing parent, read-only, no permission.
            raise StackStartError(
                f"Cannot use the data folder {data_dir}: {error.strerror or error}. "
                "Give a writable folder with --data-dir, or keep the state in memory with --no-persist."
            ) from error

    def _serve(self, part: str) -> None:
        server, _ = self._servers[part]
        # A short poll interval makes stop() return soon after Ctrl-C.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"{part}-server", daemon=True
        )
        thread.start()
        self._servers[part] = (server, thread)
        logger.info("%s listening on %s:%d", part, server.host, server.port)

    def _aws_client(self, service: str) -> Any:
        """Return the stack's own client of `service`, created once (boto3 clients are thread-safe)."""
        with self._aws_clients_lock:
            if service not in self._aws_clients:
                self._aws_clients[service] = self._create_aws_client(service)
            return self._aws_clients[service]

    def _create_aws_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        from local.functions import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY

        # One session for every client, so botocore loads each service model and the endpoint data once.
        if self._boto3_session is None:
            self._boto3_session = boto3.session.Session()
        return self._boto3_session.client(
            service,
            endpoint_url=self.config.edge_url,
            region_name=self.config.region,
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            config=Config(
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
                user_agent_extra=INTERNAL_USER_AGENT,
            ),
        )

    def _print_urls(self) -> None:
        outputs = self.outputs()
        self._print(f"API        {outputs['api_url']}")
        self._print(f"Website    {outputs['website_url']}/")
        self._print(f"Edge       {outputs['aws_endpoint_url']}  (AWS_ENDPOINT_URL)")
        self._print(f"Outbox     {outputs['outbox_url']}")

    def _print(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until `start()` has finished; return False when `timeout` seconds pass first."""
        return self._ready.wait(timeout)

    # --- stop ---------------------------------------------------------------

    def stop(self) -> None:
        """Stop the servers, then the Lambda workers. Safe to call more than once."""
        with self._stop_lock:
            self._ready.clear()
            for server, thread in self._servers.values():
                # shutdown() waits for serve_forever to return, so it must not run on a server never served.
                if thread is not None:
                    server.shutdown()
                    thread.join(timeout=5)
                server.server_close()
            self._servers = {}
            if self._hot_reload is not None:
                self._hot_reload.stop()
                self._hot_reload = None
            self.function_logs.uninstall()
            if self.runtime is not None:
                self.runtime.stop()
                self.runtime = None
            if self._uninstall_email_delivery is not None:
                self._uninstall_email_delivery()
                self._uninstall_email_delivery = None
            if self.state_store is not None:
                snapshot_bytes = self.state_store.close()
                if snapshot_bytes is not None:
                    self._print(f"Saved the state in {self.state_store.folder} ({snapshot_bytes / 1e6:.1f} MB snapshot)")
                self.state_store = None
            for service, state in self.status.snapshot().items():
                if state == RUNNING:
                    self.status.set(service, STOPPED)
            logger.debug("Stopped every part")


class _LazyApp:
    """A WSGI app whose target is set once it exists, so its port can be bound before that."""

    def __init__(self) -> None:
        self.target: WsgiApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.target is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"The website is starting; reload in a moment.\n"]
        return self.target(environ, start_response)


def _restore_line(summary: RestoreSummary) -> str:
    if not summary.found_state:
        return f"State           no saved state yet in {summary.folder}; it is kept there from now on"
    restored = f"{summary.journal_writes} journaled writes"
    if summary.from_snapshot:
        restored = f"the snapshot and {restored}"
    line = (
        f"State           restored {restored} from {summary.folder} in {summary.seconds:.1f} s "
        f"({summary.users} users, {summary.outbox_messages} outbox messages)"
    )
    if summary.rejected_writes:
        line += f"; {summary.rejected_writes} writes failed to replay, see the log"
    return line


def _bind_error_message(part: str, host: str, port: int, error: OSError) -> str:
    option = "--port" if part == "edge" else "--web-port"
    if error.errno == errno.EADDRINUSE:
        hint = "is LocalStack or another `make up` running?" if port == 4566 else "is another program or stack using it?"
        # The edge needs the port after it free as well, for the website's default.
        suggestion = _find_free_port(host, 4600 if port == 4566 else port + 2, consecutive=2 if part == "edge" else 1)
        example = str(suggestion) if suggestion is not None else "<free port>"
        return f"Port {port} ({part}) is already in use ({hint}). Stop it or run `make up ARGS='{option} {example}'`."
    if error.errno == errno.EACCES:
        return f"Permission denied binding {host}:{port} ({part}); use a port above 1023 with {option}."
    return f"Could not listen on {host}:{port} ({part}): {error.strerror or error}. Choose another {option} or --host."


def _find_free_port(host: str, start: int, *, consecutive: int, attempts: int = 50) -> int | None:
    """Return the first port from `start` on where `consecutive` ports in a row are free, or None."""
    for candidate in range(start, min(start + attempts * consecutive, 65536 - consecutive), consecutive):
        if all(_is_port_free(host, candidate + offset) for offset in range(consecutive)):
            return candidate
    return None


def _is_port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
