"""How long a `doorcode` command takes to start, and which imports it pays for.

Prints, for `doorcode --version` and three listings (`org list`, `property list`,
`grant list`) in a fresh installation with one organisation: the median, minimum and maximum
wall time of N runs of the real console script (a new Python process each time, as an
operator's shell starts it), and the median CPU time (user + system) of those runs, which
other processes' load inflates far less than the wall time. Then the slowest imports of
`property list`, as `python -X importtime` reports them (cumulative microseconds). The target
is under 0.5 s for `--version` and a listing on a quiet 2-core machine; the figures depend on
the machine's load, so they are printed, never asserted. The header says whether doorcode's own
modules are compiled (`make` compiles them at install; without that, and with
PYTHONDONTWRITEBYTECODE set, every run compiles them again, which an installed package never
does).

    python bench/cli_startup.py            # 7 runs per command
    python bench/cli_startup.py --quick    # 1 run each: that it works, not how fast
"""

from __future__ import annotations

import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOORCODE = Path(sys.executable).with_name("doorcode")
COMMANDS = (["--version"], ["org", "list"], ["property", "list"], ["grant", "list"])


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `doorcode` process, start to exit; a failure stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(DOORCODE), *args], env=env, check=True, capture_output=True)  # noqa: S603
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def slowest_imports(env: dict[str, str], count: int = 12) -> list[tuple[int, str]]:
    """The imports `doorcode property list` pays for, largest cumulative time first."""
    found = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", str(DOORCODE), "property", "list"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    rows = []
    for line in found.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def _compiled() -> bool:
    """Whether doorcode's modules have up-to-date bytecode beside them."""
    import doorcode.cli.main as entry

    cached = Path(importlib.util.cache_from_source(entry.__file__))
    return cached.exists() and cached.stat().st_mtime >= Path(entry.__file__).stat().st_mtime


def main() -> None:
    """Time each command in a throw-away installation."""
    runs = 1 if "--quick" in sys.argv else 7
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DOORCODE_DATA_DIR": str(Path(folder) / "var"),
            "XDG_CONFIG_HOME": str(Path(folder) / "config"),
        }
        env.pop("DOORCODE_DATABASE_URL", None)
        env.pop("DOORCODE_ORGANISATION", None)
        for setup in (["init"], ["org", "add", "bench"]):
            subprocess.run([str(DOORCODE), *setup], env=env, check=True, capture_output=True)  # noqa: S603
        bytecode = "compiled" if _compiled() else "compiled at each run"
        print(
            f"doorcode start-up, {runs} run(s) each (seconds; load {os.getloadavg()[0]:.1f};"
            f" doorcode's modules {bytecode})"
        )
        for args in COMMANDS:
            walls, cpus = zip(*(run(args, env) for _ in range(runs)), strict=True)
            print(
                f"  doorcode {' '.join(args):<16} median {statistics.median(walls):.3f}"
                f"  min {min(walls):.3f}  max {max(walls):.3f}"
                f"  cpu {statistics.median(cpus):.3f}"
            )
        print("slowest imports of `doorcode property list` (cumulative µs):")
        for micros, name in slowest_imports(env):
            print(f"  {micros:>9}  {name}")


if __name__ == "__main__":
    main()
