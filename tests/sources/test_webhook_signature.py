"""Signatures: doorcode's HMAC scheme, Svix's (Guesty) and basic auth (Hostaway)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from doorcode.sources.errors import SignatureRejected
from doorcode.sources.webhook_signature import (
    sign,
    signed_headers,
    verify_basic_auth,
    verify_doorcode,
    verify_svix,
)
from tests.sources.conftest import basic_auth, svix_headers

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "dcwh_test-secret"
BODY = b'{"version": 1}'


def lowered(headers):
    return {name.lower(): value for name, value in headers.items()}


def reason_of(call):
    with pytest.raises(SignatureRejected) as caught:
        call()
    return caught.value.reason


def test_a_signed_body_verifies_and_names_its_delivery():
    headers = lowered(signed_headers(SECRET, BODY, NOW, "d-1"))
    proof = verify_doorcode(SECRET, headers, BODY, NOW)
    assert proof.delivery_id == "d-1"
    assert proof.signed_at == NOW
    assert proof.replay_key == f"d-1@{int(NOW.timestamp())}"


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1796029200." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1796029200, BODY) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: (h, b + b" "), "invalid_signature"),
        (
            lambda h, b: ({**h, "x-doorcode-signature": "sha256=" + "0" * 64}, b),
            "invalid_signature",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "x-doorcode-signature"}, b),
            "missing_signature",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "x-doorcode-delivery"}, b),
            "missing_signature",
        ),
        (lambda h, b: ({**h, "x-doorcode-timestamp": "yesterday"}, b), "invalid_timestamp"),
        (lambda h, b: ({**h, "x-doorcode-timestamp": "9" * 40}, b), "invalid_timestamp"),
    ],
)
def test_tampered_or_incomplete_requests_are_refused(tamper, reason):
    headers, body = tamper(lowered(signed_headers(SECRET, BODY, NOW, "d-1")), BODY)
    assert reason_of(lambda: verify_doorcode(SECRET, headers, body, NOW)) == reason


def test_another_sources_secret_does_not_verify():
    headers = lowered(signed_headers("dcwh_other", BODY, NOW, "d-1"))
    assert reason_of(lambda: verify_doorcode(SECRET, headers, BODY, NOW)) == "invalid_signature"


@pytest.mark.parametrize(
    "skew", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)]
)
def test_signatures_more_than_five_minutes_away_are_refused(skew):
    headers = lowered(signed_headers(SECRET, BODY, NOW + skew, "d-1"))
    reason = reason_of(lambda: verify_doorcode(SECRET, headers, BODY, NOW))
    assert reason == "timestamp_out_of_window"


@pytest.mark.parametrize("skew", [timedelta(minutes=5), -timedelta(minutes=5), timedelta(0)])
def test_signatures_within_five_minutes_pass(skew):
    headers = lowered(signed_headers(SECRET, BODY, NOW + skew, "d-1"))
    assert verify_doorcode(SECRET, headers, BODY, NOW).delivery_id == "d-1"


SVIX_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789").decode()


def test_svix_signatures_verify_with_the_decoded_secret():
    headers = svix_headers(SVIX_SECRET, BODY, NOW, "msg_1")
    proof = verify_svix(SVIX_SECRET, headers, BODY, NOW)
    assert proof.replay_key == f"msg_1@{int(NOW.timestamp())}"


def test_svix_accepts_any_matching_signature_during_a_secret_rotation():
    headers = svix_headers(SVIX_SECRET, BODY, NOW, "msg_1")
    headers["svix-signature"] = "v1,bm90LXRoaXMtb25l " + headers["svix-signature"]
    assert verify_svix(SVIX_SECRET, headers, BODY, NOW).delivery_id == "msg_1"


def test_svix_refuses_a_changed_body_and_an_old_timestamp():
    headers = svix_headers(SVIX_SECRET, BODY, NOW, "msg_1")
    assert reason_of(lambda: verify_svix(SVIX_SECRET, headers, BODY + b"x", NOW)) == (
        "invalid_signature"
    )
    late = NOW + timedelta(minutes=6)
    assert reason_of(lambda: verify_svix(SVIX_SECRET, headers, BODY, late)) == (
        "timestamp_out_of_window"
    )


def test_basic_auth_needs_the_source_id_and_its_secret():
    good = lowered(basic_auth("src_1", "pw"))
    assert verify_basic_auth("src_1", "pw", good).replay_key is None
    for headers, reason in [
        ({}, "missing_credentials"),
        (lowered(basic_auth("src_1", "wrong")), "invalid_credentials"),
        (lowered(basic_auth("src_2", "pw")), "invalid_credentials"),
        ({"authorization": "Basic %%%"}, "invalid_credentials"),
        ({"authorization": "Bearer pw"}, "missing_credentials"),
    ]:
        assert reason_of(lambda h=headers: verify_basic_auth("src_1", "pw", h)) == reason


@pytest.mark.parametrize("junk", ["sha256=é", "sha256=" + "\u00ff" * 64, "\u0100"])
def test_a_signature_with_characters_beyond_ascii_is_refused_not_crashed_on(junk):
    headers = {**lowered(signed_headers(SECRET, BODY, NOW, "d-1")), "x-doorcode-signature": junk}
    assert reason_of(lambda: verify_doorcode(SECRET, headers, BODY, NOW)) == "invalid_signature"
