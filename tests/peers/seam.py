"""Seam's own fake (``@seamapi/fake-seam-connect``) as a test peer, started once per session.

``tests/peers/seam_fake.mjs`` starts the fake on 127.0.0.1 and a small control endpoint that
puts into the fake's store what its API cannot produce (devices with capabilities, offline
devices, code statuses, events, 429s). ``make test`` installs the package (``npm ci`` in
``tests/peers``); without node or the package, tests that need the peer are skipped with why.
"""

from __future__ import annotations

import json
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

PEERS = Path(__file__).parent
READY_WITHIN = 20.0


@dataclass
class SeamPeer:
    """The running fake: where its API and control endpoint are, and its API key."""

    api_url: str
    control_url: str
    api_key: str

    def control(self, route: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx.post(self.control_url + route, json=body or {}, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def add_device(self, device_id: str, name: str, **properties: Any) -> None:
        self.control("/device", {"device_id": device_id, "name": name, "properties": properties})

    def codes(self) -> list[dict[str, Any]]:
        """Every access code in the fake's store."""
        codes: list[dict[str, Any]] = self.control("/codes")
        return codes

    def confirm_all(self) -> None:
        """The devices report every code set (the fake leaves them ``unset`` forever)."""
        for code in self.codes():
            self.control(
                "/update_access_code", {"access_code_id": code["access_code_id"], "status": "set"}
            )

    def throttle(self, *routes: str, retry_after: int, times: int = 1) -> None:
        """The next ``times`` calls to ``routes`` answer 429 with ``Retry-After`` (seconds)."""
        body = {"routes": list(routes), "retry_after": retry_after, "times": times}
        self.control("/throttle", body)

    def reset(self) -> None:
        self.control("/reset")


def start_seam_peer() -> Iterator[SeamPeer]:
    """Start the fake, wait (bounded) for its ready line, stop it afterwards."""
    node = shutil.which("node")
    if node is None or not (PEERS / "node_modules" / "@seamapi" / "fake-seam-connect").exists():
        pytest.skip("Seam's fake is not installed: run `make peers` (npm ci in tests/peers)")
    process = subprocess.Popen(
        [node, str(PEERS / "seam_fake.mjs")],
        cwd=PEERS,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _wait_ready(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(process: subprocess.Popen[str]) -> SeamPeer:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_WITHIN
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Seam's fake exited with {process.returncode} before it was ready")
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line.strip():
                ready = json.loads(line)
                return SeamPeer(ready["api_url"], ready["control_url"], ready["api_key"])
    raise RuntimeError(f"Seam's fake was not ready within {READY_WITHIN} s")
