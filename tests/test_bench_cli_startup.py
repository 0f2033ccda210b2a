"""The start-up benchmark runs (quick mode) and prints its figures; nothing here is timed."""

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
