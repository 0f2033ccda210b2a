"""Every provider error has a retry policy; backoff grows, jitters, caps and honours Retry-After."""

import inspect
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from doorcode.locks import errors
from doorcode.locks.errors import LockOffline, ProviderError, ProviderUnavailable, RateLimited
from doorcode.sync.retry import POLICIES, Scope, next_attempt_at, policy_for

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def every_provider_error():
    return [
        kind
        for _, kind in inspect.getmembers(errors, inspect.isclass)
        if issubclass(kind, ProviderError)
    ]


@pytest.mark.parametrize("kind", every_provider_error())
def test_every_provider_error_has_its_own_policy(kind):
    assert kind in POLICIES


def test_a_lock_wide_failure_stops_the_lock_and_a_code_failure_only_the_code():
    assert policy_for(LockOffline("x")).scope is Scope.LOCK
    assert policy_for(ProviderUnavailable("x")).scope is Scope.CODE


def test_backoff_doubles_with_jitter_up_to_its_cap():
    rng = Random(3)
    waits = [next_attempt_at(ProviderUnavailable("x"), n, NOW, rng) - NOW for n in range(1, 12)]
    first = POLICIES[ProviderUnavailable].first
    assert first / 2 <= waits[0] <= first
    assert all(wait <= POLICIES[ProviderUnavailable].cap for wait in waits)
    assert waits[5] > waits[0] * 8


def test_retry_after_is_always_honoured():
    error = RateLimited("slow down", retry_after=timedelta(minutes=7))
    assert next_attempt_at(error, 1, NOW, Random(1)) - NOW >= timedelta(minutes=7)
