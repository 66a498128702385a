"""An in-memory stand-in for the survey API and the website, for UI work.

The browser tests run against the offline stack by default. Setting
`SURVEY_BROWSER_STACK=fake` runs them against this module instead: two
threads on free 127.0.0.1 ports, one serving `web/` with the offline stack's
Content-Security-Policy, one serving the API routes with the contract's
shapes, status codes and CORS headers. It checks fewer survey rules than the
real backend, so it is for working on the pages, not for judging the API.
"""
from __future__ import annotations

import csv
import io
import json
import mimetypes
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
TOKEN_LIFETIME_SECONDS = 3600
TEMPLATES = {
    "team-pulse": {
        "name": "team-pulse",
        "title": "Team pulse",
        "description": "A short check on how the team is doing.",
        "questions": [
            {"type": "rating", "text": "How was your week?", "required": True, "min": 1, "max": 5},
            {"type": "single_choice", "text": "Is your workload right?", "options": ["Too little", "Right", "Too much"]},
            {"type": "text", "text": "Anything to add?", "max_length": 1000},
        ],
    },
}


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def content_security_policy(api_origin: str) -> str:
    """Return the offline stack's CSP when `local` is importable, else an equivalent one."""
    try:
        from local.website import content_security_policy as stack_policy
    except ImportError:
        return f"default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' {api_origin}"
    return stack_policy(api_origin)


class ApiFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class FakeState:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    surveys: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], str] = field(default_factory=dict)
    outbox: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeApi:
    """WSGI app that serves the contract's routes from memory."""

    def __init__(self, web_origin: str, require_code: bool = False) -> None:
        self.web_origin = web_origin
        self.require_code = require_code
        self.state = FakeState()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiFailure as failure:
            response = self.json({"error": failure.code, "message": failure.message}, failure.status)
        response.headers["Access-Control-Allow-Origin"] = self.web_origin
        return response(environ, start_response)

    # --- plumbing -------------------------------------------------------------

    def json(self, body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")

    def body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError as exc:
            raise ApiFailure(400, "bad_request", "The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise ApiFailure(400, "bad_request", "The request body must be a JSON object.")
        return body

    def caller(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        session = self.state.tokens.get(token)
        if not session or session["expires_at"] < time.time():
            raise ApiFailure(401, "unauthorized", "The token is missing, invalid or expired.")
        return session

    def owned_survey(self, request: Request) -> dict[str, Any]:
        caller = self.caller(request)
        survey = self.state.surveys.get(request.args.get("survey_id", ""))
        if not survey or survey["owner_sub"] != caller["sub"]:
            raise ApiFailure(404, "not_found", f"Survey {request.args.get('survey_id')} was not found.")
        return survey

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if request.method == "OPTIONS":
            response = Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
            return response
        route = ROUTES.get((request.method, path))
        if route is None:
            raise ApiFailure(404, "not_found", f"No route {request.method} {path}.")
        with self.state.lock:
            return route(self, request)

    # --- auth -------------------------------------------------------------------

    def signup(self, request: Request) -> Response:
        body = self.body(request)
        email, password = str(body.get("email", "")), str(body.get("password", ""))
        if "@" not in email:
            raise ApiFailure(400, "bad_request", "email: enter a valid email address.")
        if len(password) < 8 or password.lower() == password or password.upper() == password or not any(c.isdigit() for c in password):
            raise ApiFailure(400, "bad_request", "password: use at least 8 characters with upper and lower case letters and a digit.")
        if email in self.state.users:
            raise ApiFailure(409, "conflict", f"An account for {email} already exists.")
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.state.users[email] = {"password": password, "sub": str(uuid.uuid4()), "confirmed": not self.require_code, "code": code}
        if self.require_code:
            self.state.outbox.append({"to": email, "subject": "Your code", "body": f"Your confirmation code is {code}", "source": "cognito-idp"})
        return self.json({"email": email, "confirmed": not self.require_code}, 201)

    def confirm(self, request: Request) -> Response:
        body = self.body(request)
        user = self.state.users.get(str(body.get("email")))
        if not user:
            raise ApiFailure(404, "not_found", "No account exists for this email address.")
        if str(body.get("code")) != user["code"]:
            raise ApiFailure(400, "bad_request", "code: the confirmation code is wrong or expired.")
        user["confirmed"] = True
        return self.json({"email": body["email"], "confirmed": True})

    def issue(self, email: str) -> dict[str, Any]:
        user = self.state.users[email]
        id_token = secrets.token_urlsafe(24)
        self.state.tokens[id_token] = {"sub": user["sub"], "email": email, "expires_at": time.time() + TOKEN_LIFETIME_SECONDS}
        return {"id_token": id_token, "access_token": id_token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    def login(self, request: Request) -> Response:
        body = self.body(request)
        email = str(body.get("email"))
        user = self.state.users.get(email)
        if not user or user["password"] != body.get("password"):
            raise ApiFailure(401, "unauthorized", "Incorrect email or password.")
        if not user["confirmed"]:
            raise ApiFailure(403, "user_not_confirmed", "Confirm your email address before signing in.")
        tokens = self.issue(email)
        refresh = secrets.token_urlsafe(24)
        self.state.refresh_tokens[refresh] = email
        return self.json({**tokens, "refresh_token": refresh})

    def refresh(self, request: Request) -> Response:
        email = self.state.refresh_tokens.get(str(self.body(request).get("refresh_token")))
        if not email:
            raise ApiFailure(401, "unauthorized", "The refresh token is invalid or expired.")
        return self.json(self.issue(email))

    def me(self, request: Request) -> Response:
        caller = self.caller(request)
        return self.json({"sub": caller["sub"], "email": caller["email"]})

    # --- owner routes -----------------------------------------------------------

    def validate_survey(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        title = body.get("title")
        if not isinstance(title, str) or not 1 <= len(title.strip()) <= 200:
            raise ApiFailure(400, "bad_request", "title: must be 1 to 200 characters.")
        questions = body.get("questions")
        if not isinstance(questions, list) or not 1 <= len(questions) <= 100:
            raise ApiFailure(400, "bad_request", "questions: a survey needs 1 to 100 questions.")
        stored = []
        for index, question in enumerate(questions):
            if question.get("type") in ("single_choice", "multiple_choice"):
                options = question.get("options") or []
                if len(options) < 2 or len(set(options)) != len(options):
                    raise ApiFailure(400, "bad_request", f"questions[{index}].options: needs 2 to 50 distinct options.")
            entry = {**question, "id": f"q{index + 1}", "required": bool(question.get("required"))}
            if entry["type"] == "rating":
                entry.setdefault("min", 1)
                entry.setdefault("max", 5)
            stored.append(entry)
        return stored

    def create_survey(self, request: Request) -> Response:
        caller = self.caller(request)
        body = self.body(request)
        survey = {
            "survey_id": str(uuid.uuid4()),
            "owner_sub": caller["sub"],
            "title": body["title"] if isinstance(body.get("title"), str) else "",
            "description": body.get("description", ""),
            "questions": self.validate_survey(body),
            "status": "open",
            "created_at": now_iso(),
            "closes_at": body.get("closes_at"),
            "max_responses": body.get("max_responses"),
            "response_count": 0,
        }
        self.state.surveys[survey["survey_id"]] = survey
        self.state.responses[survey["survey_id"]] = []
        return self.json(self.public_view(survey, owner=True), 201)

    def public_view(self, survey: dict[str, Any], owner: bool) -> dict[str, Any]:
        fields = ["survey_id", "title", "description", "questions", "status", "closes_at"]
        if owner:
            fields += ["created_at", "max_responses", "response_count"]
        return {name: survey[name] for name in fields}

    def list_surveys(self, request: Request) -> Response:
        caller = self.caller(request)
        mine = sorted((s for s in self.state.surveys.values() if s["owner_sub"] == caller["sub"]), key=lambda s: s["created_at"], reverse=True)
        page, next_token = self.page(mine, request)
        summaries = [{k: s[k] for k in ("survey_id", "title", "status", "created_at", "response_count")} for s in page]
        return self.json({"surveys": summaries, "next_token": next_token})

    def page(self, items: list[Any], request: Request) -> tuple[list[Any], str | None]:
        limit = int(request.args.get("limit", 25))
        start = int(request.args.get("next_token") or 0)
        end = start + limit
        return items[start:end], (str(end) if end < len(items) else None)

    def get_survey(self, request: Request) -> Response:
        return self.json(self.public_view(self.owned_survey(request), owner=True))

    def patch_survey(self, request: Request) -> Response:
        survey = self.owned_survey(request)
        changes = self.body(request)
        if not changes:
            raise ApiFailure(400, "bad_request", "The request changes nothing.")
        if "questions" in changes:
            if survey["response_count"]:
                raise ApiFailure(409, "conflict", "Questions cannot change once the survey has responses.")
            changes["questions"] = self.validate_survey({"title": survey["title"], **changes})
        if "status" in changes and changes["status"] not in ("open", "closed"):
            raise ApiFailure(400, "bad_request", "status: must be open or closed.")
        survey.update({k: v for k, v in changes.items() if k in ("title", "description", "closes_at", "max_responses", "status", "questions")})
        return self.json(self.public_view(survey, owner=True))

    def delete_survey(self, request: Request) -> Response:
        survey = self.owned_survey(request)
        del self.state.surveys[survey["survey_id"]]
        deleted = len(self.state.responses.pop(survey["survey_id"], []))
        return self.json({"survey_id": survey["survey_id"], "deleted": True, "responses_deleted": deleted})

    def list_responses(self, request: Request) -> Response:
        survey = self.owned_survey(request)
        page, next_token = self.page(self.state.responses[survey["survey_id"]], request)
        return self.json({"responses": page, "next_token": next_token})

    def results(self, request: Request) -> Response:
        survey = self.owned_survey(request)
        responses = self.state.responses[survey["survey_id"]]
        entries = []
        for question in survey["questions"]:
            values = [r["answers"][question["id"]] for r in responses if question["id"] in r["answers"]]
            entry = {"id": question["id"], "type": question["type"], "text": question["text"], "answered": len(values)}
            if question["type"] in ("single_choice", "multiple_choice"):
                counts = {option: 0 for option in question["options"]}
                for value in values:
                    for option in value if isinstance(value, list) else [value]:
                        counts[option] += 1
                entry["counts"] = counts
            elif question["type"] in ("rating", "number"):
                entry.update(count=len(values), average=sum(values) / len(values) if values else None,
                             min=min(values, default=None), max=max(values, default=None))
                if question["type"] == "rating":
                    entry["distribution"] = {str(n): values.count(n) for n in range(question["min"], question["max"] + 1)}
            else:
                entry["count"] = len(values)
            entries.append(entry)
        return self.json({"survey_id": survey["survey_id"], "response_count": len(responses), "questions": entries})

    def export(self, request: Request) -> Response:
        survey = self.owned_survey(request)
        out = io.StringIO()
        writer = csv.writer(out)
        ids = [q["id"] for q in survey["questions"]]
        writer.writerow(["response_id", "submitted_at", *ids])
        for response in self.state.responses[survey["survey_id"]]:
            cells = [response["answers"].get(qid, "") for qid in ids]
            writer.writerow([response["response_id"], response["submitted_at"], *["; ".join(c) if isinstance(c, list) else c for c in cells]])
        return Response(out.getvalue(), content_type="text/csv; charset=utf-8")

    def templates(self, request: Request) -> Response:
        self.caller(request)
        return self.json({"templates": [{"name": t["name"], "title": t["title"]} for t in TEMPLATES.values()]})

    def template(self, request: Request) -> Response:
        self.caller(request)
        found = TEMPLATES.get(request.args.get("name", ""))
        if not found:
            raise ApiFailure(404, "not_found", "No template has this name.")
        return self.json(found)

    # --- respondent routes --------------------------------------------------------

    def open_survey(self, survey_id: str) -> dict[str, Any]:
        survey = self.state.surveys.get(survey_id)
        if not survey:
            raise ApiFailure(404, "not_found", f"Survey {survey_id} was not found.")
        if survey["status"] != "open":
            raise ApiFailure(410, "gone", "This survey is closed.")
        if survey["max_responses"] and survey["response_count"] >= survey["max_responses"]:
            raise ApiFailure(410, "gone", "This survey has reached its response limit.")
        return survey

    def public_survey(self, request: Request) -> Response:
        return self.json(self.public_view(self.open_survey(request.args.get("survey_id", "")), owner=False))

    def respond(self, request: Request) -> Response:
        body = self.body(request)
        survey = self.open_survey(str(body.get("survey_id")))
        key = request.headers.get("Idempotency-Key")
        if key and (survey["survey_id"], key) in self.state.idempotency:
            return self.json({"response_id": self.state.idempotency[(survey["survey_id"], key)]}, 200)
        answers = body.get("answers") or {}
        known = {q["id"]: q for q in survey["questions"]}
        for question_id in answers:
            if question_id not in known:
                raise ApiFailure(400, "bad_request", f"answers.{question_id}: no such question.")
        for question in survey["questions"]:
            if question["required"] and question["id"] not in answers:
                raise ApiFailure(400, "bad_request", f"answers.{question['id']}: an answer is required.")
        response_id = str(uuid.uuid4())
        self.state.responses[survey["survey_id"]].append({"response_id": response_id, "submitted_at": now_iso(), "answers": answers})
        survey["response_count"] += 1
        if key:
            self.state.idempotency[(survey["survey_id"], key)] = response_id
        return self.json({"response_id": response_id}, 201)


ROUTES = {
    ("POST", "/auth/signup"): FakeApi.signup,
    ("POST", "/auth/confirm"): FakeApi.confirm,
    ("POST", "/auth/login"): FakeApi.login,
    ("POST", "/auth/refresh"): FakeApi.refresh,
    ("GET", "/auth/me"): FakeApi.me,
    ("POST", "/survey/create"): FakeApi.create_survey,
    ("GET", "/surveys"): FakeApi.list_surveys,
    ("GET", "/survey"): FakeApi.get_survey,
    ("PATCH", "/survey"): FakeApi.patch_survey,
    ("DELETE", "/survey"): FakeApi.delete_survey,
    ("GET", "/survey/responses"): FakeApi.list_responses,
    ("GET", "/survey/results"): FakeApi.results,
    ("GET", "/survey/export"): FakeApi.export,
    ("GET", "/templates"): FakeApi.templates,
    ("GET", "/template"): FakeApi.template,
    ("GET", "/survey/public"): FakeApi.public_survey,
    ("POST", "/survey/respond"): FakeApi.respond,
}


class StaticSite:
    """WSGI app serving `web/` plus a generated config.json, with the stack's HTML headers."""

    def __init__(self, api_url: str, api_origin: str, require_code: bool) -> None:
        self.config = json.dumps({"api_url": api_url, "user_pool_client_id": "fake-client", "signup_requires_code": require_code})
        self.policy = content_security_policy(api_origin)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        name = request.path.lstrip("/") or "index.html"
        if name == "config.json":
            response = Response(self.config, content_type="application/json")
        else:
            path = (WEB_ROOT / name).resolve()
            if WEB_ROOT not in path.parents or not path.is_file():
                response = Response("Not found", status=404, content_type="text/plain")
            else:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if path.suffix == ".js":
                    content_type = "text/javascript"
                response = Response(path.read_bytes(), content_type=content_type)
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = self.policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response(environ, start_response)


class QuietRequestHandler(WSGIRequestHandler):
    """Skip werkzeug's line per request, which would bury the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeStack:
    """The fake API and website, each a werkzeug server in a daemon thread on a free port."""

    def __init__(self, require_code: bool = False) -> None:
        self.require_code = require_code
        self.servers: list[BaseWSGIServer] = []
        self.threads: list[threading.Thread] = []
        self.api: FakeApi | None = None
        self.api_url = ""
        self.website_url = ""

    def start(self) -> FakeStack:
        api_server = make_server("127.0.0.1", 0, lambda e, s: self.api(e, s), threaded=True, request_handler=QuietRequestHandler)
        api_origin = f"http://127.0.0.1:{api_server.server_port}"
        self.api_url = f"{api_origin}/fake/v1"
        web_server = make_server("127.0.0.1", 0, StaticSite(self.api_url, api_origin, self.require_code), threaded=True,
                                 request_handler=QuietRequestHandler)
        self.website_url = f"http://127.0.0.1:{web_server.server_port}/"
        self.api = FakeApi(web_origin=self.website_url.rstrip("/"), require_code=self.require_code)
        api_server.app = PrefixStripper(self.api, "/fake/v1")
        for server in (api_server, web_server):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self.servers.append(server)
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)


class PrefixStripper:
    """Mount the API under the same kind of stage prefix the real API URL has."""

    def __init__(self, app: FakeApi, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.prefix):
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        return self.app(environ, start_response)
