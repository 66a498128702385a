"""Survey templates, read from `<prefix><name>.json` objects in the private bucket."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from frontend_fn.errors import BadGateway, InternalError, NotFound
from frontend_fn.responses import ApiResponse, json_response
from frontend_fn.validation import TEMPLATE_NAME_PATTERN, parse_template_name

if TYPE_CHECKING:
    from frontend_fn.dependencies import Dependencies
    from frontend_fn.routing import Request

logger = Logger(child=True)

# How long a warm container reuses a listing or a template before reading S3 again.
CACHE_TTL_SECONDS = 60.0
MAX_TEMPLATE_BYTES = 262_144  # 256 KiB, the same limit as a request body
# The listing reads every template for its title, so it stops at this many.
MAX_LISTED_TEMPLATES = 100
NOT_FOUND_CODES = ("NoSuchKey", "404")


class TemplateStore:
    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        prefix: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._prefix = prefix
        self._clock = clock
        self._listing: tuple[float, list[dict[str, str]]] | None = None
        self._templates: dict[str, tuple[float, dict[str, Any]]] = {}

    def list_templates(self) -> list[dict[str, str]]:
        """Return `{name, title}` of every valid template, sorted by name."""
        now = self._clock()
        if self._listing is not None and now - self._listing[0] < CACHE_TTL_SECONDS:
            return self._listing[1]

        summaries = []
        for name in self._list_names():
            try:
                template = self.get_template(name)
            except (NotFound, InternalError):
                # Deleted since the listing, or invalid: get_template logged why.
                continue
            summaries.append({"name": name, "title": template["title"]})
        self._listing = (now, summaries)
        return summaries

    def get_template(self, name: str) -> dict[str, Any]:
        """Return `{name, title, description, questions}`; raise NotFound, InternalError or BadGateway."""
        now = self._clock()
        cached = self._templates.get(name)
        if cached is not None and now - cached[0] < CACHE_TTL_SECONDS:
            return cached[1]

        key = f"{self._prefix}{name}.json"
        template = _parse_template(name, key, self._read_object(key))
        self._templates[name] = (now, template)
        return template

    def _list_names(self) -> list[str]:
        names = []
        try:
            paginator = self._s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
                for item in page.get("Contents", []):
                    file_name = item["Key"][len(self._prefix):]
                    name = file_name.removesuffix(".json")
                    if file_name.endswith(".json") and TEMPLATE_NAME_PATTERN.fullmatch(name):
                        names.append(name)
        except (ClientError, BotoCoreError) as exc:
            logger.error("Listing templates failed", extra={"bucket": self._bucket, "prefix": self._prefix}, exc_info=exc)
            raise BadGateway("The template store failed; try again later.") from exc

        names.sort()
        if len(names) > MAX_LISTED_TEMPLATES:
            logger.warning("Template listing truncated", extra={"found": len(names), "listed": MAX_LISTED_TEMPLATES})
        return names[:MAX_LISTED_TEMPLATES]

    def _read_object(self, key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
            if response.get("ContentLength", 0) > MAX_TEMPLATE_BYTES:
                logger.error("Template too large", extra={"key": key, "bytes": response.get("ContentLength")})
                raise InternalError("The template could not be read.")
            return response["Body"].read(MAX_TEMPLATE_BYTES + 1)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                name = key[len(self._prefix):].removesuffix(".json")
                raise NotFound(f"Template {name} was not found.") from exc
            logger.error("Reading a template failed", extra={"bucket": self._bucket, "key": key}, exc_info=exc)
            raise BadGateway("The template store failed; try again later.") from exc
        except BotoCoreError as exc:
            logger.error("Reading a template failed", extra={"bucket": self._bucket, "key": key}, exc_info=exc)
            raise BadGateway("The template store failed; try again later.") from exc


def _parse_template(name: str, key: str, content: bytes) -> dict[str, Any]:
    """Check that a stored template has a title and a question list; raise InternalError if not."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    valid = (
        isinstance(data, dict)
        and len(content) <= MAX_TEMPLATE_BYTES
        and isinstance(data.get("title"), str)
        and isinstance(data.get("description", ""), str)
        and isinstance(data.get("questions"), list)
    )
    if not valid:
        logger.error("Stored template is invalid: it needs a title string and a questions list", extra={"key": key})
        raise InternalError("The template could not be read.")
    return {
        "name": name,
        "title": data["title"],
        "description": data.get("description", ""),
        "questions": data["questions"],
    }


def list_templates(request: Request, deps: Dependencies) -> ApiResponse:
    return json_response(200, {"templates": deps.templates.list_templates()})


def get_template(request: Request, deps: Dependencies) -> ApiResponse:
    name = parse_template_name(request.query)
    return json_response(200, deps.templates.get_template(name))
