"""The moto journal and the data folder, against moto's real server app over loopback HTTP.

A werkzeug server on a free port serves moto's app, with or without the journal in
front of it, and boto3 clients send the requests. "Restarting" resets moto's
in-memory backends, as a new process would start, and restores from the folder.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server

from local.edge import create_moto_app
from local.outbox import Outbox
from local.persistence.moto_journal import (
    JournalEntry,
    JournalingMotoApp,
    capture_environ,
    is_journaled,
    replay_journal,
)
from local.persistence.moto_snapshot import SnapshotError
from local.persistence.records import RecordFile
from local.persistence.store import JOURNAL_FILE, SNAPSHOT_FILE, StateStore, StateStoreError
from local.sns_email import install_email_delivery

IDENTITY = {"prefix": "survey", "region": "us-east-1", "account_id": "123456789012"}
SESSION_TOKEN = "session-token-that-must-not-be-saved"


def reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class Router:
    """The server's WSGI app, switchable between moto's own app and the journaling one."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)


@dataclass
class MotoServer:
    url: str
    moto_app: Any
    router: Router

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token=SESSION_TOKEN,
            config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def journal_to(self, path: Path) -> RecordFile:
        journal = RecordFile(path)
        list(journal.read(new_generation=1))
        self.router.app = JournalingMotoApp(self.moto_app, journal)
        return journal

    def restart_from(self, path: Path) -> tuple[int, int]:
        """Forget moto's state, then replay the journal at `path`; return (replayed, rejected)."""
        reset_moto()
        self.router.app = self.moto_app
        journal = RecordFile(path)
        try:
            return replay_journal(self.moto_app, journal.read(new_generation=1))
        finally:
            journal.close()


@pytest.fixture
def moto_server() -> Iterator[MotoServer]:
    reset_moto()
    moto_app = create_moto_app()
    router = Router(moto_app)
    server = make_server("127.0.0.1", 0, router, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield MotoServer(url=f"http://127.0.0.1:{server.port}", moto_app=moto_app, router=router)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        reset_moto()


def journal_entries(path: Path) -> list[JournalEntry]:
    journal = RecordFile(path)
    try:
        return [JournalEntry.from_payload(record.payload) for record in journal.read(new_generation=1)]
    finally:
        journal.close()


def operation_of(entry: JournalEntry) -> str:
    target = entry.environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    return f"{entry.environ['REQUEST_METHOD']} {entry.environ['PATH_INFO']}"


def create_table(dynamodb: Any, name: str = "items") -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def scan(dynamodb: Any, name: str = "items") -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=name)["Items"], key=lambda item: item["k"]["S"])


def add_to_counter(dynamodb: Any, amount: int = 1) -> None:
    dynamodb.update_item(
        TableName="items",
        Key={"k": {"S": "counter"}},
        UpdateExpression="ADD n :amount",
        ExpressionAttributeValues={":amount": {"N": str(amount)}},
    )


def counter(dynamodb: Any) -> int:
    return int(dynamodb.get_item(TableName="items", Key={"k": {"S": "counter"}})["Item"]["n"]["N"])


# --- classification -----------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "body", "expected"),
    [
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, None, True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}, None, True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.UpdateTimeToLive"}, None, True),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, None, False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, None, False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactGetItems"}, None, False),
        ({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.DescribeTable"}, None, False),
        ({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/key"}, None, True),
        ({"REQUEST_METHOD": "DELETE", "PATH_INFO": "/bucket/key"}, None, True),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/bucket", "QUERY_STRING": "delete"}, None, True),
        ({"REQUEST_METHOD": "GET", "PATH_INFO": "/bucket/key"}, None, False),
        ({"REQUEST_METHOD": "HEAD", "PATH_INFO": "/bucket"}, None, False),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=CreateTopic&Name=t", True),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=Subscribe", True),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=Publish&Message=m", False),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=ListTopics", False),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=CreateRole", True),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=GetCallerIdentity", False),
        ({"REQUEST_METHOD": "GET", "QUERY_STRING": "Action=CreateTopic&Name=t"}, None, True),
    ],
)
def test_journal_classifies_requests(environ: dict[str, Any], body: bytes | None, expected: bool) -> None:
    assert is_journaled(environ, body) is expected


