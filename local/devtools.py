"""Developer subcommands of `python -m local` that talk to a running stack: token, seed and logs.

Each command reads the stack's address from --host and --port (or their environment
variables), and ends with a one-line error and exit code 1 when no stack responds there.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from local.config import StackConfig
from local.logs import compact_function_log_line

REQUEST_TIMEOUT_SECONDS = 30
# How often `logs --follow` requests new lines from the stack, in seconds.
FOLLOW_POLL_SECONDS = 0.5
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "Demo-password-1"
# Threads that submit the seeded responses.
SEED_CLIENTS = 8
MAX_SEED_SURVEYS = 50
MAX_SEED_RESPONSES = 10_000
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."

# No proxy: every request goes straight to the stack, even when HTTP_PROXY is set.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CommandError(RuntimeError):
    """A command failed. The message gives the cause and the fix, and is printed as `error: <message>`."""


class CognitoCallError(CommandError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class HttpResult:
    status: int
    body: Any


class StackClient:
    """HTTP calls to one running stack: control endpoints, the cognito-idp API and the survey API."""

    def __init__(self, edge_url: str) -> None:
        self.edge_url = edge_url.rstrip("/")
        self._outputs: dict[str, str] | None = None

    def request(
        self, method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None
    ) -> HttpResult:
        """Send one request and decode the JSON body; raise CommandError when the stack does not respond."""
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with _opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                return HttpResult(response.status, _decode(response.read()))
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, _decode(error.read()))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CommandError(
                f"No offline stack is running at {self.edge_url} ({reason}). Start it with `make up`, "
                "or pass --port if it runs on another port."
            ) from error

    def control(self, method: str, path: str, body: Any = None) -> HttpResult:
        result = self.request(method, f"{self.edge_url}/_local/{path}", body=body)
        if result.status >= 500 or not isinstance(result.body, dict):
            raise CommandError(
                f"{self.edge_url}/_local/{path} returned HTTP {result.status}; "
                "is the program on that port the offline stack (`make up`)?"
            )
        return result

    def outputs(self) -> dict[str, str]:
        if self._outputs is None:
            self._outputs = self.control("GET", "outputs").body
        return self._outputs

    def cognito(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call one action of the local Cognito's JSON protocol; raise CognitoCallError with its error code."""
        result = self.request(
            "POST", self.edge_url, body=body,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET_PREFIX + action},
        )
        if result.status != 200:
            error = result.body if isinstance(result.body, dict) else {}
            code = str(error.get("__type", f"HTTP {result.status}")).rsplit("#", 1)[-1]
            raise CognitoCallError(code, str(error.get("message", "")))
        return result.body

    def api(self, method: str, path: str, *, body: Any = None, token: str | None = None,
            headers: dict[str, str] | None = None) -> HttpResult:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.request(method, f"{self.outputs()['api_url']}{path}", body=body, headers=all_headers)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def edge_url_from(args: argparse.Namespace) -> str:
    return StackConfig.from_sources({"host": args.host, "port": args.port}).edge_url


def _run(command: Callable[[StackClient], int], args: argparse.Namespace) -> int:
    try:
        return command(StackClient(edge_url_from(args)))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of the output left early, as `| head` does. Pointing stdout at devnull
        # keeps Python's final flush from raising again (the Python docs' recipe for SIGPIPE).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


# --- token ------------------------------------------------------------------------------


