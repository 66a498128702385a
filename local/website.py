"""The website endpoint: the public bucket's objects over HTTP, as S3 static website hosting serves them."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from werkzeug.wrappers import Request, Response

from local.logs import printable

logger = logging.getLogger(__name__)

INDEX_DOCUMENT = "index.html"
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


def content_security_policy(api_origin: str) -> str:
    """Return the CSP of the HTML pages: scripts and styles from the site only, API calls to `api_origin`."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {api_origin}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class WebsiteApp:
    """WSGI app that serves `bucket` through an S3 client.

    `/` and every path ending in `/` map to that folder's index.html. A path whose
    object is missing but whose `<path>/index.html` exists redirects to `<path>/`,
    as S3 website endpoints do.
    """

    def __init__(self, *, s3_client: Any, bucket: str, api_origin: str, index_document: str = INDEX_DOCUMENT) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._index_document = index_document
        self._html_headers = {
            "Content-Security-Policy": content_security_policy(api_origin),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        logger.debug("website %s %s -> %d", printable(request.method), printable(request.path), response.status_code)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            response = self._page(405, "Method Not Allowed", f"{request.method} is not supported; the website serves GET and HEAD.")
            response.headers["Allow"] = "GET, HEAD"
            return response

        key = request.path.lstrip("/")
        if key == "" or key.endswith("/"):
            key += self._index_document
        try:
            found = self._get_object(key)
            if found is None and not key.endswith(self._index_document) and self._object_exists(f"{key}/{self._index_document}"):
                return Response(status=302, headers={"Location": f"/{key}/"})
        except (ClientError, BotoCoreError):
            logger.exception("Reading s3://%s/%s for the website failed", self._bucket, printable(key))
            return self._page(500, "Internal Server Error", "Reading the page from the bucket failed; see the stack's log.")
        if found is None:
            return self._page(404, "Not Found", f"The page /{key} does not exist.")

        response = Response(found["Body"].read(), status=200, content_type=found.get("ContentType") or "application/octet-stream")
        response.headers["Cache-Control"] = "no-cache"
        if found.get("ETag"):
            response.headers["ETag"] = found["ETag"]
        if found.get("LastModified"):
            response.last_modified = found["LastModified"]
        self._add_security_headers(response)
        conditional = response.make_conditional(request)
        # make_conditional adds a Date header, and the HTTP server sends its own.
        del conditional.headers["Date"]
        return conditional

    def _get_object(self, key: str) -> dict[str, Any] | None:
        try:
            return self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                return None
            raise

    def _object_exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                return False
            raise
        return True

    def _page(self, status: int, title: str, text: str) -> Response:
        html = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{status} {escape(title)}</title></head>"
            f"<body><h1>{status} {escape(title)}</h1><p>{escape(text)}</p></body></html>\n"
        )
        response = Response(html, status=status, content_type="text/html; charset=utf-8")
        self._add_security_headers(response)
        return response

    def _add_security_headers(self, response: Response) -> None:
        if response.mimetype == "text/html":
            response.headers.update(self._html_headers)
        else:
            response.headers["X-Content-Type-Options"] = "nosniff"
