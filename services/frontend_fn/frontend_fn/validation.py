"""Checks of the request's shape: body size and media type, JSON, query parameters and headers.

The frontend checks only the shape. The backend validates the business
content (survey fields, questions, answers) and the owner.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

from frontend_fn.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 262_144  # 256 KiB of decoded body, the contract's request limit
MAX_JSON_DEPTH = 32  # nesting levels of arrays and objects; surveys need 4
MAX_NEXT_TOKEN_CHARS = 4096
DEFAULT_LIMIT = 25
MAX_LIMIT = 100

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEMPLATE_NAME_PATTERN = re.compile(r"[a-z0-9-]{1,64}")
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
LIMIT_PATTERN = re.compile(r"[0-9]{1,3}")
QUERY_VALUE_SHOWN_CHARS = 20
UTF8_BOM = "\ufeff"
EXPORT_FORMATS = ("csv", "json")
# A UTF-16 surrogate code point. A JSON \uXXXX escape can spell one without its
# pair, and json.loads joins valid pairs into one code point, so any surrogate
# left in a parsed string is unpaired. Such a string has no
# UTF-8 form, and storing one failed with 502 (moto's DynamoDB raised
# UnicodeEncodeError, and Cognito calls failed too).
SURROGATE_PATTERN = re.compile("[\ud800-\udfff]")


def decode_body(body: str | None, is_base64_encoded: bool) -> bytes | None:
    """Return the request body as bytes, or None when the request has no body."""
    if body is None:
        return None
    if not is_base64_encoded:
        return body.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("The request body is marked as base64 but is not valid base64.") from exc


def check_body_size(raw_body: bytes | None) -> None:
    if raw_body is not None and len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The request body is {len(raw_body)} bytes; the limit is {MAX_BODY_BYTES} bytes (256 KiB)."
        )


def check_json_content_type(content_type: str | None) -> None:
    """Accept a missing Content-Type or application/json with any parameters (such as charset)."""
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type {content_type[:100]!r} is not supported; send the body as application/json."
        )


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


class IntegerTooLongError(ValueError):
    """An integer literal in a JSON body has more digits than Python converts."""


def _parse_integer(text: str) -> int:
    # int() raises ValueError for strings longer than sys.get_int_max_str_digits()
    # (4300 by default in Python 3.11 and 3.12). Its message names interpreter
    # settings, so the caller replaces it with one for the client.
    try:
        return int(text)
    except ValueError as exc:
        raise IntegerTooLongError(text) from exc


def shorten_query_value(value: str) -> str:
    """Render a query parameter value for an error message, cut with an ellipsis when long."""
    if len(value) <= QUERY_VALUE_SHOWN_CHARS:
        return repr(value)
    return f"{value[:QUERY_VALUE_SHOWN_CHARS]!r}… ({len(value)} characters)"


def _json_depth(value: Any) -> int:
    """Return the nesting depth of arrays and objects, without recursion."""
    max_depth = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        max_depth = max(max_depth, depth)
        if max_depth > MAX_JSON_DEPTH:
            return max_depth
        pending.extend((child, depth + 1) for child in children)
    return max_depth


def _contains_lone_surrogate(value: Any) -> bool:
    """Return whether any string in a parsed JSON value, object keys included, has an unpaired surrogate."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if SURROGATE_PATTERN.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_json_object(raw_body: bytes | None) -> dict[str, Any]:
    """Parse a request body that must be a JSON object."""
    if raw_body is None or not raw_body.strip():
        raise BadRequest("The request body is missing; send a JSON object.")
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The request body is not valid UTF-8.") from exc
    if text.startswith(UTF8_BOM):
        # RFC 8259 section 8.1 forbids a byte order mark before networked JSON text.
        raise BadRequest(
            "The request body starts with a UTF-8 byte order mark (EF BB BF), which JSON bodies must not have. "
            "Send the body without it."
        )
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_integer)
    except RecursionError as exc:
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.") from exc
    except IntegerTooLongError as exc:
        raise BadRequest(
            f"The request body contains an integer with {len(str(exc).lstrip('-'))} digits, which is too long to read. "
            f"Send integers with at most {sys.get_int_max_str_digits()} digits."
        ) from exc
    except ValueError as exc:
        # json.JSONDecodeError is a ValueError; so is the NaN and Infinity rejection above.
        raise BadRequest(f"The request body is not valid JSON: {str(exc)[:200]}.") from exc
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    if _contains_lone_surrogate(value):
        raise BadRequest(
            "The request body contains a \\u escape of an unpaired UTF-16 surrogate, which is not valid Unicode."
        )
    return value


def parse_survey_id(value: Any, field: str = "survey_id") -> str:
    """Check a survey id (a UUID in its 36-character form) and return it in lower case."""
    if value is None or value == "":
        raise BadRequest(f"{field} is required.")
    if not isinstance(value, str) or not UUID_PATTERN.fullmatch(value):
        raise BadRequest(f"{field} must be a UUID such as 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f.")
    return value.lower()


def parse_limit(query: Mapping[str, str]) -> int:
    text = query.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not LIMIT_PATTERN.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}, got {shorten_query_value(text)}.")
    return int(text)


def parse_next_token(query: Mapping[str, str]) -> str | None:
    token = query.get("next_token")
    if token is None:
        return None
    if not 1 <= len(token) <= MAX_NEXT_TOKEN_CHARS:
        raise BadRequest(f"next_token must be the value a previous page returned (1 to {MAX_NEXT_TOKEN_CHARS} characters).")
    return token


def parse_export_format(query: Mapping[str, str]) -> str:
    value = query.get("format", "csv")
    if value not in EXPORT_FORMATS:
        raise BadRequest(f"format must be csv or json, got {shorten_query_value(value)}.")
    return value


def parse_template_name(query: Mapping[str, str]) -> str:
    """Check a template name; the pattern also rejects paths such as `../x` and `/etc/passwd`."""
    name = query.get("name")
    if not name:
        raise BadRequest("name is required.")
    if not TEMPLATE_NAME_PATTERN.fullmatch(name):
        raise BadRequest("name must be 1 to 64 characters of a-z, 0-9 and '-'.")
    return name


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        raise BadRequest("Idempotency-Key must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.")
    return value
