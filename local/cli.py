"""Command line of the offline stack: `python -m local up`, `outputs`, `outbox`, `token`, `seed` and `logs`."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import IO, Any

from local.config import (
    DEFAULT_HOST,
    DEFAULT_NOTIFICATION_EMAIL,
    DEFAULT_PORT,
    DEFAULT_PREFIX,
    DEFAULT_REGION,
    ENVIRONMENT_VARIABLES,
    LOG_LEVELS,
    ConfigError,
    StackConfig,
)
from local import devtools
from local.logs import configure_logging

logger = logging.getLogger(__name__)

QUERY_TIMEOUT_SECONDS = 10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="The survey app's offline stack: AWS APIs on one edge endpoint, the website, and the Lambda functions.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="start the stack in the foreground; Ctrl-C stops it",
        description="Start the offline stack (edge endpoint, Lambda workers, local Cognito, website) in the foreground. Ctrl-C stops it.",
    )
    _add_address_options(up)
    up.add_argument(
        "--web-port", type=int, metavar="PORT",
        help=f"port of the website (default: edge port + 1; env {ENVIRONMENT_VARIABLES['web_port']})",
    )
    up.add_argument(
        "--prefix", metavar="NAME",
        help=f"prefix of every resource name, e.g. <prefix>-surveys (default {DEFAULT_PREFIX}; env {ENVIRONMENT_VARIABLES['prefix']})",
    )
    up.add_argument(
        "--region", metavar="REGION",
        help=f"AWS region in ARNs, user pool id and clients (default {DEFAULT_REGION}; env {ENVIRONMENT_VARIABLES['region']})",
    )
    up.add_argument(
        "--account-id", metavar="ID",
        help=f"12-digit AWS account id in ARNs and bucket names (default 123456789012; env {ENVIRONMENT_VARIABLES['account_id']})",
    )
    up.add_argument(
        "--require-confirmation", action=argparse.BooleanOptionalAction, default=None,
        help="require the emailed code (read it from the outbox) before a new user can log in "
        f"(default off; env {ENVIRONMENT_VARIABLES['require_confirmation']})",
    )
    up.add_argument(
        "--notification-email", metavar="ADDRESS",
        help="address subscribed to the notifications topic; its messages land in the outbox "
        f"(default {DEFAULT_NOTIFICATION_EMAIL}; env {ENVIRONMENT_VARIABLES['notification_email']})",
    )
    up.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS,
        help=f"minimum level of the terminal log and of the functions' Powertools log (default INFO; env {ENVIRONMENT_VARIABLES['log_level']})",
    )
    up.add_argument(
        "--data-dir", metavar="DIR",
        help="folder where the stack keeps its state (tables, objects, users, outbox) between runs; '' keeps it "
        f"in memory (default .local-data in the repository; env {ENVIRONMENT_VARIABLES['data_dir']})",
    )
    up.add_argument(
        "--persist", action=argparse.BooleanOptionalAction, default=None,
        help="keep the state in the data folder; --no-persist keeps it in memory only, for fast throwaway runs "
        f"(default on, and on whenever --data-dir is given; env {ENVIRONMENT_VARIABLES['persist']})",
    )
    up.add_argument(
        "--reset", action="store_true",
        help="delete the state saved in the data folder before starting, so the stack starts empty",
    )
    up.add_argument(
        "--reload", action=argparse.BooleanOptionalAction, default=None,
        help="restart a function's workers when a file of its package changes, so edits take effect on the next "
        f"request; --no-reload turns it off (default on; env {ENVIRONMENT_VARIABLES['reload']})",
    )
    up.add_argument(
        "--services-dir", metavar="DIR",
        help="folder with the functions' source folders (frontend_fn, backend_fn), for running a copy of the code "
        f"(default services in the repository; env {ENVIRONMENT_VARIABLES['services_dir']})",
    )
    up.set_defaults(handler=run_up)

    outputs = commands.add_parser(
        "outputs",
        help="print the running stack's outputs (URLs, names) as JSON",
        description="Print the running stack's outputs, named as `terraform output` names them for AWS.",
    )
    _add_address_options(outputs, bind=False)
    outputs.set_defaults(handler=run_outputs)

    outbox = commands.add_parser(
        "outbox",
        help="print the emails the running stack would have sent, oldest first",
        description="Print the emails the running stack would have sent (deletion notifications, confirmation codes), oldest first.",
    )
    _add_address_options(outbox, bind=False)
    outbox.add_argument("--json", action="store_true", help="print the messages as JSON instead of readable text")
    outbox.set_defaults(handler=run_outbox)

    token = commands.add_parser(
        "token", help="print an ID token of a user of the running stack, for curl and scripts",
        description="Print an ID token of a user of the running stack on stdout, e.g. "
        "TOKEN=$(python -m local token ana@example.com --create). Without --password the stack issues the "
        "token without checking one; with --password it signs in as the web app does.",
    )
    _add_address_options(token, bind=False)
    token.add_argument("email", help="email address of the user")
    token.add_argument("--password", help="sign in with this password (and give it to a user that --create creates)")
    token.add_argument(
        "--create", action="store_true",
        help="sign the user up and confirm it first, unless it exists; without --password it gets a random "
        "password, printed on stderr",
    )
    token.add_argument("--json", action="store_true", help="print the ID, access and refresh tokens as JSON")
    token.set_defaults(handler=devtools.run_token)

    seed = commands.add_parser(
        "seed", help="create demo data through the API: a user, surveys from the templates, responses",
        description="Create a demo user, surveys from the survey templates and random responses through the "
        "running stack's API, then print the user's email and password and each survey's links.",
    )
    _add_address_options(seed, bind=False)
    seed.add_argument("--surveys", type=int, default=3, metavar="N", help="number of surveys to create (default 3)")
    seed.add_argument(
        "--responses", type=int, default=200, metavar="M", help="number of responses to submit to each survey (default 200)"
    )
    seed.add_argument("--email", default=devtools.DEMO_EMAIL, help=f"email of the demo user (default {devtools.DEMO_EMAIL})")
    seed.add_argument(
        "--password", default=devtools.DEMO_PASSWORD, help=f"password of the demo user (default {devtools.DEMO_PASSWORD})"
    )
    seed.add_argument(
        "--random-seed", type=int, metavar="N", help="seed of the random answers, for the same data on every run"
    )
    seed.set_defaults(handler=devtools.run_seed)

    logs = commands.add_parser(
        "logs", help="print a function's recent log lines; --follow keeps printing new ones",
        description="Print the recent log lines of one Lambda function of the running stack, oldest first. "
        "The stack keeps the last 2000 lines of each function.",
    )
    _add_address_options(logs, bind=False)
    logs.add_argument("function", help="function name, e.g. survey-frontend, or the part after the prefix: frontend, backend")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument("--lines", "-n", type=int, default=50, metavar="N", help="number of recent lines to print first (default 50)")
    logs.add_argument("--json", action="store_true", help="print each line as a JSON object with its sequence number")
    logs.set_defaults(handler=devtools.run_logs)
    return parser


def _add_address_options(parser: argparse.ArgumentParser, *, bind: bool = True) -> None:
    what = "address to listen on" if bind else "address of the running stack"
    parser.add_argument(
        "--host", metavar="ADDRESS",
        help=f"{what} (default {DEFAULT_HOST}; env {ENVIRONMENT_VARIABLES['host']})",
    )
    parser.add_argument(
        "--port", type=int, metavar="PORT",
        help=f"port of the AWS edge endpoint (default {DEFAULT_PORT}; env {ENVIRONMENT_VARIABLES['port']})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


# --- up ---------------------------------------------------------------------


def run_up(args: argparse.Namespace) -> int:
    from local.stack import OfflineStack, StackStartError

    config = StackConfig.from_sources(
        {
            "host": args.host,
            "port": args.port,
            "web_port": args.web_port,
            "prefix": args.prefix,
            "region": args.region,
            "account_id": args.account_id,
            "require_confirmation": args.require_confirmation,
            "notification_email": args.notification_email,
            "log_level": args.log_level,
            "data_dir": args.data_dir,
            # An explicit --data-dir means the caller wants the state kept, even when SURVEY_LOCAL_PERSIST is false.
            "persist": True if args.persist is None and args.data_dir else args.persist,
            "reload": args.reload,
            "services_dir": args.services_dir,
        }
    )
    if args.reset and config.data_dir is None:
        raise ConfigError("--reset deletes the saved state of a data folder, but this stack keeps its state in memory.")
    configure_logging(config.log_level)
    if config.host not in (DEFAULT_HOST, "localhost", "::1"):
        logger.warning(
            "Listening on %s: the stack checks no AWS credentials, so anyone who reaches this address can read "
            "and change its data.", config.host,
        )

    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, frame: stop_requested.set())

    stack = OfflineStack(config, reset_state=args.reset)
    try:
        stack.start()
    except StackStartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        stop_requested.wait()
    finally:
        stack.stop()
        print("Stopped", flush=True)
    return 0


# --- queries of a running stack -----------------------------------------------


class StackNotRunning(RuntimeError):
    """Raised when no offline stack responds at the address. The message explains how to start one."""


def edge_url_from(args: argparse.Namespace) -> str:
    config = StackConfig.from_sources({"host": args.host, "port": args.port})
    return config.edge_url


def fetch_json(url: str) -> Any:
    """GET a control endpoint of a running stack and decode its JSON body."""
    # No proxy: the request goes straight to the local stack even when HTTP_PROXY is set.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=QUERY_TIMEOUT_SECONDS) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise StackNotRunning(
            f"{url} returned HTTP {error.code}; is the program on that port the offline stack (`make up`)?"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        base = url.split("/_local/", 1)[0]
        raise StackNotRunning(
            f"No offline stack is running at {base} ({reason}). Start it with `make up`, "
            "or pass --port if it runs on another port."
        ) from error


def run_outputs(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    out = out if out is not None else sys.stdout
    try:
        outputs = fetch_json(f"{edge_url_from(args)}/_local/outputs")
    except StackNotRunning as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(outputs, indent=2, sort_keys=True), file=out)
    return 0


def run_outbox(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    out = out if out is not None else sys.stdout
    try:
        messages = fetch_json(f"{edge_url_from(args)}/_local/outbox")["messages"]
    except StackNotRunning as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(messages, indent=2), file=out)
        return 0
    if not messages:
        print("The outbox is empty.", file=out)
    for message in messages:
        print(format_message(message), file=out)
    return 0


def format_message(message: dict[str, str]) -> str:
    """Render one outbox message as a short email-like block."""
    return "\n".join(
        [
            f"--- {message['sent_at']}  {message['source']}",
            f"To:      {message['to']}",
            f"Subject: {message['subject']}",
            "",
            message["body"],
            "",
        ]
    )
