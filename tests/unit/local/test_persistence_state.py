"""The data folder's user pool, outbox, identity check, --reset and lock."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from local.cognito import LocalCognito
from local.outbox import Outbox
from local.persistence import DataDirLockedError, StateStore, StateStoreError
from local.persistence.cognito_state import PersistentCognito
from local.persistence.store import COGNITO_FILE, IDENTITY_FILE, JOURNAL_FILE, OUTBOX_FILE, SNAPSHOT_FILE

IDENTITY = {"prefix": "survey", "region": "us-east-1", "account_id": "123456789012"}
POOL_ID = "us-east-1_LocalPool"
CLIENT_ID = "localclient1234567890abcd"
PASSWORD = "Correct1Horse"
EMAIL = "owner@example.com"


def new_cognito(outbox: Outbox | None = None, client_id: str = CLIENT_ID) -> LocalCognito:
    return LocalCognito(
        issuer=f"http://127.0.0.1:4566/{POOL_ID}", user_pool_id=POOL_ID, client_id=client_id, outbox=outbox or Outbox()
    )


def call(app: Any, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = Client(app).post(
        "/",
        data=json.dumps(body),
        headers={"X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}", "Content-Type": "application/x-amz-json-1.1"},
    )
    return response.status_code, json.loads(response.data)


def sign_up(app: Any) -> None:
    status, body = call(app, "SignUp", {"ClientId": CLIENT_ID, "Username": EMAIL, "Password": PASSWORD})
    assert status == 200, body


def password_login(app: Any) -> tuple[int, dict[str, Any]]:
    return call(app, "InitiateAuth", {
        "ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": EMAIL, "PASSWORD": PASSWORD},
    })


def open_store(folder: Path, identity: dict[str, str] | None = None) -> StateStore:
    store = StateStore(folder, identity or IDENTITY)
    store.open()
    return store


# --- the user pool ------------------------------------------------------------


def test_cognito_user_survives_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    cognito = store.attach_cognito(new_cognito())
    sign_up(cognito.wsgi_app)
    store.close()

    reopened = open_store(tmp_path)
    restored = reopened.attach_cognito(new_cognito())
    try:
        status, body = password_login(restored.wsgi_app)
        assert status == 200, body
        assert reopened.summary.users == 1
    finally:
        reopened.close()


def test_cognito_refresh_token_survives_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    cognito = store.attach_cognito(new_cognito())
    sign_up(cognito.wsgi_app)
    _, login = password_login(cognito.wsgi_app)
    refresh_token = login["AuthenticationResult"]["RefreshToken"]
    store.close()

    reopened = open_store(tmp_path)
    restored = reopened.attach_cognito(new_cognito())
    try:
        status, body = call(restored.wsgi_app, "InitiateAuth", {
            "ClientId": CLIENT_ID, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh_token},
        })
        assert status == 200, body
    finally:
        reopened.close()


def test_cognito_signing_keys_survive_rotation_and_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    cognito = store.attach_cognito(new_cognito())
    first_kid = cognito.pool.active_kid()
    rotated_kid = cognito.rotate_keys()
    store.close()

    reopened = open_store(tmp_path)
    restored = reopened.attach_cognito(new_cognito())
    try:
        assert restored.pool.active_kid() == rotated_kid
        assert {key["kid"] for key in restored.pool.jwks()["keys"]} == {first_kid, rotated_kid}
    finally:
        reopened.close()


def test_cognito_new_pool_saves_its_key_at_once(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    cognito = store.attach_cognito(new_cognito())
    saved = json.loads((tmp_path / COGNITO_FILE).read_text())
    store.close()
    assert saved["keys"] == cognito.pool.export_state()["keys"]


def test_cognito_file_is_owner_only(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.attach_cognito(new_cognito())
    store.close()
    assert (tmp_path / COGNITO_FILE).stat().st_mode & 0o777 == 0o600


def test_cognito_read_action_does_not_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persistent = PersistentCognito(new_cognito(), tmp_path / COGNITO_FILE)
    sign_up(persistent.wsgi_app)
    _, login = password_login(persistent.wsgi_app)
    saves: list[bool] = []
    monkeypatch.setattr(persistent, "save", lambda: saves.append(True))
    status, _ = call(persistent.wsgi_app, "GetUser", {"AccessToken": login["AuthenticationResult"]["AccessToken"]})
    assert status == 200
    assert saves == []


def test_cognito_rejected_action_does_not_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persistent = PersistentCognito(new_cognito(), tmp_path / COGNITO_FILE)
    saves: list[bool] = []
    monkeypatch.setattr(persistent, "save", lambda: saves.append(True))
    status, _ = call(persistent.wsgi_app, "SignUp", {"ClientId": CLIENT_ID, "Username": EMAIL, "Password": "short"})
    assert status == 400
    assert saves == []


def test_cognito_failed_save_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persistent = PersistentCognito(new_cognito(), tmp_path / COGNITO_FILE)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("local.persistence.cognito_state.write_atomic", fail)
    status, body = call(persistent.wsgi_app, "SignUp", {"ClientId": CLIENT_ID, "Username": EMAIL, "Password": PASSWORD})
    assert status == 500
    assert body["__type"] == "InternalErrorException"


def test_cognito_state_of_other_client_is_rejected(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.attach_cognito(new_cognito())
    store.close()

    reopened = open_store(tmp_path)
    try:
        with pytest.raises(StateStoreError, match="--reset"):
            reopened.attach_cognito(new_cognito(client_id="otherclient12345678901234"))
    finally:
        reopened.close()


# --- the outbox ---------------------------------------------------------------


def test_outbox_messages_survive_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    outbox = Outbox()
    store.restore_outbox(outbox)
    outbox.add("a@example.com", "Survey deleted: Offsite", "{}", "sns")
    outbox.add("b@example.com", "Your code", "Your confirmation code is 123456", "cognito-idp")
    sent = outbox.messages()
    store.close()

    reopened = open_store(tmp_path)
    restored = Outbox()
    reopened.restore_outbox(restored)
    reopened.close()
    assert restored.messages() == sent
    assert reopened.summary.outbox_messages == 2


def test_outbox_torn_last_message_is_dropped(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    outbox = Outbox()
    store.restore_outbox(outbox)
    outbox.add("a@example.com", "first", "body", "sns")
    outbox.add("b@example.com", "second", "body", "sns")
    store.close()
    path = tmp_path / OUTBOX_FILE
    path.write_bytes(path.read_bytes()[:-5])

    reopened = open_store(tmp_path)
    restored = Outbox()
    reopened.restore_outbox(restored)
    reopened.close()
    assert [message["subject"] for message in restored.messages()] == ["first"]


def test_outbox_failed_write_keeps_nothing(tmp_path: Path) -> None:
    class FullDisk:
        def append(self, message: dict[str, str]) -> None:
            raise OSError(28, "No space left on device")

    outbox = Outbox()
    outbox.persist_to(FullDisk())
    with pytest.raises(OSError, match="No space left"):
        outbox.add("a@example.com", "subject", "body", "sns")
    assert outbox.messages() == []


# --- the folder -----------------------------------------------------------------


def test_store_other_stack_settings_are_rejected(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    other = StateStore(tmp_path, {**IDENTITY, "prefix": "demo"})
    with pytest.raises(StateStoreError, match="prefix 'survey' \\(this stack: 'demo'\\)"):
        other.open()
    other.close()


def test_store_reset_deletes_only_state_files(tmp_path: Path) -> None:
    for name in (SNAPSHOT_FILE, JOURNAL_FILE, COGNITO_FILE, OUTBOX_FILE, IDENTITY_FILE):
        (tmp_path / name).write_bytes(b"old state")
    (tmp_path / "notes.txt").write_text("not the stack's")
    store = StateStore(tmp_path, IDENTITY)
    store.open(reset=True)
    store.close()
    assert sorted(path.name for path in store.summary.deleted_by_reset) == sorted(
        [SNAPSHOT_FILE, JOURNAL_FILE, COGNITO_FILE, OUTBOX_FILE, IDENTITY_FILE]
    )
    assert (tmp_path / "notes.txt").read_text() == "not the stack's"
    assert not (tmp_path / JOURNAL_FILE).exists()


def test_store_reset_lets_other_settings_start(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    other = StateStore(tmp_path, {**IDENTITY, "region": "eu-west-1"})
    other.open(reset=True)
    other.close()
    assert json.loads((tmp_path / IDENTITY_FILE).read_text())["region"] == "eu-west-1"


def test_store_second_stack_is_locked_out(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    try:
        with pytest.raises(DataDirLockedError, match="in use"):
            StateStore(tmp_path, IDENTITY).open()
    finally:
        first.close()


def test_store_creates_owner_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "data"
    open_store(folder).close()
    assert folder.stat().st_mode & 0o777 == 0o700
