"""The real zwave-js driver with simulated locks as a test peer, started once per session.

``tests/peers/zwave_peer.mjs`` opens the driver on a simulated controller, includes one
simulated lock node per slot count it is given (User Code, Door Lock, Notification, Battery,
Supervision), serves it with ``@zwave-js/server`` on 127.0.0.1 and adds a control endpoint for
the behaviours the default lock model lacks (duplicate refusal, masked reads, keypad openings,
a dead node, a write held in flight). ``make test`` installs the packages (``npm ci`` in
``tests/peers``); without node or the packages, tests that need the peer skip and say why.
"""

from __future__ import annotations

import json
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

PEERS = Path(__file__).parent
READY_WITHIN = 90.0
"""The driver interviews every node before it serves: 8 s idle, 10–15 s on a loaded machine."""


@dataclass
class ZwavePeer:
    """The running server: its websocket URL, its control endpoint, its lock node ids."""

    url: str
    control_url: str
    nodes: list[int]
    started_in: float
    """Seconds from spawning node to the ready line (reported, never asserted)."""

    def control(self, route: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx.post(self.control_url + route, json=body or {}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def reset(self) -> None:
        """Every lock empty, alive and plain; the driver's cache shows every slot empty."""
        self.control("/reset")

    def slots(self, node: int) -> dict[int, str]:
        """What the lock really holds: slot -> PIN."""
        held = self.control("/slots", {"node": node})
        return {int(slot): entry["code"] for slot, entry in held.items()}

    def frames(self, node: int) -> dict[str, int]:
        """Commands the node received from the controller since the last reset, by name."""
        counts: dict[str, dict[str, int]] = self.control("/frames")
        return counts.get(str(node), {})

    def reset_frames(self) -> None:
        self.control("/reset_frames")

    def keypad(self, node: int, slot: int, *, unlock: bool = True) -> None:
        self.control("/keypad", {"node": node, "slot": slot, "unlock": unlock})

    def put(self, node: int, slot: int, code: str) -> None:
        """A code set through the driver, as a pass that crashed before recording leaves it."""
        self.control("/put", {"node": node, "slot": slot, "code": code})

    def quirks(self, node: int, **quirks: Any) -> None:
        self.control("/quirks", {"node": node, **quirks})


def start_zwave_peer(slot_counts: tuple[int, ...] = (30, 30, 30)) -> Iterator[ZwavePeer]:
    """Start the server with one lock per slot count, wait (bounded), stop it afterwards."""
    node = shutil.which("node")
    if node is None or not (PEERS / "node_modules" / "@zwave-js" / "server").exists():
        pytest.skip("zwave-js is not installed: run `make peers` (npm ci in tests/peers)")
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            [node, str(PEERS / "zwave_peer.mjs"), ",".join(map(str, slot_counts))],
            cwd=PEERS,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield _wait_ready(process, started, errors)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_ready(process: subprocess.Popen[str], started: float, errors: IO[str]) -> ZwavePeer:
    assert process.stdout is not None
    deadline = started + READY_WITHIN
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors.seek(0)
            said = errors.read()[-2000:]
            raise RuntimeError(f"the Z-Wave peer exited with {process.returncode}:\n{said}")
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line.startswith("{"):
                ready = json.loads(line)
                return ZwavePeer(
                    ready["url"], ready["control_url"], ready["nodes"], time.monotonic() - started
                )
    raise RuntimeError(f"the Z-Wave peer was not ready within {READY_WITHIN} s")
