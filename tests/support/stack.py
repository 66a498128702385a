"""A client for the stack under test: the offline stack or a deployed one."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REQUEST_TIMEOUT_SECONDS = 60
TEST_PASSWORD = "Correct-Horse-9-battery"


@dataclass
class User:
    email: str
    password: str
    id_token: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


@dataclass
class StackUnderTest:
    """The API under test, plus the offline stack's control endpoints when there are any."""

    api_url: str
    edge_url: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def from_edge(cls, edge_url: str, log_path: Path | None = None) -> StackUnderTest:
        outputs = requests.get(f"{edge_url}/_local/outputs", timeout=10).json()
        return cls(api_url=outputs["api_url"].rstrip("/"), edge_url=edge_url, outputs=outputs, log_path=log_path)

    @property
    def is_offline(self) -> bool:
        return self.edge_url is not None

    # --- HTTP helpers -----------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return self.session.request(method, f"{self.api_url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # --- outbox -----------------------------------------------------------

    def has_outbox(self) -> bool:
        return self.outbox_url() is not None

    def outbox_url(self) -> str | None:
        if self.edge_url:
            return f"{self.edge_url}/_local/outbox"
        return os.environ.get("SURVEY_OUTBOX_URL") or None

    def outbox(self) -> list[dict[str, str]]:
        url = self.outbox_url()
        if url is None:
            raise RuntimeError("This stack has no outbox; set SURVEY_OUTBOX_URL or run the offline stack.")
        return requests.get(url, timeout=10).json()["messages"]

    # --- users ------------------------------------------------------------

    def new_email(self, label: str = "user") -> str:
        return f"{label}-{uuid.uuid4().hex[:12]}@example.com"

    def confirm_if_needed(self, email: str, signup_body: dict[str, Any]) -> None:
        if signup_body.get("confirmed"):
            return
        code = self.latest_code(email)
        response = self.post("/auth/confirm", json={"email": email, "code": code})
        assert response.status_code == 200, response.text

    def latest_code(self, email: str) -> str:
        for message in reversed(self.outbox()):
            if message["to"] == email and message["source"] == "cognito-idp":
                return "".join(ch for ch in message["body"] if ch.isdigit())[-6:]
        raise AssertionError(f"no confirmation code for {email} in the outbox")

    def create_user(self, label: str = "user") -> User:
        """Sign up, confirm when the stack requires it, and log in a new user."""
        email = self.new_email(label)
        signup = self.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
        assert signup.status_code == 201, signup.text
        self.confirm_if_needed(email, signup.json())
        login = self.post("/auth/login", json={"email": email, "password": TEST_PASSWORD})
        assert login.status_code == 200, login.text
        tokens = login.json()
        return User(
            email=email,
            password=TEST_PASSWORD,
            id_token=tokens["id_token"],
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )


@dataclass
class DeployedStack(StackUnderTest):
    """A stack deployed with Terraform (AWS or LocalStack), reached through its API URL only."""

    @classmethod
    def from_environment(cls, api_url: str) -> DeployedStack:
        return cls(api_url=api_url.rstrip("/"))

    def latest_code(self, email: str) -> str:
        if self.has_outbox():
            return super().latest_code(email)
        # A deployed Cognito pool mails the code; the tests confirm through the admin API instead.
        pool_id = os.environ.get("SURVEY_USER_POOL_ID")
        if not pool_id:
            raise RuntimeError("Sign-up needs a confirmation code: set SURVEY_USER_POOL_ID (admin confirm) or SURVEY_OUTBOX_URL.")
        import boto3

        boto3.client("cognito-idp").admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
        return ""

    def confirm_if_needed(self, email: str, signup_body: dict[str, Any]) -> None:
        if signup_body.get("confirmed"):
            return
        if self.has_outbox():
            super().confirm_if_needed(email, signup_body)
        else:
            self.latest_code(email)
