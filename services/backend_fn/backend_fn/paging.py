"""Opaque paging tokens and pages built from DynamoDB queries.

A token is the urlsafe base64 of the JSON of a DynamoDB key. Decoding checks
the shape strictly, so a token that was tampered with or cut is a 400 naming
`next_token`, and the caller then checks that the key belongs to the owner or
survey being listed.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from backend_fn.errors import BadRequest
from backend_fn.validation import is_json_integer

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# Lambda limits a synchronous response payload to 6 MB. A page is cut short
# before its JSON exceeds 5 MiB, because 100 responses with long text answers
# could exceed the limit.
PAGE_MAX_BYTES = 5 * 1024 * 1024
# DynamoDB key attributes are at most 2048 bytes (hash) and 1024 bytes (range).
# A token value longer than this cannot come from one of our keys.
_MAX_KEY_VALUE_LENGTH = 1024

Key = dict[str, str]
QueryPage = Callable[[Key | None, int], tuple[list[dict[str, Any]], Key | None]]


def validate_limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not is_json_integer(value) or not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}.")
    return value


def encode_token(key: Key) -> str:
    data = json.dumps(key, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode_token(token: Any, fields: tuple[str, ...]) -> Key | None:
    """Return the key in the token, None for no token, or raise BadRequest if it is malformed."""
    if token is None:
        return None
    invalid = BadRequest("next_token is invalid; pass the next_token of the previous page unchanged.")
    if not isinstance(token, str) or not token:
        raise invalid
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(data.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not isinstance(key, dict) or set(key) != set(fields):
        raise invalid
    for value in key.values():
        if not isinstance(value, str) or not 1 <= len(value) <= _MAX_KEY_VALUE_LENGTH:
            raise invalid
    return key


def fit_to_payload(
    items: list[dict[str, Any]],
    last_key: Key | None,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    key_fields: tuple[str, ...],
) -> tuple[list[dict[str, Any]], Key | None]:
    """Render items until their JSON would exceed PAGE_MAX_BYTES, and return them with the key to continue from.

    The first item is always kept, so a page is never empty while items remain.
    """
    rendered: list[dict[str, Any]] = []
    size = 0
    for index, item in enumerate(items):
        view = render(item)
        size += len(json.dumps(view)) + 1
        if rendered and size > PAGE_MAX_BYTES:
            previous = items[index - 1]
            return rendered, {field: previous[field] for field in key_fields}
        rendered.append(view)
    return rendered, last_key


def collect_page(
    query_page: QueryPage,
    limit: int,
    start_key: Key | None,
    key_fields: tuple[str, ...],
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], Key | None]:
    """Collect up to `limit` items and the key to continue from, or None on the last page.

    Queries ask for one item more than needed, so the last page is known
    without an extra empty request. Items that `keep` rejects are skipped and
    the query goes on until the page is full or the partition ends.
    """
    collected: list[dict[str, Any]] = []
    last_key = start_key
    while True:
        items, last_key = query_page(last_key, limit + 1 - len(collected))
        for item in items:
            if keep is not None and not keep(item):
                continue
            collected.append(item)
            if len(collected) > limit:
                page = collected[:limit]
                return page, {field: page[-1][field] for field in key_fields}
        if last_key is None:
            return collected, None
