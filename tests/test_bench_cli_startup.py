"""The start-up benchmark runs (quick mode) and prints its figures; nothing here is timed."""

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[1] / "bench" / "cli_startup.py"


def test_the_cli_startup_benchmark_prints_a_figure_per_command(tmp_path):
    ran = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    for command in ("--version", "org list", "property list", "grant list"):
        assert f"doorcode {command}" in ran.stdout
    assert "slowest imports" in ran.stdout
    assert list(tmp_path.iterdir()) == []  # its installation was a throw-away one


def test_version_imports_neither_the_database_nor_the_web_framework():
    imported = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from doorcode.cli.main import app"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr
    for heavy in ("sqlalchemy", "fastapi", "alembic", "pydantic", "procrastinate", "rich"):
        assert f" {heavy}\n" not in imported, f"{heavy} loads before any command runs"


def test_a_listing_loads_no_lock_vendor_nor_the_parts_it_does_not_show(tmp_path):
    """`property list` pays for the database, not for httpx, the vendor clients, the virtual
    cloud, offline-code crypto or the access log: those made it take a second to start."""
    doorcode = Path(sys.executable).with_name("doorcode")
    env = {
        **os.environ,
        "DOORCODE_DATA_DIR": str(tmp_path / "var"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    env.pop("DOORCODE_DATABASE_URL", None)
    env.pop("DOORCODE_ORGANISATION", None)
    for setup in (["init"], ["org", "add", "quick"]):
        subprocess.run(
            [str(doorcode), *setup], env=env, check=True, capture_output=True, timeout=60
        )
    imported = subprocess.run(
        [sys.executable, "-X", "importtime", str(doorcode), "property", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in imported.splitlines()}
    for heavy in (
        "httpx",
        "doorcode.locks.virtual",
        "doorcode.locks.seam",
        "doorcode.domain.offline",
        "doorcode.services.access_events",
        "doorcode.services.reservations",
        "alembic",
        "fastapi",
        "sqlalchemy.dialects.postgresql",  # the models on SQLite need no PostgreSQL dialect
    ):
        assert heavy not in loaded, f"`doorcode property list` imports {heavy}"
