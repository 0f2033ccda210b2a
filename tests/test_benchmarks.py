"""Every benchmark runs in its quick mode here, so `make bench` cannot break unnoticed.

Each ``bench/*.py --quick`` runs the same code as the full benchmark at tiny sizes and stops
with an error when one of its own checks fails (rows lost, a sweep that changes a synced
lock, a code that reads back wrong). These tests assert that it finished and printed its
figures; they assert nothing about speed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LIMIT = 90  # seconds; each quick run takes a few on an idle machine
NUMBER = r"[\d,.]+"

# What each benchmark must print: one pattern per figure or check, each found in the output.
FIGURES: dict[str, list[str]] = {
    "booking_to_door.py": [
        rf"booking -> code on the lock\s+p50\s+{NUMBER} ms\s+p99\s+{NUMBER} ms",
        rf"booking -> guest message queued\s+p50\s+{NUMBER} ms\s+p99\s+{NUMBER} ms",
        rf"cancellation -> code gone\s+p50\s+{NUMBER} ms\s+p99\s+{NUMBER} ms",
        r"check: (\d+) of \1 codes on, \1 off, \1 messages queued",
    ],
    "memory.py": [
        rf"serve, cold sweep:\s+{NUMBER} s\s+peak RSS\s+{NUMBER} MiB",
        rf"serve, warm sweep:\s+{NUMBER} s\s+peak RSS\s+{NUMBER} MiB",
        rf"warm sweep heap \(tracemalloc peak\): \d+ locks\s+{NUMBER} MiB",
    ],
    "workers.py": [  # PostgreSQL may be missing where make test runs: then it says so
        rf"1 worker\(s\):\s+{NUMBER} lock passes/s|workers: skipped",
        r"check: 0 times two passes on one lock at once|workers: skipped",
    ],
    "codes.py": [rf"overlapping grants:\s+{NUMBER} grants/s", rf"back-to-back .*{NUMBER} grants/s"],
    "ingest.py": [
        rf"ceiling: bare ASGI app, concurrency 16\s+{NUMBER} req/s",
        rf"new bookings, concurrency 1\s+{NUMBER} req/s\s+p50\s+{NUMBER} ms\s+p99",
        rf"new bookings, concurrency 16\s+{NUMBER} req/s.*\d+% of {NUMBER}",
        rf"duplicates, concurrency \d+\s+{NUMBER} req/s",
        rf"{NUMBER} stored, concurrency 16\s+{NUMBER} req/s.*\d+% of {NUMBER}",
        r"doorcode on PostgreSQL, `doorcode serve --workers \d+`|PostgreSQL: skipped",
        r"check: (\d+) reservations and \1 grants for \1 bookings",
        rf"first sync through SQLite \(\d+ current\)\s+{NUMBER} ms",
    ],
    "offline.py": [rf"Keypad.enter with issued codes\s+{NUMBER} /s", r"check: \d+ issued codes"],
    "reconcile.py": [
        rf"cold sweep:\s+{NUMBER} s",
        rf"warm sweep:\s+{NUMBER} s\s+\(0 changes",
        r"check:\s+(\d+) reservations, \1 grants, \1 lock_codes stored",
        r"one change: .* touches 1 lock",
        rf"warm sweep on PostgreSQL:\s+{NUMBER} s = {NUMBER} x SQLite's|postgres:\s+skipped",
    ],
}


# Benchmarks whose quick run is checked by a test of their own, beside what they measure.
COVERED_ELSEWHERE = {
    "cli_startup.py": ROOT / "tests" / "test_bench_cli_startup.py",
    "device_ops.py": ROOT / "tests" / "locks" / "test_device_ops_bench.py",
    "radio.py": ROOT / "tests" / "locks" / "test_radio_bench.py",
}


def test_every_benchmark_is_run_quick_here_or_by_a_test_of_its_own() -> None:
    assert sorted(path.name for path in BENCH.glob("*.py")) == sorted(
        [*FIGURES, *COVERED_ELSEWHERE]
    )
    assert all(test.exists() for test in COVERED_ELSEWHERE.values())


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(FIGURES))
def test_a_benchmark_runs_quick_and_prints_its_figures(script: str) -> None:
    output = run_quick(BENCH / script)
    missing = [pattern for pattern in FIGURES[script] if not re.search(pattern, output)]
    assert not missing, f"{script} --quick did not print {missing}; it printed:\n{output}"


def run_quick(script: Path) -> str:
    """Run ``script --quick`` in a process group of its own; its output, or a failure that
    shows it. The group is killed on timeout: ingest's server is a grandchild."""
    with subprocess.Popen(
        [sys.executable, str(script), "--quick"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail(f"{script.name} --quick took over {LIMIT} s; it printed:\n{output}")
    assert process.returncode == 0, f"{script.name} --quick failed:\n{output}"
    return output
