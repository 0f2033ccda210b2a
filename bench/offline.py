"""Offline codes: how fast the service issues and a lock checks them, in pure Python on one core.

Run with ``.venv/bin/python bench/offline.py``. Prints figures only; asserts nothing about time,
but checks that every issued code reads back as the window it was issued for. The last table
is what a lock's microcontroller pays: AES-256 block operations per code. ``--quick`` times a
few hundred operations per figure, as ``make test`` does so the benchmark cannot rot.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from doorcode.domain.offline import (
    FF1,
    KeyGroup,
    Keypad,
    KeypadSettings,
    OfflineCodec,
    issue_offline_code,
)
from doorcode.domain.windows import TimeWindow

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
GROUP = KeyGroup(bytes(range(32)), UUID("6f1c2a3e-0b7d-4c59-9e8a-1d2f3a4b5c6d"), EPOCH)
MOMENT = EPOCH + timedelta(days=2000, hours=10, minutes=30)


@dataclass(frozen=True)
class Scale:
    """How many operations each figure times, and how many codes count AES blocks."""

    runs: int
    aes_codes: int


FULL = Scale(runs=100_000, aes_codes=1_000)
QUICK = Scale(runs=300, aes_codes=50)


def per_second(label: str, work: Callable[[int], None], count: int) -> None:
    """Time ``work(count)`` after a short warm-up and print operations per second."""
    work(min(1_000, count))
    started = time.perf_counter()
    work(count)
    elapsed = time.perf_counter() - started
    print(f"  {label:<52} {count / elapsed:>10,.0f} /s   {elapsed / count * 1e6:6.2f} µs each")


def random_windows(count: int, rng: random.Random) -> list[TimeWindow]:
    windows = []
    for _ in range(count):
        start = EPOCH + timedelta(minutes=rng.randrange(5_000 * 24 * 60))
        windows.append(TimeWindow(start, start + timedelta(minutes=rng.randrange(1, 60 * 24 * 40))))
    return windows


def random_codes(count: int, digits: int, rng: random.Random) -> list[str]:
    return [f"{rng.randrange(10**digits):0{digits}d}" for _ in range(count)]


def bench_issuing(rng: random.Random, runs: int) -> None:
    print("Issuing (service side)")
    windows = random_windows(runs, rng)
    codec = OfflineCodec(GROUP)
    check_read_back(codec, windows[:1_000])
    per_second("OfflineCodec.issue, one codec reused", lambda n: _issue(codec, windows[:n]), runs)
    per_second(
        "issue_offline_code, a fresh codec per call",
        lambda n: _issue_fresh(windows[:n]),
        runs,
    )


def check_read_back(codec: OfflineCodec, windows: list[TimeWindow]) -> None:
    """Stop unless each code reads back as the window it opens, and that covers the request."""
    for window in windows:
        issued = codec.issue(window)
        assert codec.read(issued.code) == issued.issued, "an issued code reads back wrong"
        assert issued.issued.starts_at <= window.starts_at, "an issued window starts late"
        assert issued.issued.ends_at >= window.ends_at, "an issued window ends early"
    print(f"  check: {len(windows):,} issued codes read back as their windows")


def _issue(codec: OfflineCodec, windows: list[TimeWindow]) -> None:
    for window in windows:
        codec.issue(window)


def _issue_fresh(windows: list[TimeWindow]) -> None:
    for window in windows:
        issue_offline_code(GROUP, window)


def bench_verifying(rng: random.Random, runs: int) -> None:
    print("Verifying (lock side), random codes at one moment")
    codes = random_codes(runs, 10, rng)
    codec = OfflineCodec(GROUP)
    per_second(
        "OfflineCodec.index_of (decrypt, compare with P)",
        lambda n: _decode(codec, codes[:n]),
        runs,
    )
    unlimited = KeypadSettings(lockout_after=10**9)
    keypad = Keypad(GROUP, "902114", unlimited)
    per_second(
        "Keypad.enter (whole lock logic, lockout off)", lambda n: _enter(keypad, codes[:n]), runs
    )
    issued = [codec.issue(window).code for window in random_windows(runs, rng)]
    per_second("Keypad.enter with issued codes", lambda n: _enter(keypad, issued[:n]), runs)


def _decode(codec: OfflineCodec, codes: list[str]) -> None:
    for code in codes:
        codec.index_of(code)


def _enter(keypad: Keypad, codes: list[str]) -> None:
    for code in codes:
        keypad.enter(code, MOMENT)


def bench_ff1(rng: random.Random, runs: int) -> None:
    print("FF1-AES-256, radix 10, ten digits")
    cipher = FF1(GROUP.key)
    values = [rng.randrange(10**10) for _ in range(runs)]
    per_second("encrypt_number", lambda n: _ff1(cipher.encrypt_number, values[:n]), runs)
    per_second("decrypt_number", lambda n: _ff1(cipher.decrypt_number, values[:n]), runs)


def _ff1(operation: Callable[[int, int, bytes], int], values: list[int]) -> None:
    tweak = GROUP.tweak
    for value in values:
        operation(value, 10, tweak)


class CountingAes:
    """Stands in for FF1's AES block function and counts its calls."""

    def __init__(self, aes: Callable[[bytes], bytes]) -> None:
        self.aes = aes
        self.calls = 0

    def __call__(self, block: bytes) -> bytes:
        self.calls += 1
        return self.aes(block)


def bench_aes_blocks(rng: random.Random, codes: int) -> None:
    print("AES-256 block operations (what a lock's microcontroller pays)")
    for digits in (8, 10, 12):
        group = KeyGroup(GROUP.key, GROUP.group_id, EPOCH, digits)
        codec = OfflineCodec(group)
        # A benchmark may reach inside: count the AES calls the codec makes.
        counter = CountingAes(codec._cipher._aes)
        codec._cipher._aes = counter
        codec.index_of(random_codes(1, digits, rng)[0])
        once = counter.calls - 10
        counter.calls = 0
        for code in random_codes(codes, digits, rng):
            codec.index_of(code)
        print(
            f"  {digits:>2} digits: {counter.calls / codes:.0f} per verification"
            f" (+{once} once per key, at provisioning)"
        )


def main(scale: Scale) -> None:
    rng, runs = random.Random(2026), scale.runs
    print(f"doorcode offline codes, pure Python, one core, {runs:,} operations per figure\n")
    bench_issuing(rng, runs)
    bench_verifying(rng, runs)
    bench_ff1(rng, runs)
    bench_aes_blocks(rng, scale.aes_codes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred operations a figure")
    main(QUICK if parser.parse_args().quick else FULL)
