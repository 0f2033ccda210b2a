"""No secret in any log line: a whole run logged at DEBUG, scanned for everything it created."""

import asyncio
import io
import json
import logging
import logging.config
import re
import sys
from datetime import date, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.logs import (
    CONTINUATION,
    QUIET_LOGGERS,
    SecretRedaction,
    configure_logging,
    redact,
    uvicorn_log_config,
)
from doorcode.notify.channels import channels_from_settings
from doorcode.notify.loop import run_messages_once
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from doorcode.services.grants import reveal_code
from doorcode.sources.feed_poller import poll_due_feeds
from doorcode.sources.ical_feeds import FeedSettings, add_feed
from doorcode.sources.pms_push import collect_pushes, send_due_pushes
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.models import Grant, Reservation
from doorcode.unsafe_characters import UNSAFE_CHARACTERS
from tests.builders import guide_token_of, make_lock, make_owner, make_property
from tests.sources.conftest import signed
from tests.sources.http_server import LocalServer
from tests.sources.test_ical_feeds import airbnb
from tests.sync.helpers import reconcile

FEED_TOKEN = "feedtoken6f1d2c3b4a5e"
DEAD_FEED_TOKEN = "deadfeed0a9b8c7d6e5f"
PUSH_TOKEN = "pushtoken4a5e6f7a8b9c"


