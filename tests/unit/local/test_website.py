"""The website endpoint serving the public bucket."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client

from local.website import WebsiteApp, content_security_policy

BUCKET = "survey-web-123456789012"
API_ORIGIN = "http://127.0.0.1:4600"


@pytest.fixture
def s3() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket=BUCKET)
        objects = {
            "index.html": ("<!doctype html><title>Home</title>", "text/html; charset=utf-8"),
            "app.js": ("console.log(1);", "text/javascript; charset=utf-8"),
            "config.json": ('{"api_url": "x"}', "application/json"),
            "docs/index.html": ("<!doctype html><title>Docs</title>", "text/html; charset=utf-8"),
        }
        for key, (body, content_type) in objects.items():
            client.put_object(Bucket=BUCKET, Key=key, Body=body.encode(), ContentType=content_type)
        yield client


@pytest.fixture
def client(s3) -> Client:
    return Client(WebsiteApp(s3_client=s3, bucket=BUCKET, api_origin=API_ORIGIN))


def test_website_root_serves_index(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<title>Home</title>" in response.data


def test_website_html_security_headers(client: Client) -> None:
    response = client.get("/index.html")
    assert response.headers["Content-Security-Policy"] == content_security_policy(API_ORIGIN)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_website_csp_allows_scripts_only_from_self() -> None:
    directives = dict(part.split(" ", 1) for part in content_security_policy(API_ORIGIN).split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"'self' {API_ORIGIN}"


def test_website_script_content_type(client: Client) -> None:
    response = client.get("/app.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Content-Security-Policy" not in response.headers


def test_website_serves_config_json(client: Client) -> None:
    response = client.get("/config.json")
    assert response.json == {"api_url": "x"}


def test_website_folder_path_serves_its_index(client: Client) -> None:
    response = client.get("/docs/")
    assert response.status_code == 200
    assert b"<title>Docs</title>" in response.data


def test_website_folder_without_slash_redirects(client: Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 302
    assert response.headers["Location"] == "/docs/"


def test_website_missing_page_is_404_html(client: Client) -> None:
    response = client.get("/nope.html")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"/nope.html" in response.data
    assert response.headers["Content-Security-Policy"] == content_security_policy(API_ORIGIN)


def test_website_404_escapes_path(client: Client) -> None:
    response = client.get("/<script>alert(1)</script>")
    assert response.status_code == 404
    assert b"<script>" not in response.data


def test_website_rejects_post(client: Client) -> None:
    response = client.post("/index.html")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_website_head_has_no_body(client: Client) -> None:
    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""


def test_website_etag_gives_304(client: Client) -> None:
    etag = client.get("/app.js").headers["ETag"]
    response = client.get("/app.js", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_website_leaves_date_to_server(client: Client) -> None:
    # The HTTP server adds Date to every response, so the app must not add a second one.
    assert "Date" not in client.get("/app.js").headers


def test_website_bucket_error_is_500(s3) -> None:
    client = Client(WebsiteApp(s3_client=s3, bucket="no-such-bucket-here", api_origin=API_ORIGIN))
    response = client.get("/")
    assert response.status_code == 500
    assert b"Traceback" not in response.data


def test_website_log_escapes_control_characters(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="local.website")
    client.get("/index.html%0aFAKE%00")
    message = caplog.records[-1].getMessage()
    assert "\n" not in message
    assert "\x00" not in message
    assert "/index.html\\x0aFAKE\\x00" in message
