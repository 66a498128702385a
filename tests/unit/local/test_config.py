"""Settings of the offline stack: options, environment variables, defaults."""
from __future__ import annotations

import re

import pytest

from local.config import ConfigError, StackConfig


def test_config_defaults() -> None:
    config = StackConfig.from_sources({}, environ={})
    assert config.host == "127.0.0.1"
    assert config.port == 4566
    assert config.web_port == 4567
    assert config.prefix == "survey"
    assert config.require_confirmation is False
    assert config.notification_email == "notifications@example.com"


def test_config_port_from_environment() -> None:
    config = StackConfig.from_sources({}, environ={"SURVEY_LOCAL_PORT": "4600"})
    assert config.port == 4600
    assert config.web_port == 4601


def test_config_option_overrides_environment() -> None:
    config = StackConfig.from_sources({"port": 4700}, environ={"SURVEY_LOCAL_PORT": "4600"})
    assert config.port == 4700


def test_config_unset_option_falls_back() -> None:
    config = StackConfig.from_sources({"prefix": None}, environ={"SURVEY_LOCAL_PREFIX": "demo"})
    assert config.prefix == "demo"


def test_config_explicit_web_port() -> None:
    config = StackConfig.from_sources({"port": 4700, "web_port": 8080}, environ={})
    assert config.web_port == 8080


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("no", False), ("False", False)])
def test_config_require_confirmation_from_environment(raw: str, expected: bool) -> None:
    config = StackConfig.from_sources({}, environ={"SURVEY_LOCAL_REQUIRE_CONFIRMATION": raw})
    assert config.require_confirmation is expected


def test_config_log_level_is_upper_case() -> None:
    config = StackConfig.from_sources({}, environ={"SURVEY_LOCAL_LOG_LEVEL": "debug"})
    assert config.log_level == "DEBUG"


@pytest.mark.parametrize(
    "environ",
    [
        {"SURVEY_LOCAL_PORT": "http"},
        {"SURVEY_LOCAL_PORT": "70000"},
        {"SURVEY_LOCAL_REQUIRE_CONFIRMATION": "maybe"},
        {"SURVEY_LOCAL_LOG_LEVEL": "LOUD"},
        {"SURVEY_LOCAL_ACCOUNT_ID": "1234"},
    ],
)
def test_config_invalid_environment_raises(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        StackConfig.from_sources({}, environ=environ)


def test_config_same_ports_raise() -> None:
    with pytest.raises(ConfigError, match="differ"):
        StackConfig(port=5000, web_port=5000)


def test_config_user_pool_id_looks_like_cognito() -> None:
    assert re.fullmatch(r"us-east-1_[A-Za-z0-9]{9}", StackConfig().user_pool_id)


def test_config_client_id_looks_like_cognito() -> None:
    assert re.fullmatch(r"[a-z0-9]{26}", StackConfig().user_pool_client_id)


def test_config_api_id_looks_like_api_gateway() -> None:
    assert re.fullmatch(r"[a-z0-9]{10}", StackConfig().api_id)


def test_config_ids_are_deterministic() -> None:
    first, second = StackConfig(), StackConfig()
    assert first.user_pool_client_id == second.user_pool_client_id
    assert first.api_id == second.api_id


def test_config_ids_differ_by_prefix() -> None:
    assert StackConfig(prefix="one").api_id != StackConfig(prefix="two").api_id


def test_config_urls() -> None:
    config = StackConfig(port=4600, web_port=4601)
    assert config.edge_url == "http://127.0.0.1:4600"
    assert config.website_url == "http://127.0.0.1:4601"
    assert config.token_issuer == f"http://127.0.0.1:4600/{config.user_pool_id}"
    assert config.jwks_url == f"{config.token_issuer}/.well-known/jwks.json"
    assert config.api_url("v1") == f"http://127.0.0.1:4600/restapis/{config.api_id}/v1/_user_request_"


def test_config_wildcard_host_urls_use_loopback() -> None:
    assert StackConfig(host="0.0.0.0").edge_url == "http://127.0.0.1:4566"


def test_config_ipv6_host_bracketed_in_urls() -> None:
    config = StackConfig(host="::1", port=4600, web_port=4601)
    assert config.edge_url == "http://[::1]:4600"
    assert config.website_url == "http://[::1]:4601"


@pytest.mark.parametrize(
    ("options", "option_name"),
    [
        ({"region": "nowhere"}, "--region"),
        ({"prefix": "UPPER_bad"}, "--prefix"),
        ({"prefix": "1survey"}, "--prefix"),
        ({"prefix": "a" * 43}, "--prefix"),
        ({"notification_email": "notanemail"}, "--notification-email"),
        ({"port": 4600, "web_port": 4600}, "--port and --web-port must differ"),
    ],
)
def test_config_invalid_option_names_option(options: dict[str, object], option_name: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(option_name)):
        StackConfig.from_sources(options, environ={})


def test_config_longest_prefix_accepted() -> None:
    assert StackConfig(prefix="a" * 42).prefix == "a" * 42


def test_config_last_port_suggests_web_port() -> None:
    with pytest.raises(ConfigError, match="Set --web-port") as raised:
        StackConfig.from_sources({"port": 65535}, environ={})
    assert "65536" not in str(raised.value)
