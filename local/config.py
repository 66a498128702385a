"""Settings of the offline stack: command-line options, with environment variables as fallbacks."""
from __future__ import annotations

import functools
import hashlib
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.names import DEFAULT_ACCOUNT_ID, REPO_ROOT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566  # LocalStack's edge port, so LocalStack-style tooling finds the stack
DEFAULT_PREFIX = "survey"
DEFAULT_REGION = "us-east-1"
DEFAULT_NOTIFICATION_EMAIL = "notifications@example.com"
DEFAULT_LOG_LEVEL = "INFO"
# Default data folder of `python -m local up`, gitignored.
DEFAULT_DATA_DIR = REPO_ROOT / ".local-data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Environment variable read for each setting when the command line does not give it.
ENVIRONMENT_VARIABLES = {
    "host": "SURVEY_LOCAL_HOST",
    "port": "SURVEY_LOCAL_PORT",
    "web_port": "SURVEY_LOCAL_WEB_PORT",
    "prefix": "SURVEY_LOCAL_PREFIX",
    "region": "SURVEY_LOCAL_REGION",
    "account_id": "SURVEY_LOCAL_ACCOUNT_ID",
    "require_confirmation": "SURVEY_LOCAL_REQUIRE_CONFIRMATION",
    "notification_email": "SURVEY_LOCAL_NOTIFICATION_EMAIL",
    "log_level": "SURVEY_LOCAL_LOG_LEVEL",
    "data_dir": "SURVEY_LOCAL_DATA_DIR",
    "persist": "SURVEY_LOCAL_PERSIST",
    "reload": "SURVEY_LOCAL_RELOAD",
    "services_dir": "SURVEY_LOCAL_SERVICES_DIR",
}