def test_capture_drops_signature_token_and_cookie() -> None:
    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/bucket/key",
        "QUERY_STRING": "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc123&X-Amz-Security-Token=tok&versioning",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=deadbeef",
        "HTTP_X_AMZ_SECURITY_TOKEN": "secret-session-token",
        "HTTP_COOKIE": "session=1",
        "HTTP_X_AMZ_META_OWNER": "me",
    }
    captured = capture_environ(environ)
    saved = json.dumps(captured)
    assert "deadbeef" not in saved
    assert "abc123" not in saved
    assert "secret-session-token" not in saved
    assert "HTTP_COOKIE" not in captured
    assert captured["HTTP_AUTHORIZATION"].startswith("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request,")
    assert captured["QUERY_STRING"] == "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&versioning"
    assert captured["HTTP_X_AMZ_META_OWNER"] == "me"


def test_capture_drops_unknown_authorization_scheme() -> None:
    captured = capture_environ({"REQUEST_METHOD": "PUT", "HTTP_AUTHORIZATION": "AWS AKID:signature"})
    assert "HTTP_AUTHORIZATION" not in captured


# --- journal and replay over HTTP ---------------------------------------------


def test_journal_replay_restores_dynamodb_items(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    for index in range(5):
        dynamodb.put_item(TableName="items", Item={"k": {"S": f"item-{index}"}, "v": {"S": "x" * index}})
    dynamodb.delete_item(TableName="items", Key={"k": {"S": "item-0"}})
    add_to_counter(dynamodb, 2)
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "items", "Key": {"k": {"S": "counter"}},
                    "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": "items", "Item": {"k": {"S": "in-transaction"}},
                 "ConditionExpression": "attribute_not_exists(k)"}},
    ])
    dynamodb.batch_write_item(RequestItems={"items": [{"PutRequest": {"Item": {"k": {"S": "batched"}}}}]})
    before = scan(dynamodb)
    journal.close()

    replayed, rejected = moto_server.restart_from(path)
    assert (replayed, rejected) == (10, 0)
    assert scan(dynamodb) == before
    assert counter(dynamodb) == 3


