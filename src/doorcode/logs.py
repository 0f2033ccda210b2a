"""Logging for ``serve`` and ``worker``: what is logged, and what never is.

No URL with a credential, no code and no token may reach a log line, at any level. Two nets:

1. **Quiet the loggers that print URLs.** httpx logs every request's full URL at INFO and
   httpcore traces connections at DEBUG; feed URLs carry their channel's token and a PMS push
   URL may carry one, so both loggers are held at WARNING whatever the level asked for.
2. **Redact every record on its way out** (``SecretRedaction``, on every handler, uvicorn's
   included): URLs lose everything after their host, bearer and basic credentials, doorcode
   API keys, Svix secrets and guidebook tokens become ``***``, and so do ``token=``-style
   pairs. It rewrites messages, their arguments and tracebacks, so a library that logs an
   exception quoting a URL is covered too.

A record's message is one line: the unsafe characters (``doorcode.unsafe_characters``) in its
arguments (the guest names, ids, paths and bodies that come from outside) are written as
their escapes, and a backslash as two, so a guest called ``"Eve\\nERROR forged"`` or a
request to ``/%0Aforged`` cannot add a line of its own to the log, reorder one, or send a
terminal escape to whoever reads it. A traceback, a stack and a message that was outside
text itself still span lines, but each line after a record's first is marked as the record's
own (``LogLineFormatter``), so none of them can pass for a record of its own either.

Door codes themselves are kept out by construction (events, errors and messages never
carry them); the second net is for what third-party code might print.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from typing import Any, TextIO

from uvicorn.logging import AccessFormatter, DefaultFormatter

from doorcode.unsafe_characters import UNSAFE_CHARACTERS, escape_sequence

__all__ = [
    "CONTINUATION",
    "HANDLER_NAME",
    "QUIET_LOGGERS",
    "LogLineFormatter",
    "SecretRedaction",
    "configure_logging",
    "redact",
    "uvicorn_log_config",
]

QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "urllib3", "zwave_js_server", "mqtt", "aiomqtt")
"""Libraries that log whole requests at DEBUG: URLs with tokens, and the Z-Wave and MQTT
clients every command with its payload (a user code is a PIN)."""
REDACTED = "***"
HANDLER_NAME = "doorcode"
"""The name of the one handler ``configure_logging`` keeps on the root logger."""
URL = re.compile(
    r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,15}://)(?:[^\s/@'\"<>]*@)?([^\s/?#'\"<>]*)"
    r"([/?#][^\s'\"<>]*)?"
)
"""scheme://user:password@host/path?query#fragment: only scheme and host are kept."""
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/guide/)[^/?#\s'\"]+"), r"\1***"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    (re.compile(r"\b(dck|dcwh|dcps|whsec)_[A-Za-z0-9_+/=-]{8,}"), r"\1_***"),
    (
        re.compile(
            r"(?i)\b((?:access_?|auth_?|api_?)?(?:token|secret|password|passwd|key|signature|sig))"
            r"(\s*[=:]\s*)[^\s&,;'\"]+"
        ),
        r"\1\2***",
    ),
)


def redact(text: str) -> str:
    """``text`` with every URL path, query and credential, and every known token masked."""
    text = URL.sub(_scheme_and_host, text)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scheme_and_host(found: re.Match[str]) -> str:
    rest = found.group(3) or ""
    return found.group(1) + found.group(2) + ("/***" if rest.strip("/") else rest)


class SecretRedaction(logging.Filter):
    """Rewrites each record so that nothing secret-looking leaves the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Not only a string: a library may log an exception itself (``logger.error(err)``),
        # and its text, a URL with its token say, would be the message.
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_argument(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted_argument(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_ESCAPED = {c: escape_sequence(c) for c in UNSAFE_CHARACTERS}
_ESCAPED |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_IN_ARGUMENT = _ESCAPED | {ord("\\"): "\\\\"}


def _redacted_argument(arg: Any) -> Any:
    """A string argument redacted and kept to one line; another object replaced by its
    cleaned text if need be."""
    if isinstance(arg, str):
        return redact(arg).translate(_IN_ARGUMENT)
    if arg is None or isinstance(arg, int | float):
        return arg
    text = str(arg)
    cleaned = redact(text).translate(_IN_ARGUMENT)
    return arg if cleaned == text else cleaned


CONTINUATION = "  | "
"""What starts each line a record writes after its first (see ``LogLineFormatter``)."""
_IN_CONTINUATION = {c: escaped for c, escaped in _ESCAPED.items() if c != ord("\n")}


class LogLineFormatter(logging.Formatter):
    """Each record starts one line; every further line it writes starts with ``CONTINUATION``.

    A reader of the log (a person, grep, a shipper that starts a record at each line beginning
    with a timestamp) takes a line at column 0 for a record. Tracebacks span lines, and an
    exception message quotes outside text: a guest's name, a webhook body, a lock's name from
    its cloud. So does a message a library formatted before logging it. Written as they are,
    the line after a newline in such text could read as a record doorcode never wrote
    (``2026-01-01 10:00:00 INFO doorcode: code 1234 set``). A record's own line starts with
    its timestamp (uvicorn's with its level), never with a space; a continuation line always
    starts with ``CONTINUATION``: an indent, which multi-line log shippers take for a
    continuation, and a bar, which a person sees and a viewer that trims leading space keeps.

    In the message and in every continuation line, each unsafe character but the newline is
    written as its escape: another line break (a carriage return, U+2028) would get round the
    mark, and a terminal or bidi control would rewrite what is shown. A backslash stays as it
    is, unlike in an argument: this text already holds escapes that others wrote (a repr in a
    traceback, the arguments ``SecretRedaction`` escaped), which doubling would garble, and
    the mark does not depend on it.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging.Formatter's name)
        # The message alone: the rest of the line is the format's, uvicorn's colours included.
        record.message = record.message.translate(_IN_CONTINUATION)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        first, newline, rest = super().format(record).partition("\n")
        if not newline:
            return first
        rest = rest.translate(_IN_CONTINUATION).replace("\n", "\n" + CONTINUATION)
        return first + newline + CONTINUATION + rest


class _UvicornServerFormatter(LogLineFormatter, DefaultFormatter):
    """Uvicorn's own messages, their further lines marked as doorcode's are."""


class _UvicornAccessFormatter(LogLineFormatter, AccessFormatter):
    """Uvicorn's access lines, marked as doorcode's are should one ever span lines."""


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """Log to ``stream`` (stderr) at ``level`` through ``SecretRedaction``; quiet URL printers.

    Returns the handler, so a test can remove it again.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretRedaction())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    # One handler per process: configuring again (a second command in one process, as the
    # tests' CLI runner does) replaces it, so nothing writes to a stream that has been closed.
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's own logging set-up, with ``SecretRedaction`` on each of its handlers and
    its formatters marking continuation lines as ``LogLineFormatter`` does."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = _UvicornServerFormatter
    config["formatters"]["access"]["()"] = _UvicornAccessFormatter
    config["filters"] = {"redact": {"()": SecretRedaction}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config
