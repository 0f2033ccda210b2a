"""`make demo` starts a real server with the demo world, reachable over HTTP."""

import json
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from doorcode.sources.webhook_signature import signed_headers

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DOORCODE_DATA_DIR": str(tmp_path),
        "DOORCODE_PORT": str(port),
        "DOORCODE_HOST": "127.0.0.1",
    }
    env.pop("DOORCODE_DATABASE_URL", None)
    env.pop("DOORCODE_SECRET_KEY", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, (tmp_path / "demo-api-key.txt").read_text().strip(), tmp_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("the demo server did not come up within 120 s")


@pytest.mark.slow
def test_make_demo_serves_the_demo_world(demo_server):
    base, key, _data_dir = demo_server
    headers = {"Authorization": f"Bearer {key}"}
    properties = httpx.get(f"{base}/api/v1/properties", headers=headers).json()
    assert {p["name"] for p in properties} == {"Flat 1A", "Flat 2B", "Pine Cabin", "Villa Sol"}
    reservations = httpx.get(f"{base}/api/v1/reservations", headers=headers).json()
    assert len(reservations) == 13
    assert sum(r["status"] == "pending" for r in reservations) == 1
    [cleaner] = httpx.get(f"{base}/api/v1/schedules", headers=headers).json()
    assert (cleaner["holder"], cleaner["summary"]) == ("Marta (cleaner)", "every Tue, 10:00-14:00")
    assert cleaner["properties"] == ["Flat 1A", "Flat 2B"]
    staff = httpx.get(f"{base}/api/v1/grants?kind=staff", headers=headers).json()
    turnovers = {grant["id"] for grant in staff if grant["holder"] == "Ana (villa cleaner)"}
    assert turnovers  # a code from each check-out at the villa to the next check-in
    assert {grant["id"] for grant in staff} - turnovers == set(cleaner["grant_ids"])


@pytest.mark.slow
def test_the_current_guest_of_flat_1a_opens_its_virtual_door(demo_server):
    base, key, data_dir = demo_server
    headers = {"Authorization": f"Bearer {key}"}
    [door] = [
        lock
        for lock in httpx.get(f"{base}/api/v1/locks", headers=headers).json()
        if lock["name"] == "Flat 1A door"
    ]
    guest = wait_for_a_set_code(f"{base}/api/v1/locks/{door['id']}/codes", headers)
    code = httpx.get(f"{base}/api/v1/grants/{guest}/code", headers=headers).json()["code"]
    env = {**os.environ, "DOORCODE_DATA_DIR": str(data_dir)}
    env.pop("DOORCODE_DATABASE_URL", None)
    env.pop("DOORCODE_SECRET_KEY", None)
    doorcode = str(ROOT / ".venv" / "bin" / "doorcode")
    entered = subprocess.run(
        [doorcode, "keypad", "enter", "Flat 1A door", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert entered.returncode == 0, entered.stdout + entered.stderr
    assert entered.stdout.startswith(f"OPEN ({guest})")
    wrong = "1" * len(code) if code != "1" * len(code) else "2" * len(code)
    refused = subprocess.run(
        [doorcode, "keypad", "enter", "Flat 1A door", wrong],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (refused.returncode, refused.stdout.strip()) == (1, "REFUSED: no such code on this lock")
    cabin_guest = next(
        grant
        for grant in httpx.get(f"{base}/api/v1/grants?kind=guest", headers=headers).json()
        if grant["holder"] == "Jake Miller"
    )
    revealed = httpx.get(f"{base}/api/v1/grants/{cabin_guest['id']}/code", headers=headers).json()
    [offline] = revealed["offline_codes"]
    assert offline["lock_name"] == "Pine Cabin keypad"
    inside = datetime.fromisoformat(offline["starts_at"]) + timedelta(hours=1)
    at_cabin = subprocess.run(
        [
            doorcode,
            "keypad",
            "enter",
            "Pine Cabin keypad",
            offline["code"],
            "--at",
            inside.isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert at_cabin.stdout.strip() == "OPEN (offline code)", at_cabin.stdout + at_cabin.stderr


def wait_for_a_set_code(url: str, headers: dict[str, str]) -> str:
    """The grant whose window contains now, once its code is set on the lock."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        codes = httpx.get(url, headers=headers).json()["codes"]
        now = datetime.now(UTC)
        current = [
            c
            for c in codes
            if c["status"] == "set"
            and datetime.fromisoformat(c["starts_at"]) <= now < datetime.fromisoformat(c["ends_at"])
        ]
        if current:
            return current[0]["grant_id"]
        time.sleep(0.3)
    raise AssertionError("the reconciler did not set the current guest's code within 30 s")


@pytest.mark.slow
def test_the_demo_pms_source_takes_a_signed_booking(demo_server):
    base, key, data_dir = demo_server
    headers = {"Authorization": f"Bearer {key}"}
    (source,) = httpx.get(f"{base}/api/v1/sources", headers=headers).json()
    secret = (data_dir / "demo-webhook-secret.txt").read_text().strip()
    arrival = datetime.now(UTC).date() + timedelta(days=40)
    body = json.dumps(
        {
            "version": 1,
            "external_id": "E2E-1",
            "property": "villa-sol",
            "status": "confirmed",
            "check_in": arrival.isoformat(),
            "check_out": (arrival + timedelta(days=3)).isoformat(),
        }
    ).encode()
    signed = signed_headers(secret, body, datetime.now(UTC), "e2e-1")
    answer = httpx.post(f"{base}{source['webhook_path']}", content=body, headers=signed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["change"] == "created"


@pytest.mark.slow
def test_a_newcomer_signs_in_to_the_demo_dashboard(demo_server):
    base, _key, data_dir = demo_server
    username, password = (data_dir / "demo-user.txt").read_text().split()
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/sign-in")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = browser.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        )
        assert signed.status_code == 303
        today = browser.get("/")
        assert today.status_code == 200
        assert "Arrivals" in today.text
        assert "Sofia Rossi" in today.text