def test_journal_records_in_execution_order(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    dynamodb.put_item(TableName="items", Item={"k": {"S": "a"}, "v": {"S": "first"}})
    dynamodb.update_item(TableName="items", Key={"k": {"S": "a"}}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": {"S": "second"}})
    dynamodb.delete_item(TableName="items", Key={"k": {"S": "a"}})
    dynamodb.put_item(TableName="items", Item={"k": {"S": "a"}, "v": {"S": "last"}})
    journal.close()

    operations = [operation_of(entry) for entry in journal_entries(path)]
    assert operations == ["CreateTable", "PutItem", "UpdateItem", "DeleteItem", "PutItem"]
    moto_server.restart_from(path)
    item = dynamodb.get_item(TableName="items", Key={"k": {"S": "a"}})["Item"]
    assert item["v"]["S"] == "last"


def test_journal_skips_reads_and_rejected_writes(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    dynamodb.put_item(TableName="items", Item={"k": {"S": "a"}})
    dynamodb.get_item(TableName="items", Key={"k": {"S": "a"}})
    dynamodb.scan(TableName="items")
    dynamodb.describe_table(TableName="items")
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        dynamodb.put_item(TableName="items", Item={"k": {"S": "a"}}, ConditionExpression="attribute_not_exists(k)")
    journal.close()
    assert [operation_of(entry) for entry in journal_entries(path)] == ["CreateTable", "PutItem"]


def test_journal_never_saves_credentials(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    create_table(moto_server.client("dynamodb"))
    journal.close()
    data = path.read_bytes()
    assert SESSION_TOKEN.encode() not in data
    assert b"Signature=redacted" in data


def test_journal_publish_is_not_journaled_or_replayed(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    outbox = Outbox()
    uninstall = install_email_delivery(outbox)
    try:
        journal = moto_server.journal_to(path)
        sns = moto_server.client("sns")
        topic_arn = sns.create_topic(Name="notifications")["TopicArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="owner@example.com")
        sns.publish(TopicArn=topic_arn, Message="survey deleted")
        journal.close()
        assert len(outbox.messages()) == 1

        replay_outbox = Outbox()
        uninstall()
        uninstall = install_email_delivery(replay_outbox)
        moto_server.restart_from(path)
    finally:
        uninstall()
    assert [operation_of(entry) for entry in journal_entries(path)] == ["POST /", "POST /"]
    assert replay_outbox.messages() == []
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]) == 1


def test_journal_replay_keeps_generated_ids(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    sns = moto_server.client("sns")
    s3 = moto_server.client("s3")
    topic_arn = sns.create_topic(Name="notifications")["TopicArn"]
    subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"]
    s3.create_bucket(Bucket="versioned-bucket")
    s3.put_bucket_versioning(Bucket="versioned-bucket", VersioningConfiguration={"Status": "Enabled"})
    first_version = s3.put_object(Bucket="versioned-bucket", Key="doc", Body=b"v1")["VersionId"]
    s3.put_object(Bucket="versioned-bucket", Key="doc", Body=b"v2")
    # A later write names a generated id, so replay needs the same id to apply it.
    s3.delete_object(Bucket="versioned-bucket", Key="doc", VersionId=first_version)
    versions_before = [version["VersionId"] for version in s3.list_object_versions(Bucket="versioned-bucket")["Versions"]]
    journal.close()

    replayed, rejected = moto_server.restart_from(path)
    assert rejected == 0
    subscriptions = sns.list_subscriptions()["Subscriptions"]
    assert [subscription["SubscriptionArn"] for subscription in subscriptions] == [subscription_arn]
    versions = [version["VersionId"] for version in s3.list_object_versions(Bucket="versioned-bucket")["Versions"]]
    assert versions == versions_before


def test_journal_replay_multipart_upload(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="uploads-bucket")
    upload = s3.create_multipart_upload(Bucket="uploads-bucket", Key="large", ContentType="text/plain")
    part = s3.upload_part(Bucket="uploads-bucket", Key="large", UploadId=upload["UploadId"], PartNumber=1, Body=b"part one")
    s3.complete_multipart_upload(
        Bucket="uploads-bucket", Key="large", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    journal.close()

    replayed, rejected = moto_server.restart_from(path)
    assert (replayed, rejected) == (4, 0)
    restored = s3.get_object(Bucket="uploads-bucket", Key="large")
    assert restored["Body"].read() == b"part one"
    assert restored["ContentType"] == "text/plain"


def test_journal_replay_keeps_s3_metadata_and_region(moto_server: MotoServer, tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = moto_server.journal_to(path)
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="regional-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="regional-bucket", Key="file.json", Body=b"{}", ContentType="application/json",
                  Metadata={"under_score": "kept"})
    journal.close()

    moto_server.restart_from(path)
    head = s3.head_object(Bucket="regional-bucket", Key="file.json")
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"under_score": "kept"}
    assert s3.get_bucket_location(Bucket="regional-bucket")["LocationConstraint"] == "eu-west-1"


def test_journal_failure_rejects_later_writes(moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = moto_server.journal_to(tmp_path / JOURNAL_FILE)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)

    def fail_append(payload: bytes) -> tuple[int, int]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal, "append", fail_append)
    with pytest.raises(ClientError) as failed:
        dynamodb.put_item(TableName="items", Item={"k": {"S": "unsaved"}})
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    monkeypatch.undo()

    with pytest.raises(ClientError) as rejected:
        dynamodb.put_item(TableName="items", Item={"k": {"S": "later"}})
    assert rejected.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert [item["k"]["S"] for item in scan(dynamodb)] == ["unsaved"]
    journal.close()


# --- the data folder: snapshots and compaction ------------------------------------


def open_store(moto_server: MotoServer, folder: Path) -> StateStore:
    """Start as a new process would: forget moto's state, then restore it from `folder`."""
    reset_moto()
    store = StateStore(folder, IDENTITY)
    store.open()
    moto_server.router.app = store.restore_moto(moto_server.moto_app)
    return store


def crash(store: StateStore) -> None:
    """Leave `store` as SIGKILL would: descriptors closed, lock released, no compaction."""
    store._journal.close()
    store._lock.release()


def test_store_restores_snapshot_after_clean_close(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(moto_server, tmp_path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    add_to_counter(dynamodb, 5)
    snapshot_bytes = store.close()
    assert snapshot_bytes is not None
    assert RecordFile(tmp_path / JOURNAL_FILE).stored_generation() == 2

    reopened = open_store(moto_server, tmp_path)
    try:
        assert reopened.summary.from_snapshot is True
        assert reopened.summary.journal_writes == 0
        assert counter(dynamodb) == 5
    finally:
        reopened.close()


def test_store_replays_journal_after_crash(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(moto_server, tmp_path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    store.close()
    store = open_store(moto_server, tmp_path)
    add_to_counter(dynamodb, 2)
    add_to_counter(dynamodb, 3)
    crash(store)

    reopened = open_store(moto_server, tmp_path)
    try:
        assert reopened.summary.from_snapshot is True
        assert reopened.summary.journal_writes == 2
        assert counter(dynamodb) == 5
        # Start-up compacted the replayed journal, so the next start replays nothing.
        assert RecordFile(tmp_path / JOURNAL_FILE).stored_generation() == 3
    finally:
        reopened.close()


def test_store_skips_journal_the_snapshot_covers(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(moto_server, tmp_path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    add_to_counter(dynamodb, 1)
    add_to_counter(dynamodb, 1)
    journal_before_compaction = (tmp_path / JOURNAL_FILE).read_bytes()
    store.close()
    # As if the stack died after writing the snapshot but before replacing the journal.
    (tmp_path / JOURNAL_FILE).write_bytes(journal_before_compaction)

    reopened = open_store(moto_server, tmp_path)
    try:
        assert reopened.summary.journal_writes == 0
        assert counter(dynamodb) == 2
    finally:
        reopened.close()


def test_store_failed_compaction_keeps_journal(moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(moto_server, tmp_path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    add_to_counter(dynamodb, 4)

    def fail_snapshot(path: Path, generation: int) -> int:
        raise SnapshotError("cannot pickle")

    monkeypatch.setattr("local.persistence.store.save_snapshot", fail_snapshot)
    assert store.close() is None
    monkeypatch.undo()
    assert not (tmp_path / SNAPSHOT_FILE).exists()

    reopened = open_store(moto_server, tmp_path)
    try:
        assert reopened.summary.journal_writes == 2
        assert counter(dynamodb) == 4
    finally:
        reopened.close()


def test_store_journal_without_its_snapshot_raises(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(moto_server, tmp_path)
    create_table(moto_server.client("dynamodb"))
    store.close()
    (tmp_path / SNAPSHOT_FILE).unlink()

    reset_moto()
    reopened = StateStore(tmp_path, IDENTITY)
    reopened.open()
    try:
        with pytest.raises(StateStoreError, match="moto-snapshot.pickle is missing"):
            reopened.restore_moto(moto_server.moto_app)
    finally:
        reopened.close()


def test_store_failed_journal_replacement_fails_start(moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(moto_server, tmp_path)
    dynamodb = moto_server.client("dynamodb")
    create_table(dynamodb)
    add_to_counter(dynamodb, 1)
    crash(store)

    def fail_replace(self: RecordFile, generation: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RecordFile, "replace", fail_replace)
    reset_moto()
    reopened = StateStore(tmp_path, IDENTITY)
    reopened.open()
    try:
        with pytest.raises(StateStoreError, match="skips the old journal"):
            reopened.restore_moto(moto_server.moto_app)
    finally:
        reopened.close()
    monkeypatch.undo()

    # The snapshot was written before the failure and contains every write.
    restarted = open_store(moto_server, tmp_path)
    try:
        assert restarted.summary.journal_writes == 0
        assert counter(dynamodb) == 1
    finally:
        restarted.close()
