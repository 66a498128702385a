"""State and rules of the local user pool: users, confirmation codes, refresh tokens and signing keys.

Plain Python with no HTTP: every method takes and returns Python values and raises
the CognitoError subclass that Cognito would send. The pool has email as the
username (stored lowercase, matched case-insensitively) and one app client
without a secret that allows USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from local.cognito.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
    UserNotConfirmedException,
    UsernameExistsException,
    UserNotFoundException,
)
from local.cognito.keys import KeyRing, SigningKey
from local.cognito.passwords import check_password, hash_password, verify_password
from local.cognito.tokens import AuthEvent, TokenSet, TokenSigner
from local.outbox import Outbox

logger = logging.getLogger(__name__)

UNCONFIRMED = "UNCONFIRMED"
CONFIRMED = "CONFIRMED"

CODE_TTL = timedelta(hours=24)
REFRESH_TOKEN_TTL = timedelta(days=30)  # this project's app client: refresh_token_validity = 30 days
REFRESH_TOKEN_BYTES = 64
STATE_VERSION = 1

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
CODE_EMAIL_SUBJECT = "Your verification code"
OUTBOX_SOURCE = "cognito-idp"

LOGIN_FAILED = "Incorrect username or password."
INVALID_REFRESH_TOKEN = "Invalid Refresh Token"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_confirmation_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


@dataclass
class ConfirmationCode:
    code: str
    expires_at: datetime


@dataclass
class User:
    sub: str
    email: str
    password_hash: str
    status: str
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    confirmation_code: ConfirmationCode | None = None

    def attributes(self) -> list[dict[str, str]]:
        """Return the user's attributes as Cognito lists them (`UserAttributes`)."""
        return [
            {"Name": "sub", "Value": self.sub},
            {"Name": "email_verified", "Value": "true" if self.email_verified else "false"},
            {"Name": "email", "Value": self.email},
        ]

    def to_state(self) -> dict[str, Any]:
        code = self.confirmation_code
        return {
            "sub": self.sub,
            "email": self.email,
            "password_hash": self.password_hash,
            "status": self.status,
            "email_verified": self.email_verified,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "enabled": self.enabled,
            "confirmation_code": None if code is None else {"code": code.code, "expires_at": code.expires_at.isoformat()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> User:
        code = state.get("confirmation_code")
        return cls(
            sub=state["sub"],
            email=state["email"],
            password_hash=state["password_hash"],
            status=state["status"],
            email_verified=state["email_verified"],
            created_at=datetime.fromisoformat(state["created_at"]),
            updated_at=datetime.fromisoformat(state["updated_at"]),
            enabled=state.get("enabled", True),
            confirmation_code=None if code is None else ConfirmationCode(code["code"], datetime.fromisoformat(code["expires_at"])),
        )


@dataclass
class RefreshSession:
    """Grant of one refresh token, stored under the SHA-256 of the token and never with the token itself."""

    sub: str
    client_id: str
    event: AuthEvent
    expires_at: datetime

    def to_state(self, token_hash: str) -> dict[str, Any]:
        return {
            "token_sha256": token_hash,
            "sub": self.sub,
            "client_id": self.client_id,
            "origin_jti": self.event.origin_jti,
            "event_id": self.event.event_id,
            "auth_time": self.event.auth_time,
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RefreshSession:
        return cls(
            sub=state["sub"],
            client_id=state["client_id"],
            event=AuthEvent(origin_jti=state["origin_jti"], event_id=state["event_id"], auth_time=state["auth_time"]),
            expires_at=datetime.fromisoformat(state["expires_at"]),
        )


@dataclass(frozen=True)
class CodeDelivery:
    """Delivery details of a confirmation code (`CodeDeliveryDetails`), with the address masked."""

    destination: str
    medium: str = "EMAIL"
    attribute: str = "email"

    def to_wire(self) -> dict[str, str]:
        return {"Destination": self.destination, "DeliveryMedium": self.medium, "AttributeName": self.attribute}


@dataclass(frozen=True)
class SignUpResult:
    user: User
    delivery: CodeDelivery | None


class UserPool:
    """One user pool with one app client; every public method is thread-safe."""

    def __init__(
        self,
        *,
        issuer: str,
        user_pool_id: str,
        client_id: str,
        outbox: Outbox,
        require_confirmation: bool = False,
        clock: Callable[[], datetime] = utc_now,
        token_ttl_seconds: int = 3600,
        code_generator: Callable[[], str] = new_confirmation_code,
        keys: KeyRing | None = None,
    ) -> None:
        self.issuer = issuer
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.require_confirmation = require_confirmation
        self._outbox = outbox
        self._clock = clock
        self._code_generator = code_generator
        self._signer = TokenSigner(issuer=issuer, client_id=client_id, ttl_seconds=token_ttl_seconds)
        self._lock = threading.RLock()
        self._keys = keys if keys is not None else KeyRing.generate()
        self._users: dict[str, User] = {}  # by lowercase email
        self._emails_by_sub: dict[str, str] = {}
        self._refresh_sessions: dict[str, RefreshSession] = {}  # by SHA-256 hex of the token
        self._dummy_hash: str | None = None

    # --- checks of the request's pool and client ------------------------------

    def check_client(self, client_id: str) -> None:
        if client_id != self.client_id:
            raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")

    def check_pool(self, user_pool_id: str) -> None:
        if user_pool_id != self.user_pool_id:
            raise ResourceNotFoundException(f"User pool {user_pool_id} does not exist.")

    # --- sign-up and confirmation --------------------------------------------

    def sign_up(self, client_id: str, username: str, password: str, attributes: dict[str, str]) -> SignUpResult:
        """Create a user; confirm it at once unless the pool requires a code, which then goes to the outbox."""
        self.check_client(client_id)
        email = _normalize_email(username)
        _check_attributes(attributes, email)
        check_password(password)
        # Hash before taking the lock: scrypt takes tens of milliseconds.
        password_hash = hash_password(password)
        now = self._clock()
        with self._lock:
            if email in self._users:
                raise UsernameExistsException("An account with the given email already exists.")
            user = User(
                sub=str(uuid.uuid4()),
                email=email,
                password_hash=password_hash,
                status=UNCONFIRMED if self.require_confirmation else CONFIRMED,
                # An auto-confirmed user is treated as one who has proven the address, as a
                # pre sign-up trigger with autoVerifyEmail would mark it.
                email_verified=not self.require_confirmation,
                created_at=now,
                updated_at=now,
            )
            self._users[email] = user
            self._emails_by_sub[user.sub] = email
            delivery = self._send_code(user) if self.require_confirmation else None
        return SignUpResult(user=user, delivery=delivery)

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> User:
        self.check_client(client_id)
        with self._lock:
            user = self._find_user(username)
            if user is None:
                raise UserNotFoundException("Username/client id combination not found.")
            if user.status == CONFIRMED:
                raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
            pending = user.confirmation_code
            if pending is None or not hmac.compare_digest(pending.code.encode(), code.encode()):
                raise CodeMismatchException("Invalid verification code provided, please try again.")
            if self._clock() >= pending.expires_at:
                raise ExpiredCodeException("Invalid code provided, please request a code again.")
            user.status = CONFIRMED
            user.email_verified = True
            user.confirmation_code = None
            user.updated_at = self._clock()
            return user

    def resend_confirmation_code(self, client_id: str, username: str) -> tuple[User, CodeDelivery]:
        """Replace the user's code with a new one, valid for 24 hours, and send it."""
        self.check_client(client_id)
        with self._lock:
            user = self._find_user(username)
            if user is None:
                raise UserNotFoundException("Username/client id combination not found.")
            if user.status == CONFIRMED:
                raise InvalidParameterException("User is already confirmed.")
            return user, self._send_code(user)

    def _send_code(self, user: User) -> CodeDelivery:
        code = self._code_generator()
        user.confirmation_code = ConfirmationCode(code=code, expires_at=self._clock() + CODE_TTL)
        self._outbox.add(
            to=user.email,
            subject=CODE_EMAIL_SUBJECT,
            body=f"Your confirmation code is {code}",
            source=OUTBOX_SOURCE,
        )
        return CodeDelivery(destination=_mask_email(user.email))

    # --- authentication ------------------------------------------------------

    def authenticate(self, client_id: str, username: str, password: str) -> TokenSet:
        """USER_PASSWORD_AUTH: check the password and issue ID, access and refresh tokens."""
        self.check_client(client_id)
        with self._lock:
            user = self._find_user(username)
            stored_hash = user.password_hash if user is not None else None
        # The password check runs outside the lock, and for an unknown user against a
        # dummy hash, so the response time does not tell whether the email is registered.
        password_ok = verify_password(password, stored_hash or self._get_dummy_hash())
        if user is None or not password_ok:
            # The pool emulates prevent-user-existence-errors ENABLED (as this project's
            # client sets it): an unknown user gets the same error as a wrong password.
            raise NotAuthorizedException(LOGIN_FAILED)
        with self._lock:
            if self._users.get(user.email) is not user:
                raise NotAuthorizedException(LOGIN_FAILED)
            if not user.enabled:
                raise NotAuthorizedException("User is disabled.")
            if user.status != CONFIRMED:
                raise UserNotConfirmedException("User is not confirmed.")
            return self._start_session(user)

    def refresh(self, client_id: str, refresh_token: str) -> TokenSet:
        """REFRESH_TOKEN_AUTH: issue new ID and access tokens for the refresh token's sign-in, and no new refresh token."""
        self.check_client(client_id)
        now = self._clock()
        with self._lock:
            session = self._refresh_sessions.get(_token_hash(refresh_token))
            if session is None or session.client_id != client_id:
                raise NotAuthorizedException(INVALID_REFRESH_TOKEN)
            if now >= session.expires_at:
                raise NotAuthorizedException("Refresh Token has expired")
            user = self._user_by_sub(session.sub)
            if user is None or not user.enabled:
                raise NotAuthorizedException(INVALID_REFRESH_TOKEN)
            return self._sign(user, session.event, now)

    def issue_tokens(self, email: str) -> TokenSet:
        """Sign a user in without a password, for the CLI and tests; the user must be confirmed."""
        with self._lock:
            user = self._find_user(email)
            if user is None:
                raise UserNotFoundException("User does not exist.")
            if user.status != CONFIRMED:
                raise UserNotConfirmedException("User is not confirmed.")
            return self._start_session(user)

    def _start_session(self, user: User) -> TokenSet:
        now = self._clock()
        event = AuthEvent.new(now)
        # Cognito's refresh tokens are encrypted JWEs; these are opaque random strings
        # that only the pool's table of sessions gives a meaning to.
        refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
        self._refresh_sessions[_token_hash(refresh_token)] = RefreshSession(
            sub=user.sub, client_id=self.client_id, event=event, expires_at=now + REFRESH_TOKEN_TTL
        )
        tokens = self._sign(user, event, now)
        return TokenSet(
            sub=user.sub,
            id_token=tokens.id_token,
            access_token=tokens.access_token,
            expires_in=tokens.expires_in,
            refresh_token=refresh_token,
        )

    def _sign(self, user: User, event: AuthEvent, now: datetime) -> TokenSet:
        return self._signer.issue(
            self._keys.active, sub=user.sub, email=user.email, email_verified=user.email_verified, event=event, now=now
        )

    def _get_dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = hash_password(secrets.token_urlsafe(16))
        return self._dummy_hash

    # --- the signed-in user --------------------------------------------------

    def get_user(self, access_token: str) -> User:
        """GetUser: the user of a valid, unexpired access token of this client."""
        with self._lock:
            claims = self._signer.verify_access_token(access_token, self._keys, self._clock())
            user = self._user_by_sub(claims["sub"])
            if user is None:
                raise UserNotFoundException("User does not exist.")
            return user

    # --- administration ------------------------------------------------------

    def admin_get_user(self, user_pool_id: str, username: str) -> User:
        self.check_pool(user_pool_id)
        with self._lock:
            return self._require_user(username)

    def admin_confirm_sign_up(self, user_pool_id: str, username: str) -> User:
        """Confirm a user without a code; like Cognito, this leaves email_verified as it was."""
        self.check_pool(user_pool_id)
        with self._lock:
            user = self._require_user(username)
            if user.status == CONFIRMED:
                raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
            user.status = CONFIRMED
            user.confirmation_code = None
            user.updated_at = self._clock()
            return user

    def admin_delete_user(self, user_pool_id: str, username: str) -> User:
        """Delete a user and every refresh token it holds."""
        self.check_pool(user_pool_id)
        with self._lock:
            user = self._require_user(username)
            del self._users[user.email]
            del self._emails_by_sub[user.sub]
            for token_hash in [key for key, session in self._refresh_sessions.items() if session.sub == user.sub]:
                del self._refresh_sessions[token_hash]
            return user

    # --- signing keys --------------------------------------------------------

    def rotate_keys(self) -> str:
        key = SigningKey.generate()  # outside the lock: RSA key generation is slow
        with self._lock:
            self._keys.activate(key)
        return key.kid

    def drop_retired_keys(self) -> list[str]:
        with self._lock:
            return self._keys.drop_retired()

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        with self._lock:
            return self._keys.jwks()

    def active_kid(self) -> str:
        with self._lock:
            return self._keys.active.kid

    # --- saved state ---------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "version": STATE_VERSION,
                "user_pool_id": self.user_pool_id,
                "client_id": self.client_id,
                "users": [user.to_state() for user in self._users.values()],
                "refresh_tokens": [session.to_state(key) for key, session in self._refresh_sessions.items()],
                "keys": self._keys.export(),
            }

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace every user, refresh token and key with those of `export_state`; raise ValueError on a mismatch."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"saved Cognito state has version {state.get('version')!r}, expected {STATE_VERSION}")
        for name, expected in (("user_pool_id", self.user_pool_id), ("client_id", self.client_id)):
            if state.get(name) != expected:
                raise ValueError(
                    f"saved Cognito state belongs to {name} {state.get(name)!r}, but this pool has {expected!r}; "
                    "start with the same configuration or discard the saved state"
                )
        users = [User.from_state(entry) for entry in state["users"]]
        sessions = {entry["token_sha256"]: RefreshSession.from_state(entry) for entry in state["refresh_tokens"]}
        keys = KeyRing.from_export(state["keys"])
        with self._lock:
            self._users = {user.email: user for user in users}
            self._emails_by_sub = {user.sub: user.email for user in users}
            self._refresh_sessions = sessions
            self._keys = keys

    # --- lookups (callers hold the lock) --------------------------------------

    def _find_user(self, username: str) -> User | None:
        # Cognito accepts the email or the UUID username (the sub) wherever an action takes a Username.
        user = self._users.get(username.strip().lower())
        if user is None:
            user = self._user_by_sub(username)
        return user

    def _require_user(self, username: str) -> User:
        user = self._find_user(username)
        if user is None:
            raise UserNotFoundException("User does not exist.")
        return user

    def _user_by_sub(self, sub: str) -> User | None:
        email = self._emails_by_sub.get(sub)
        return self._users.get(email) if email is not None else None


def _normalize_email(username: str) -> str:
    email = username.strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise InvalidParameterException("Username should be an email.")
    return email


def _check_attributes(attributes: dict[str, str], email: str) -> None:
    # The pool's schema has one attribute besides sub: email, which must be the username.
    unknown = sorted(set(attributes) - {"email"})
    if unknown:
        raise InvalidParameterException(f"Attributes did not conform to the schema: {unknown[0]}: Attribute does not exist in the schema.")
    email_attribute = attributes.get("email")
    if email_attribute is not None and email_attribute.strip().lower() != email:
        raise InvalidParameterException("Attributes did not conform to the schema: email must equal the username in this pool.")


def _mask_email(email: str) -> str:
    local_part, _, domain = email.partition("@")
    return f"{local_part[:1]}***@{domain[:1]}***"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