_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
# The longest bucket name the stack builds is "<prefix>-private-<12-digit account id>", and S3
# bucket names have at most 63 characters, so the prefix can have 63 - 9 - 12 = 42.
MAX_PREFIX_LENGTH = 42
_PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9-]*")
# A basic shape check only: one "@", no spaces, and a dot in the domain.
_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LOWERCASE_ALPHANUMERIC = string.digits + string.ascii_lowercase


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the setting and the value."""


@dataclass(frozen=True)
class StackConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    web_port: int = DEFAULT_PORT + 1
    prefix: str = DEFAULT_PREFIX
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    require_confirmation: bool = False
    notification_email: str = DEFAULT_NOTIFICATION_EMAIL
    log_level: str = DEFAULT_LOG_LEVEL
    # Folder of the saved state (see local/persistence); None keeps every state in memory.
    # from_sources defaults it to DEFAULT_DATA_DIR, so `make up` keeps its data.
    data_dir: Path | None = None
    repo_root: Path = REPO_ROOT
    # Restart a function's workers when a file of its package changes (see local/reload.py).
    reload: bool = True
    # Folder that contains the functions' source folders (frontend_fn, backend_fn); None means <repo>/services.
    services_dir: Path | None = None
    # Deterministic, so tokens, outputs and the web app's config.json stay the same across restarts.
    user_pool_id: str = field(default="")
    user_pool_client_id: str = field(default="")
    api_id: str = field(default="")

    def __post_init__(self) -> None:
        _validate_port("--port", self.port)
        _validate_port("--web-port", self.web_port)
        if self.port == self.web_port:
            raise ConfigError(f"--port and --web-port must differ, both are {self.port}.")
        _validate_prefix(self.prefix)
        _validate_region(self.region)
        if _EMAIL_PATTERN.fullmatch(self.notification_email) is None:
            raise ConfigError(
                f"Invalid --notification-email {self.notification_email!r}: expected an address like name@example.com."
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"Invalid log level {self.log_level!r}: use one of {', '.join(LOG_LEVELS)}.")
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise ConfigError(f"Invalid account id {self.account_id!r}: an AWS account id is 12 digits.")
        if self.services_dir is not None and not self.services_dir.is_dir():
            raise ConfigError(
                f"Invalid services folder {str(self.services_dir)!r}: it is not a folder. "
                "Give a folder laid out like the repository's services/."
            )
        if not self.user_pool_id:
            object.__setattr__(self, "user_pool_id", f"{self.region}_LocalPool")
        if not self.user_pool_client_id:
            object.__setattr__(self, "user_pool_client_id", self._derived_id("user-pool-client", 26))
        if not self.api_id:
            object.__setattr__(self, "api_id", self._derived_id("rest-api", 10))

    def _derived_id(self, kind: str, length: int) -> str:
        """Derive an id of lowercase letters and digits, as Cognito client ids and API ids are."""
        digest = hashlib.sha256(f"{kind}/{self.prefix}/{self.account_id}/{self.region}".encode()).digest()
        number = int.from_bytes(digest, "big")
        characters = []
        for _ in range(length):
            number, remainder = divmod(number, len(_LOWERCASE_ALPHANUMERIC))
            characters.append(_LOWERCASE_ALPHANUMERIC[remainder])
        return "".join(characters)

    @classmethod
    def from_sources(cls, options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> StackConfig:
        """Build the settings from options (None means unset), then environment variables, then defaults.

        The web port defaults to the edge port + 1. The data folder defaults to DEFAULT_DATA_DIR;
        `persist` false or an empty `data_dir` option keeps the state in memory.
        """
        options = dict(options or {})
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in ENVIRONMENT_VARIABLES.items():
            value = options.get(name)
            if value is None and environ.get(variable, "") != "":
                value = _parse(name, variable, environ[variable])
            if value is not None:
                values[name] = value
        if "log_level" in values:
            values["log_level"] = str(values["log_level"]).upper()
        persist = values.pop("persist", True)
        data_dir = values.get("data_dir", DEFAULT_DATA_DIR)
        values["data_dir"] = Path(data_dir).expanduser() if persist and data_dir != "" else None
        if "services_dir" in values:
            values["services_dir"] = Path(values["services_dir"]).expanduser().resolve()
        if "web_port" not in values:
            port = values.get("port", DEFAULT_PORT)
            if port == 65535:
                raise ConfigError(
                    "Invalid --port 65535: the default web port is the edge port + 1, which is over 65535. "
                    "Set --web-port too."
                )
            values["web_port"] = port + 1
        return cls(**values)

    # --- URLs ---------------------------------------------------------------

    @property
    def public_host(self) -> str:
        """Host name for URLs: the bind address, or 127.0.0.1 when the stack listens on every interface.

        An IPv6 address gets the brackets that URLs require around it.
        """
        if self.host in _WILDCARD_HOSTS:
            return DEFAULT_HOST
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def edge_url(self) -> str:
        return f"http://{self.public_host}:{self.port}"

    @property
    def website_url(self) -> str:
        return f"http://{self.public_host}:{self.web_port}"

    @property
    def token_issuer(self) -> str:
        return f"{self.edge_url}/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.token_issuer}/.well-known/jwks.json"

    def api_url(self, stage: str) -> str:
        """Return the REST API's invoke URL in LocalStack's form."""
        return f"{self.edge_url}/restapis/{self.api_id}/{stage}/_user_request_"


def _validate_port(name: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ConfigError(f"Invalid {name} {port}: use a TCP port from 1 to 65535.")


def _validate_prefix(prefix: str) -> None:
    if _PREFIX_PATTERN.fullmatch(prefix) is None or len(prefix) > MAX_PREFIX_LENGTH:
        raise ConfigError(
            f"Invalid --prefix {prefix!r}: use lowercase letters, digits and hyphens, starting with a letter, "
            f"at most {MAX_PREFIX_LENGTH} characters, because it starts S3 bucket names."
        )


@functools.cache
def _dynamodb_regions() -> frozenset[str]:
    from boto3.session import Session

    return frozenset(Session().get_available_regions("dynamodb"))


def _validate_region(region: str) -> None:
    if region not in _dynamodb_regions():
        raise ConfigError(
            f"Invalid --region {region!r}: expected an AWS region name such as {DEFAULT_REGION} "
            "(one of the DynamoDB regions that boto3 lists)."
        )


def _parse(name: str, variable: str, raw: str) -> Any:
    if name in ("port", "web_port"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"Invalid {variable}={raw!r}: expected a port number.") from None
    if name in ("require_confirmation", "persist", "reload"):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"Invalid {variable}={raw!r}: expected true or false.")
    return raw
