"""The user pool's password policy and password hashing (scrypt with a per-user salt)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from local.cognito.exceptions import InvalidParameterException, InvalidPasswordException

# The policy of this project's pool (infra/cognito.tf): 8 characters or more,
# an upper-case letter, a lower-case letter and a digit, no symbol required.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256  # Cognito's limit for the Password parameter
# Cognito's pattern for Password: no leading or trailing whitespace.
PASSWORD_PATTERN = re.compile(r"^[\S]+.*[\S]+$", re.DOTALL)

SCHEME = "scrypt"
# N=2**14, r=8, p=1 are the interactive-login parameters of Colin Percival's
# scrypt paper (2009): 16 MiB and tens of milliseconds per hash. Each stored
# hash carries its parameters, so they can change without breaking stored users.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
SCRYPT_MAXMEM = 64 * 1024 * 1024


def check_password(password: str) -> None:
    """Raise InvalidParameterException or InvalidPasswordException when the pool would reject `password`."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidParameterException(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_PASSWORD_LENGTH}"
        )
    if not PASSWORD_PATTERN.match(password):
        raise InvalidParameterException(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {PASSWORD_PATTERN.pattern}"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPasswordException("Password did not conform with policy: Password not long enough")
    if not any(char.isupper() for char in password):
        raise InvalidPasswordException("Password did not conform with policy: Password must have uppercase characters")
    if not any(char.islower() for char in password):
        raise InvalidPasswordException("Password did not conform with policy: Password must have lowercase characters")
    if not any(char.isdigit() for char in password):
        raise InvalidPasswordException("Password did not conform with policy: Password must have numeric characters")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Hash a password as `scrypt$N$r$p$<salt>$<key>` (base64url), with a new random salt unless one is given."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join([SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64encode(salt), _b64encode(key)])


def verify_password(password: str, stored_hash: str) -> bool:
    """Check a password against a value of `hash_password`; raise ValueError when the stored value is malformed."""
    try:
        scheme, n, r, p, salt, expected = stored_hash.split("$")
    except ValueError as exc:
        raise ValueError("stored password hash does not have 6 '$'-separated fields") from exc
    if scheme != SCHEME:
        raise ValueError(f"stored password hash uses scheme {scheme!r}, expected {SCHEME!r}")
    key = _scrypt(password, _b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(key, _b64decode(expected))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=KEY_BYTES)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
