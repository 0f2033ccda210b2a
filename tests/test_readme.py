"""The README's commands run as written, in order, from `make demo`'s world.

The shell blocks of "Two commands" (the second terminal), "Using it", "Offline codes" and
"Staff codes" are read from README.md itself. Placeholders (RESERVATION_ID, GRANT_ID, CODE,
SEQUENCE, BLOCK_ID, SCHEDULE_ID)
take what the earlier commands printed, as a reader would copy them. The README's dates are
shifted onto the test's clock, keeping their spacing; a command whose comment says "exit 1"
must exit with 1, every other with 0.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from doorcode import bootstrap as bootstrap_module
from doorcode.cli.main import app
from doorcode.config import Settings
from doorcode.demo_world import ensure_demo_world
from tests.conftest import TEST_KEY

README = Path(__file__).parents[1] / "README.md"
SECTIONS = (
    "## Two commands",
    "## Using it",
    "## Offline codes",
    "## Staff codes: schedules and turnovers",
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLACEHOLDER = re.compile(r"\b(RESERVATION_ID|GRANT_ID|CODE|SEQUENCE|BLOCK_ID|SCHEDULE_ID)\b")
# What a reader copies from a command's output into the later ones.
CAPTURES = {
    "RESERVATION_ID": re.compile(r"reservation (res_\w+)"),
    "GRANT_ID": re.compile(r"\b(grt_\w+)"),
    "CODE": re.compile(r"^code:\s+(\d+)", re.MULTILINE),
    "SEQUENCE": re.compile(r"\(# is Enter\): (\*?[0-9#]+)"),
    "BLOCK_ID": re.compile(r"^block: (blk_\w+)", re.MULTILINE),
    "SCHEDULE_ID": re.compile(r"schedule (sch_\w+)"),
}


@dataclass(frozen=True)
class Step:
    """One README line: the arguments after ``doorcode``, and the exit code it promises."""

    line: str
    args: list[str]
    exit_code: int


def readme_steps() -> list[Step]:
    """Every ``doorcode`` line of the chosen sections' shell blocks, in README order."""
    text = README.read_text()
    steps = []
    for title in SECTIONS:
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL):
            for line in block.splitlines():
                words = shlex.split(line, comments=True)
                if words and words[0].endswith("doorcode"):
                    exit_code = 1 if "exit 1" in line.split("#", 1)[-1] else 0
                    steps.append(Step(line, words[1:], exit_code))
    return steps


def shifted(args: list[str], shift: timedelta) -> list[str]:
    """The README's dates moved onto the test's clock."""

    def move(match: re.Match[str]) -> str:
        return (date.fromisoformat(match.group()) + shift).isoformat()

    return [DATE.sub(move, arg) for arg in args]


@pytest.fixture
def demo_install(tmp_path, monkeypatch, clock):
    """`make demo`'s world in a data folder of its own, every command on the test's clock."""
    for name in ("DATABASE_URL", "SECRET_KEY", "ORGANISATION"):
        monkeypatch.delenv(f"DOORCODE_{name}", raising=False)
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "a long and unusual passphrase")
    real_bootstrap = bootstrap_module.bootstrap
    monkeypatch.setattr(bootstrap_module, "bootstrap", partial(real_bootstrap, clock=clock))
    runtime = real_bootstrap(Settings(), clock=clock)
    ensure_demo_world(runtime)
    runtime.close()
    runner = CliRunner()
    # While `make demo` serves, its reconciler programs the locks; here one pass stands in.
    synced = runner.invoke(app, ["lock", "sync"])
    assert "Flat 1A door" in synced.output, synced.output
    return runner


def test_the_readme_commands_run_as_written_in_order(demo_install, clock):
    steps = readme_steps()
    assert len(steps) > 25, "the README lost its command blocks"
    first = min(date.fromisoformat(d) for step in steps for d in DATE.findall(" ".join(step.args)))
    # The README's first stay starts the day before the test's "today" in Lisbon: it is on.
    today = clock.now.astimezone(ZoneInfo("Europe/Lisbon")).date()
    shift = today - timedelta(days=1) - first
    copied: dict[str, str] = {}
    done = None
    for step in steps:
        args = [PLACEHOLDER.sub(lambda m: copied[m.group()], arg) for arg in step.args]
        result = demo_install.invoke(app, shifted(args, shift))
        assert result.exit_code == step.exit_code, f"{step.line}\n{result.output}"
        for name, pattern in CAPTURES.items():
            found = pattern.search(result.output)
            if found and (name != "GRANT_ID" or args[:2] == ["grant", "list"]):
                copied[name] = found.group(1)
        if args[:2] == ["keypad", "enter"] and step.exit_code == 0:
            assert result.output.startswith("OPEN"), f"{step.line}\n{result.output}"
        if args[:2] == ["offline", "block-done"]:
            done = copied.pop("BLOCK_ID")
        if args[:2] == ["offline", "blocks"] and done is not None:
            assert done not in result.output, "a block marked as typed is still listed"
