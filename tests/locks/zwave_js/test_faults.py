"""Every failure the Z-Wave JS client can report leaves the adapter as a ``ProviderError`` of
the right kind, without the PIN: played back over a recorded server (``recorded.py``)."""

from __future__ import annotations

import asyncio

import pytest

from doorcode.locks.base import NewCode
from doorcode.locks.errors import (
    CodeRefused,
    LockOffline,
    NoSpaceLeft,
    ProviderError,
    ProviderUnavailable,
    UnknownDevice,
)
from tests.locks.zwave_js.recorded import (
    COMMAND_FAULTS,
    CONNECT_FAULTS,
    DEVICE,
    answering,
    provider_over,
    raising,
)

PIN = "482913"
OPERATIONS = {
    "list_devices": lambda provider: provider.list_devices(),
    "list_codes": lambda provider: provider.list_codes(DEVICE),
    "create_code": lambda provider: provider.create_code(DEVICE, NewCode("x", PIN, slot=3)),
    "delete_code": lambda provider: provider.delete_code(DEVICE, "3"),
    "health": lambda provider: provider.health(DEVICE),
    "access_events": lambda provider: provider.access_events(DEVICE, None),
}


def outcome(provider, operation):
    try:
        asyncio.run(OPERATIONS[operation](provider))
    except ProviderError as err:
        return err
    finally:
        provider.link.close()
    return None


@pytest.mark.parametrize("fault", sorted(COMMAND_FAULTS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_failed_command_is_a_provider_error_without_the_pin(clock, fault, operation):
    error = outcome(provider_over(COMMAND_FAULTS[fault], clock), operation)
    assert PIN not in str(error or "")


@pytest.mark.parametrize("fault", sorted(CONNECT_FAULTS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_server_that_cannot_be_reached_is_unavailable(clock, fault, operation):
    provider = provider_over(answering(None), clock, on_connect=CONNECT_FAULTS[fault])
    assert isinstance(outcome(provider, operation), ProviderUnavailable)


def test_listing_a_recorded_lock_needs_no_command(clock):
    provider = provider_over(raising(AssertionError("no command expected")), clock)
    try:
        devices = asyncio.run(provider.list_devices())
        assert [(d.external_id, d.capabilities.max_codes) for d in devices] == [(DEVICE, 4)]
        assert asyncio.run(provider.list_codes(DEVICE)) == []
    finally:
        provider.link.close()


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("node did not acknowledge (204)", LockOffline),
        ("controller timeout (200)", LockOffline),
        ("argument invalid (322)", NoSpaceLeft),
        ("node not found", UnknownDevice),
        ("a refusal (supervision fail)", CodeRefused),
        ("closed mid-command", ProviderUnavailable),
        ("an answer of another shape", ProviderUnavailable),
    ],
)
def test_each_failure_of_a_write_says_what_happened(clock, fault, kind):
    error = outcome(provider_over(COMMAND_FAULTS[fault], clock), "create_code")
    assert type(error) is kind