@pytest.fixture
def logged():
    """Everything logged, at every level, the way ``serve`` and ``worker`` set logging up."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LOGGERS)}
    buffer = io.StringIO()
    handler = configure_logging("DEBUG", buffer)
    yield buffer
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_a_whole_run_logs_no_url_token_secret_or_code(runtime, clock, logged, capsys):
    owner = make_owner(runtime, "acme")
    lock = make_lock(runtime, owner, "Flat 1 door")
    make_property(runtime, owner, "Flat 1", locks=[lock], external_id="flat-1")
    api_key = create_api_key(runtime.uow(), owner, "ops", Role.OWNER).secret
    runtime.settings.console_messages = True
    check_in = clock.now.date() + timedelta(days=1)
    with LocalServer() as server, httpx.Client(timeout=2.0) as http:
        server.set(f"/cal.ics?s={FEED_TOKEN}", airbnb(("F1", check_in, check_in + timedelta(3))))
        server.set(f"/push?token={PUSH_TOKEN}", b"ok")
        push_url = server.url(f"/push?token={PUSH_TOKEN}")
        issued = add_source(
            runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC, push_url=push_url)
        )
        for token in (FEED_TOKEN, DEAD_FEED_TOKEN):
            url = server.url(f"/cal.ics?s={token}")
            add_feed(runtime.uow(), owner, FeedSettings("flat-1", url, name=token[:4]))
        with TestClient(create_app(runtime)) as client:
            webhook_booking(client, issued, clock, check_in)
            api_booking(client, api_key, check_in)
            asyncio.run(poll_due_feeds(runtime, client=http))
            reconcile(runtime)
            collect_pushes(runtime.uow())
            assert send_due_pushes(runtime.uow(), http) >= 1
            run_messages_once(runtime, channels_from_settings(runtime.settings))
            guide_tokens = [guide_token_of(runtime, stay) for stay in stays(runtime)]
            for token in guide_tokens:
                assert client.get(f"/guide/{token}").status_code == 200
        assert server.requests_to(f"/push?token={PUSH_TOKEN}")
    codes = [reveal_code(runtime.uow(), owner, grant.id) for grant in grants(runtime)]
    secrets = [FEED_TOKEN, DEAD_FEED_TOKEN, PUSH_TOKEN, issued.secret, issued.push_secret]
    secrets += [api_key, *guide_tokens, *codes]
    assert len(codes) == 3
    assert all(codes)
    text = logged.getvalue()
    for logged_work in ("webhook delivery", "feed ", "push "):
        assert logged_work in text
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], text
    assert any(code in capsys.readouterr().out for code in codes)  # the console channel's job


def webhook_booking(client, issued, clock, check_in):
    body = {
        "version": 1,
        "external_id": "HX-1",
        "property": "flat-1",
        "status": "confirmed",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guest": {"name": "Ada Lovelace", "phone": "+351912345678"},
    }
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed(issued, content, clock.now)}
    answer = client.post(
        f"/webhooks/reservations/{issued.source.id}", content=content, headers=headers
    )
    assert answer.status_code == 200, answer.json()


def api_booking(client, api_key, check_in: date):
    body = {
        "external_id": "API-1",
        "property": "flat-1",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=4)).isoformat(),
        "guest": {"name": "Grace Hopper", "email": "grace@example.org"},
    }
    headers = {"Authorization": f"Bearer {api_key}"}
    answer = client.post("/api/v1/reservations", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.json()


def stays(runtime):
    with runtime.uow() as uow:
        return list(uow.session.query(Reservation))


def grants(runtime):
    with runtime.uow() as uow:
        return list(uow.session.query(Grant))


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        (
            "GET https://www.airbnb.com/calendar/ical/1.ics?s=abc123",
            "https://www.airbnb.com",
            "abc123",
        ),
        ("POST https://user:pw1@pms.example/hook", "https://pms.example", "pw1"),
        ('"GET /guide/Zk3-9xQ HTTP/1.1" 200', "/guide/***", "Zk3-9xQ"),
        ("Authorization: Bearer dck_0123456789ab_secretsecret", "Bearer ***", "secretsecret"),
        ("secret dcwh_AbCdEfGhIjKlMnOp given", "dcwh_***", "AbCdEfGhIjKlMnOp"),
        ("retrying with token=tok_998877", "token=***", "tok_998877"),
    ],
)
def test_redaction_keeps_what_helps_and_masks_what_opens(line, kept, gone):
    assert kept in redact(line)
    assert gone not in redact(line)


def test_a_logged_exception_quoting_a_url_is_redacted_too():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("see below",), None)
    try:
        raise httpx.ConnectError("cannot reach https://cal.example/ics?t=s3cr3t")
    except httpx.ConnectError:
        record.exc_info = sys.exc_info()
    SecretRedaction().filter(record)
    formatted = logging.Formatter().format(record)
    assert "cal.example" in formatted
    assert "s3cr3t" not in formatted


@pytest.mark.parametrize("library", ["zwave_js_server", "mqtt", "aiomqtt"])
def test_lock_clients_that_log_each_command_never_log_a_user_code_even_at_debug(logged, library):
    # zwave-js-server-python logs every outgoing command, user codes included, at DEBUG; the
    # MQTT client logs publishes with their payload.
    logging.getLogger(f"{library}.client").debug('{"command": "set", "userCode": "482910"}')
    logging.getLogger(library).warning("connection lost")
    assert "482910" not in logged.getvalue()
    assert "connection lost" in logged.getvalue()


def test_configuring_again_replaces_the_handler_so_a_closed_stream_is_never_written(capsys):
    # The CLI runner of the tests (and any second command in one process) configures logging
    # again with a new stderr; the old one is closed by then.
    root = logging.getLogger()
    level = root.level
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", first)
    handler = configure_logging("INFO", second)
    first.close()
    try:
        logging.getLogger("doorcode.test").info("accepted: delivery dlv_1")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert "accepted: delivery dlv_1" in second.getvalue()
    assert "Logging error" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("message", "args"),
    [
        # uvicorn's access line: the path arrives percent-decoded
        ('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", "/x\nERROR forged", "1.1", 404)),
        # a name from a lock's cloud or a zigbee network
        ("zigbee lock %s answers no slot reads", ("door\r\nERROR forged\x1b]0;owned\x07",)),
    ],
    ids=["access line", "lock name"],
)
def test_what_others_wrote_cannot_add_a_line_to_the_log_or_reach_a_terminal(message, args):
    # Every handler doorcode sets up (its own and uvicorn's) carries this filter.
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)
    SecretRedaction().filter(record)
    (line,) = logging.Formatter("%(levelname)s %(message)s").format(record).splitlines()
    assert "forged" in line
    assert "\x1b" not in line
    assert "\x07" not in line
    assert "\\n" in line


def test_a_bidi_override_or_a_line_separator_others_wrote_is_logged_as_its_escape(logged):
    # U+202E shows the rest of the line right to left: "…txt.exe" would read as "…exe.txt".
    name = "invoice\u202etxt.exe\u2028ERROR forged"
    logging.getLogger("doorcode.test").info("guest %s checked in", name)
    (line,) = logged.getvalue().splitlines()
    assert line.endswith("guest invoice\\u202etxt.exe\\u2028ERROR forged checked in")


def test_no_unsafe_character_in_an_argument_reaches_the_log_raw(logged):
    everything = "".join(chr(c) for c in sorted(UNSAFE_CHARACTERS))
    logging.getLogger("doorcode.test").info("lock %s answers", everything)
    (line,) = logged.getvalue().rstrip("\n").split("\n")
    assert not set(everything) & set(line)


def test_a_backslash_others_wrote_is_escaped_too_so_an_escape_means_a_control_character():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s|%s", ("a\\nb", "a\nb"), None)
    SecretRedaction().filter(record)
    literal, newline = record.getMessage().split("|")
    assert literal != newline
    assert newline == "a\\nb"


def test_an_access_pass_failure_is_one_line_naming_where_it_failed(logged):
    from doorcode.sync.access_poller import _log_failure

    try:
        raise RuntimeError("code 482910 rejected")
    except RuntimeError as err:
        _log_failure("polling lock lck_1", err)
    (line,) = logged.getvalue().splitlines()
    assert "access pass: polling lock lck_1 failed with RuntimeError at " in line
    assert "test_logs.py:" in line
    assert "482910" not in line


FORGED = "\n2026-01-01 00:00:00 INFO doorcode: code 1234 set"
"""A record doorcode never wrote, after a newline in outside text."""
A_RECORD = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def records_and_continuations(text):
    """The lines that start a record, and whether every other line is marked as continuing one.

    Lines are split wherever Python splits them (also at a carriage return or U+2028), as some
    viewers do."""
    lines = text.splitlines()
    return [line for line in lines if A_RECORD.match(line)], all(
        A_RECORD.match(line) or line.startswith(CONTINUATION) for line in lines
    )


def test_an_exception_quoting_outside_text_cannot_add_a_record_to_the_log(logged):
    try:
        raise ValueError(f"the lock's cloud says: Front door{FORGED}\r\x1b[2J\u2028\u202edone")
    except ValueError:
        logging.getLogger("doorcode.sync").exception("sync of lock %s failed", "lck_1")
    records, all_marked = records_and_continuations(logged.getvalue())
    assert len(records) == 1
    assert records[0].endswith("ERROR doorcode.sync: sync of lock lck_1 failed")
    assert all_marked
    last = logged.getvalue().splitlines()[-1]
    assert last == CONTINUATION + "2026-01-01 00:00:00 INFO doorcode: code 1234 set" + (
        "\\r\\x1b[2J\\u2028\\u202edone"
    )


def test_a_traceback_stays_readable_as_python_wrote_it_behind_the_mark(logged):
    try:
        raise ValueError("bad path C:\\doors\\front")
    except ValueError:
        logging.getLogger("doorcode.sync").exception("sync failed")
    lines = logged.getvalue().splitlines()
    assert lines[1] == CONTINUATION + "Traceback (most recent call last):"
    assert lines[2].startswith(CONTINUATION + '  File "')
    assert lines[-1] == CONTINUATION + "ValueError: bad path C:\\doors\\front"


def test_a_message_that_was_outside_text_continues_its_record_on_marked_lines(logged):
    # A library that formats before logging, or a call like logger.info(body).
    body = '{"guest": "Eve"}' + FORGED + "\x1b]0;owned\x07"
    logging.getLogger("doorcode.test").warning(body)
    records, all_marked = records_and_continuations(logged.getvalue())
    assert len(records) == 1
    assert all_marked
    assert logged.getvalue().splitlines()[-1].endswith("code 1234 set\\x1b]0;owned\\x07")


def test_a_message_that_was_outside_text_sends_no_control_to_the_terminal(logged):
    logging.getLogger("doorcode.test").warning("lock \x1b]0;owned\x07 \u202eanswers")
    (line,) = logged.getvalue().splitlines()
    assert line.endswith("lock \\x1b]0;owned\\x07 \\u202eanswers")


def test_a_logged_stack_continues_its_record_on_marked_lines(logged):
    logging.getLogger("doorcode.test").info("where from", stack_info=True)
    lines = logged.getvalue().splitlines()
    assert lines[1] == CONTINUATION + "Stack (most recent call last):"
    assert all(line.startswith(CONTINUATION) for line in lines[1:])


def test_uvicorns_own_messages_mark_their_continuation_lines_too():
    config = uvicorn_log_config()
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        dict(config["formatters"]["default"])
    )
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None, None
    )
    try:
        raise ValueError(f"bad header{FORGED}")
    except ValueError:
        record.exc_info = sys.exc_info()
    SecretRedaction().filter(record)
    first, *more = formatter.format(record).splitlines()
    assert first.endswith("Exception in ASGI application")
    assert more
    assert all(line.startswith(CONTINUATION) for line in more)


def test_an_exception_quoting_a_url_with_its_token_is_redacted_in_the_log(logged):
    try:
        raise httpx.ConnectError("cannot reach https://cal.example/ics?t=s3cr3t")
    except httpx.ConnectError:
        logging.getLogger("doorcode.feeds").exception("feed %s failed", "fd_1")
    assert "cannot reach https://cal.example" in logged.getvalue()
    assert "s3cr3t" not in logged.getvalue()


def test_an_exception_logged_as_the_message_itself_is_redacted_too(logged):
    # As libraries do: logger.warning(err), logger.exception(err).
    err = httpx.ConnectError("cannot reach https://cal.example/ics?t=s3cr3t")
    logging.getLogger("doorcode.feeds").warning(err)
    assert "cannot reach https://cal.example" in logged.getvalue()
    assert "s3cr3t" not in logged.getvalue()