def run_token(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Print an ID token for a user, creating the user first with --create."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    return _run(lambda client: _token(client, args, out, err), args)


def _token(client: StackClient, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    email = args.email.strip()
    if args.create:
        password = args.password or generated_password()
        if create_user(client, email, password):
            shown = "the given password" if args.password else f"password {password}"
            print(f"Created user {email} with {shown}.", file=err)
        else:
            print(f"User {email} exists already.", file=err)
    tokens = log_in(client, email, args.password) if args.password else issue_token(client, email)
    if args.json:
        print(json.dumps(tokens, indent=2), file=out)
    else:
        print(tokens["id_token"], file=out)
    return 0


def generated_password() -> str:
    """Return a random password that meets the pool's policy: 8+ characters, upper, lower and a digit."""
    return f"Local-{secrets.token_hex(8)}-7"


def create_user(client: StackClient, email: str, password: str) -> bool:
    """Sign a user up and confirm it; return False when the email is registered already."""
    outputs = client.outputs()
    try:
        result = client.cognito(
            "SignUp",
            {
                "ClientId": outputs["user_pool_client_id"],
                "Username": email,
                "Password": password,
                "UserAttributes": [{"Name": "email", "Value": email}],
            },
        )
    except CognitoCallError as error:
        if error.code == "UsernameExistsException":
            return False
        raise CommandError(f"Could not create user {email}: {error}") from error
    if not result.get("UserConfirmed"):
        client.cognito("AdminConfirmSignUp", {"UserPoolId": outputs["user_pool_id"], "Username": email})
    return True


def log_in(client: StackClient, email: str, password: str) -> dict[str, Any]:
    """Sign in with a password (USER_PASSWORD_AUTH) and return the tokens in the API's /auth/login shape."""
    try:
        result = client.cognito(
            "InitiateAuth",
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client.outputs()["user_pool_client_id"],
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            },
        )
    except CognitoCallError as error:
        if error.code == "NotAuthorizedException":
            raise CommandError(f"Wrong email or password for {email}, or no such user; add --create to create it.") from error
        raise CommandError(f"Could not sign in {email}: {error}") from error
    authentication = result["AuthenticationResult"]
    return {
        "id_token": authentication["IdToken"],
        "access_token": authentication["AccessToken"],
        "refresh_token": authentication.get("RefreshToken"),
        "expires_in": authentication["ExpiresIn"],
        "token_type": "Bearer",
    }


def issue_token(client: StackClient, email: str) -> dict[str, Any]:
    """Get tokens for a confirmed user without its password, from POST /_local/token."""
    result = client.control("POST", "token", {"email": email})
    if result.status != 200:
        raise CommandError(str(result.body.get("message", f"POST /_local/token returned HTTP {result.status}")))
    return result.body


# --- seed -------------------------------------------------------------------------------


@dataclass
class SeededSurvey:
    survey_id: str
    title: str
    responses: int


def run_seed(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    """Create a demo user, surveys from the templates and responses, then print the user and the links."""
    out = out if out is not None else sys.stdout
    if not 0 <= args.surveys <= MAX_SEED_SURVEYS:
        print(f"error: --surveys must be from 0 to {MAX_SEED_SURVEYS}, got {args.surveys}", file=sys.stderr)
        return 2
    if not 0 <= args.responses <= MAX_SEED_RESPONSES:
        print(f"error: --responses must be from 0 to {MAX_SEED_RESPONSES}, got {args.responses}", file=sys.stderr)
        return 2
    return _run(lambda client: _seed(client, args, out), args)


def _seed(client: StackClient, args: argparse.Namespace, out: IO[str]) -> int:
    rng = random.Random(args.random_seed)
    token = demo_user_token(client, args.email, args.password)
    templates = _expect(client.api("GET", "/templates", token=token), 200, "list the templates")["templates"]
    if not templates and args.surveys:
        raise CommandError("The stack has no survey templates, so seed cannot create surveys.")

    seeded = []
    for index in range(args.surveys):
        name = templates[index % len(templates)]["name"]
        template = _expect(client.api("GET", f"/template?name={urllib.parse.quote(name)}", token=token), 200, f"read template {name}")
        title = template["title"] if index < len(templates) else f"{template['title']} ({index // len(templates) + 1})"
        body = {"title": title, "description": template.get("description", ""), "questions": template["questions"]}
        survey = _expect(client.api("POST", "/survey/create", body=body, token=token), 201, f"create survey {title!r}")
        submitted = submit_responses(client, survey, args.responses, rng)
        seeded.append(SeededSurvey(survey["survey_id"], title, submitted))

    website = client.outputs()["website_url"].rstrip("/")
    print(f"Demo user  {args.email}", file=out)
    print(f"Password   {args.password}", file=out)
    print(f"Website    {website}/", file=out)
    for survey in seeded:
        print("", file=out)
        print(f"{survey.title}: {survey.responses} {'response' if survey.responses == 1 else 'responses'}", file=out)
        print(f"  results  {website}/survey.html?id={survey.survey_id}", file=out)
        print(f"  share    {website}/respond.html?id={survey.survey_id}", file=out)
    return 0


def demo_user_token(client: StackClient, email: str, password: str) -> str:
    """Sign the demo user up (unless it exists), confirm it, log in through the API and return its ID token."""
    signup = client.api("POST", "/auth/signup", body={"email": email, "password": password})
    if signup.status == 201 and not signup.body.get("confirmed"):
        client.cognito("AdminConfirmSignUp", {"UserPoolId": client.outputs()["user_pool_id"], "Username": email})
    elif signup.status not in (201, 409):
        raise CommandError(f"Could not sign up {email}: {_api_message(signup)}")
    login = client.api("POST", "/auth/login", body={"email": email, "password": password})
    if login.status == 401:
        raise CommandError(f"{email} exists with another password. Pass it with --password, or use another --email.")
    return _expect(login, 200, f"log in {email}")["id_token"]


def submit_responses(client: StackClient, survey: dict[str, Any], count: int, rng: random.Random) -> int:
    """Submit `count` random valid responses from SEED_CLIENTS threads; return how many were stored."""
    answer_sets = [random_answers(survey["questions"], random.Random(rng.getrandbits(64))) for _ in range(count)]

    def submit(answers: dict[str, Any]) -> bool:
        result = client.api(
            "POST", "/survey/respond",
            body={"survey_id": survey["survey_id"], "answers": answers},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        return result.status in (200, 201)

    with ThreadPoolExecutor(max_workers=SEED_CLIENTS, thread_name_prefix="seed") as pool:
        stored = sum(pool.map(submit, answer_sets))
    if stored < count:
        print(f"warning: {count - stored} of {count} responses to {survey['title']!r} were rejected", file=sys.stderr)
    return stored


TEXT_ANSWERS = (
    "Great, thank you!", "It was fine.", "Too long for my taste.", "More of this, please.",
    "The venue was hard to find.", "I would recommend it to a colleague.",
)


def random_answers(questions: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """Return answers that the backend accepts: every required question, and most optional ones."""
    answers: dict[str, Any] = {}
    for question in questions:
        if not question.get("required") and rng.random() < 0.2:
            continue
        answers[question["id"]] = random_answer(question, rng)
    return answers


def random_answer(question: dict[str, Any], rng: random.Random) -> Any:
    kind = question["type"]
    if kind == "single_choice":
        return rng.choice(question["options"])
    if kind == "multiple_choice":
        options = question["options"]
        return rng.sample(options, rng.randint(1, min(3, len(options))))
    if kind == "rating":
        return rng.randint(question.get("min", 1), question.get("max", 5))
    if kind == "number":
        low = question.get("min", 0)
        high = question.get("max", low + 100)
        if float(low).is_integer() and float(high).is_integer():
            return rng.randint(int(low), int(high))
        return min(max(round(rng.uniform(low, high), 2), low), high)
    text = rng.choice(TEXT_ANSWERS)
    return text[: question.get("max_length", len(text))]


def _expect(result: HttpResult, status: int, action: str) -> dict[str, Any]:
    if result.status != status:
        raise CommandError(f"Could not {action}: HTTP {result.status}, {_api_message(result)}")
    return result.body


def _api_message(result: HttpResult) -> str:
    if isinstance(result.body, dict) and "message" in result.body:
        return str(result.body["message"])
    return str(result.body)[:200]


# --- logs -------------------------------------------------------------------------------


def run_logs(args: argparse.Namespace, out: IO[str] | None = None, stop: Callable[[], bool] | None = None) -> int:
    """Print a function's recent log lines, then with --follow keep printing new ones until Ctrl-C.

    `stop` ends following when it returns True; tests pass it, the command line uses Ctrl-C.
    """
    out = out if out is not None else sys.stdout
    if args.lines < 1:
        print(f"error: --lines must be at least 1, got {args.lines}", file=sys.stderr)
        return 2
    return _run(lambda client: _logs(client, args, out, stop or (lambda: False)), args)


def _logs(client: StackClient, args: argparse.Namespace, out: IO[str], stop: Callable[[], bool]) -> int:
    page = fetch_log_lines(client, args.function, after=0)
    for line in page["lines"][-args.lines:]:
        print(format_log_line(line, page["function"], as_json=args.json), file=out, flush=True)
    after = page["next"]
    try:
        while args.follow and not stop():
            time.sleep(FOLLOW_POLL_SECONDS)
            page = fetch_log_lines(client, args.function, after=after)
            for line in page["lines"]:
                print(format_log_line(line, page["function"], as_json=args.json), file=out, flush=True)
            after = page["next"]
    except KeyboardInterrupt:
        pass
    return 0


def fetch_log_lines(client: StackClient, function_name: str, *, after: int) -> dict[str, Any]:
    query = urllib.parse.urlencode({"function": function_name, "after": after})
    result = client.control("GET", f"logs?{query}")
    if result.status != 200:
        raise CommandError(str(result.body.get("message", f"GET /_local/logs returned HTTP {result.status}")))
    return result.body


def format_log_line(line: dict[str, Any], function_name: str, *, as_json: bool = False) -> str:
    """Render one stored line as `HH:MM:SS.mmm LEVEL [request id] message`, or as one JSON object."""
    if as_json:
        return json.dumps(line)
    message = line["message"]
    request_id = line.get("request_id") or "-"
    compact = compact_function_log_line(message, record_level=line["level"], logger_name=function_name)
    if compact is not None:
        message, function_request_id = compact
        if request_id == "-" and function_request_id:
            request_id = function_request_id
    clock = line["time"][11:23]
    return f"{clock} {line['level']:<7} [{request_id}] {message}"
