"""Fuzzing what reads a webhook: whatever arrives, the answer is one of our refusals, never a crash.

The webhook decoder (generic, Hostaway, Guesty), redaction and the three proofs get random
JSON, documented payloads with any field replaced by any JSON value, and raw bytes. Examples
are few and derandomized, so the suite stays fast and never turns red by luck; the shapes
were chosen from the crashes found by hand (numbers where text goes, lists where a key goes,
NUL characters, deep nesting, non-ASCII digits).
"""

import copy
import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorcode.sources.deliveries import read_payload
from doorcode.sources.errors import NotAReservation, PayloadRejected, SignatureRejected
from doorcode.sources.redaction import redact_body, redact_headers
from doorcode.sources.webhook_payload import ReservationPayloadV1
from doorcode.sources.webhook_signature import verify_basic_auth, verify_doorcode, verify_svix
from doorcode.sources.webhook_sources import SourceKind
from tests.sources.conftest import booking, fixture_json

FUZZ = settings(
    max_examples=60,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["²", "\x00", "10:00+05:00", "0001-01-01", "9999-12-31", "reservation.new", "new", ""]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
DOCUMENTS = {
    SourceKind.GENERIC: booking(),
    SourceKind.HOSTAWAY: fixture_json("hostaway/reservation_created.json"),
    SourceKind.GUESTY: fixture_json("guesty/reservation_new.json"),
}


def paths(document, prefix=()):
    """Every key path in ``document``, so a mutation can land anywhere in it."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(paths(value, (*prefix, key)))
    return found


def replaced(document, path, value):
    changed = copy.deepcopy(document)
    if not path:
        return value
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def decodes_or_refuses(kind: SourceKind, body: bytes) -> None:
    """Read ``body``; the only exceptions allowed are our refusals, with a reason."""
    try:
        assert isinstance(read_payload(kind, body), ReservationPayloadV1)
    except NotAReservation:
        return
    except PayloadRejected as refused:
        reason = refused.reason
        assert reason


@settings(FUZZ, max_examples=300)
@given(kind=st.sampled_from(list(SourceKind)), data=st.data(), value=JSON)
def test_a_documented_payload_with_any_field_replaced_is_read_or_refused(kind, data, value):
    document = DOCUMENTS[kind]
    path = data.draw(st.sampled_from(paths(document)))
    decodes_or_refuses(kind, json.dumps(replaced(document, path, value)).encode())


@FUZZ
@given(kind=st.sampled_from(list(SourceKind)), document=JSON)
def test_any_json_is_read_or_refused(kind, document):
    decodes_or_refuses(kind, json.dumps(document).encode())


@FUZZ
@given(kind=st.sampled_from(list(SourceKind)), body=st.binary(max_size=64))
def test_any_bytes_are_read_or_refused_and_redaction_never_fails(kind, body):
    decodes_or_refuses(kind, body)
    assert isinstance(redact_body(body), bytes)


@FUZZ
@given(document=JSON, depth=st.integers(min_value=0, max_value=3000))
def test_redaction_survives_any_document_at_any_depth(document, depth):
    body = b"[" * depth + json.dumps(document).encode() + b"]" * depth
    assert isinstance(redact_body(body), bytes)


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(
            HEADER_NAMES := [
                "x-doorcode-timestamp",
                "x-doorcode-signature",
                "x-doorcode-delivery",
                "svix-id",
                "svix-timestamp",
                "svix-signature",
                "authorization",
            ]
        ),
        TEXT | st.sampled_from(["999999999999", "1796464800", "Basic ²", "v1,abc"]),
    )
)
def test_every_proof_refuses_junk_headers_with_a_reason(headers):
    for verify in (
        lambda: verify_doorcode("secret", headers, b"{}", NOW),
        lambda: verify_svix("whsec_c2VjcmV0", headers, b"{}", NOW),
        lambda: verify_basic_auth("src_1", "secret", headers),
    ):
        try:
            verify()
        except SignatureRejected as refused:
            reason = refused.reason
            assert reason
    assert set(redact_headers(headers)) == set(headers)
