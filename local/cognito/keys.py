"""RSA signing keys of the local user pool and the JWKS that publishes them."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"
KEY_BITS = 2048
PUBLIC_EXPONENT = 65537


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair; `kid` is the RFC 7638 thumbprint of its public key."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
        return cls(kid=_thumbprint(private_key.public_key()), private_key=private_key)

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        private_key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"signing key must be an RSA private key, got {type(private_key).__name__}")
        return cls(kid=_thumbprint(private_key.public_key()), private_key=private_key)

    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        """Return the public key as a JWK with the members Cognito's JWKS has."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "alg": ALGORITHM,
            "e": _b64url_uint(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "use": "sig",
        }


class KeyRing:
    """The pool's signing keys: the active key signs new tokens, retired keys stay in the JWKS until dropped.

    Not thread-safe by itself; the user pool calls it under its lock.
    """

    def __init__(self, keys: list[SigningKey], active_kid: str) -> None:
        if active_kid not in {key.kid for key in keys}:
            raise ValueError(f"active kid {active_kid!r} is not among the keys")
        self._keys = {key.kid: key for key in keys}
        self._active_kid = active_kid

    @classmethod
    def generate(cls) -> KeyRing:
        key = SigningKey.generate()
        return cls([key], key.kid)

    @property
    def active(self) -> SigningKey:
        return self._keys[self._active_kid]

    def kids(self) -> list[str]:
        return list(self._keys)

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        key = self._keys.get(kid)
        return key.private_key.public_key() if key is not None else None

    def activate(self, key: SigningKey) -> None:
        """Make `key` sign from now on; the previous key stays published."""
        self._keys[key.kid] = key
        self._active_kid = key.kid

    def drop_retired(self) -> list[str]:
        """Remove every key but the active one and return the removed kids."""
        dropped = [kid for kid in self._keys if kid != self._active_kid]
        for kid in dropped:
            del self._keys[kid]
        return dropped

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in self._keys.values()]}

    def export(self) -> dict[str, Any]:
        return {
            "active_kid": self._active_kid,
            "keys": [{"kid": key.kid, "private_key_pem": key.private_pem()} for key in self._keys.values()],
        }

    @classmethod
    def from_export(cls, state: dict[str, Any]) -> KeyRing:
        keys = [SigningKey.from_pem(entry["private_key_pem"]) for entry in state["keys"]]
        for entry, key in zip(state["keys"], keys):
            if entry.get("kid") not in (None, key.kid):
                raise ValueError(f"stored kid {entry['kid']!r} does not match its key, whose thumbprint is {key.kid!r}")
        return cls(keys, state["active_kid"])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    # RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())
