"""A setting the operator got wrong is one line naming the variable: no traceback, no value."""

import pytest

from tests.conftest import TEST_KEY


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("DOORCODE_ACCESS_QUIET_POLL_SECONDS", "-1", "greater than or equal to 0"),
        ("DOORCODE_ACCESS_POLL_SECONDS", "soon", "valid number"),
        ("DOORCODE_PORT", "eighty", "valid integer"),
    ],
)
def test_a_bad_setting_is_named_with_its_rule(cli, monkeypatch, variable, value, rule):
    monkeypatch.setenv(variable, value)
    result = cli("property", "list", expect=1)
    assert result.output.startswith(f"Error: {variable}: "), result.output
    assert rule in result.output
    assert "Traceback" not in result.output
    assert value not in result.output.split(":", 2)[2]


def test_a_bad_value_is_never_echoed(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_SMTP_PORT", "hunter2-is-my-password")
    result = cli("property", "list", expect=1)
    assert "DOORCODE_SMTP_PORT" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("DOORCODE_SECRET_KEY", "not-a-fernet-key", "32 url-safe base64-encoded bytes"),
        ("DOORCODE_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("DOORCODE_MESSAGE_POLL_SECONDS", "0", "greater than or equal to 1"),
    ],
)
def test_a_setting_that_used_to_fail_later_is_named_at_once(
    cli, monkeypatch, variable, value, rule
):
    """A bad key was Fernet's traceback, a bad log level logging's (at ``serve``), and a
    poll interval of 0 made ``serve`` pass over the messages without pause."""
    monkeypatch.setenv(variable, value)
    result = cli("property", "list", expect=1)
    assert result.output.startswith(f"Error: {variable}: "), result.output
    assert rule in result.output
    assert value not in result.output.split(":", 2)[2]


def test_a_rotated_secret_key_with_one_bad_key_is_refused(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_SECRET_KEY", f"{TEST_KEY}, typo")
    result = cli("property", "list", expect=1)
    assert result.output.startswith("Error: DOORCODE_SECRET_KEY: "), result.output
    assert TEST_KEY not in result.output


def test_a_log_level_is_read_in_any_case(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_LOG_LEVEL", "debug")
    cli("property", "list", expect=1)  # no organisation yet: the setting itself passed


def test_our_own_rule_is_not_prefixed_with_pydantic_words(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_DATABASE_URL", "mysql://db.example.org/doorcode")
    result = cli("property", "list", expect=1)
    assert result.output.startswith("Error: DOORCODE_DATABASE_URL: doorcode supports SQLite")
