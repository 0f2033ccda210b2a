"""A Seam-shaped lock cloud for benchmarks: every call takes ``latency`` seconds, as a cloud's do.

It answers the part of Seam's API that ``SeamProvider`` uses for lock sync (``devices/list``,
``devices/get``, ``access_codes/list|create|get|update|delete``), confirms every code at once
(status ``set``: the device holds it), and counts what a benchmark needs to know:

* calls, per path;
* calls that arrived for a device while another call for that device was still in flight.
  One pass over a lock makes its calls one after another, so two calls at once on one device
  mean two passes on one lock at once: the count must stay 0;
* the instant each code appeared on and left its device (``/_bench/codes``).

Control routes under ``/_bench`` add devices in bulk, set the latency and read the counters.
Run it as ``python bench/support/cloud.py --port N``; it prints one JSON line when ready.
It holds PINs in memory, as a device would, and never logs them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_KEY = "bench-cloud-key"


@dataclass
class Device:
    device_id: str
    name: str
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_flight: int = 0


@dataclass
class Cloud:
    latency: float = 0.0
    devices: dict[str, Device] = field(default_factory=dict)
    owner_of: dict[str, str] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    overlaps: int = 0
    most_in_flight: int = 0
    in_flight: int = 0
    appeared: dict[str, float] = field(default_factory=dict)
    """Wall-clock instant (time.time) each code's name first appeared on a device."""
    left: dict[str, float] = field(default_factory=dict)
    """Wall-clock instant each code's name left its device."""
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def device_of(self, body: dict[str, Any]) -> Device | None:
        device_id = body.get("device_id") or self.owner_of.get(body.get("access_code_id", ""))
        return self.devices.get(device_id or "")


CLOUD = Cloud()


def _device_json(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "display_name": device.name,
        "capabilities_supported": ["access_code", "lock"],
        "can_program_online_access_codes": True,
        "properties": {
            "name": device.name,
            "online": True,
            "battery_level": 0.9,
            "supported_code_lengths": [4, 5, 6, 7, 8],
            "max_active_codes_supported": 50,
        },
    }


def _not_found(kind: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind}}, status_code=404)


def _answer(path: str, body: dict[str, Any], device: Device | None) -> JSONResponse:
    if path == "devices/list":
        return JSONResponse({"devices": [_device_json(d) for d in CLOUD.devices.values()]})
    if device is None:
        return _not_found("device_not_found" if "device_id" in body else "access_code_not_found")
    if path == "devices/get":
        return JSONResponse({"device": _device_json(device)})
    if path == "access_codes/list":
        return JSONResponse({"access_codes": list(device.codes.values())})
    if path == "access_codes/create":
        code_id = f"ac_{next(CLOUD.ids)}"
        code = {
            "access_code_id": code_id,
            "device_id": device.device_id,
            "name": body.get("name", ""),
            "code": body.get("code"),
            "starts_at": body.get("starts_at"),
            "ends_at": body.get("ends_at"),
            "status": "set",
        }
        device.codes[code_id] = code
        CLOUD.owner_of[code_id] = device.device_id
        CLOUD.appeared.setdefault(code["name"], time.time())
        return JSONResponse({"access_code": code})
    code = device.codes.get(body.get("access_code_id", ""))
    if code is None:
        return _not_found("access_code_not_found")
    if path == "access_codes/get":
        return JSONResponse({"access_code": code})
    if path == "access_codes/update":
        code.update({k: body[k] for k in ("starts_at", "ends_at") if k in body})
        return JSONResponse({"ok": True})
    if path == "access_codes/delete":
        del device.codes[code["access_code_id"]]
        CLOUD.left.setdefault(code["name"], time.time())
        return JSONResponse({"ok": True})
    return _not_found("route_not_found")


async def api(request: Request) -> JSONResponse:
    """One Seam call: wait the latency, then answer; counts overlapping calls per device."""
    if request.headers.get("authorization") != f"Bearer {API_KEY}":
        return JSONResponse({"error": {"type": "unauthorized"}}, status_code=401)
    path = request.path_params["path"]
    body = await request.json()
    device = CLOUD.device_of(body)
    CLOUD.calls[path] += 1
    if device is not None:
        if device.in_flight:
            CLOUD.overlaps += 1
        device.in_flight += 1
    CLOUD.in_flight += 1
    CLOUD.most_in_flight = max(CLOUD.most_in_flight, CLOUD.in_flight)
    try:
        if CLOUD.latency > 0:
            await asyncio.sleep(CLOUD.latency)
        return _answer(path, body, device)
    finally:
        CLOUD.in_flight -= 1
        if device is not None:
            device.in_flight -= 1


async def add_devices(request: Request) -> JSONResponse:
    """Devices ``{prefix}{n}`` for n in [first, first + count)."""
    body = await request.json()
    for number in range(body["first"], body["first"] + body["count"]):
        device_id = f"{body['prefix']}{number}"
        CLOUD.devices.setdefault(device_id, Device(device_id, f"{body['name']} {number}"))
    return JSONResponse({"devices": len(CLOUD.devices)})


async def settings(request: Request) -> JSONResponse:
    body = await request.json()
    CLOUD.latency = float(body.get("latency", CLOUD.latency))
    if body.get("reset_counters"):
        CLOUD.calls.clear()
        CLOUD.overlaps = CLOUD.most_in_flight = 0
    return JSONResponse({"latency": CLOUD.latency})


async def stats(request: Request) -> JSONResponse:
    codes = sum(len(device.codes) for device in CLOUD.devices.values())
    return JSONResponse(
        {
            "calls": dict(CLOUD.calls),
            "overlaps": CLOUD.overlaps,
            "most_in_flight": CLOUD.most_in_flight,
            "devices": len(CLOUD.devices),
            "codes": codes,
        }
    )


async def code_times(request: Request) -> JSONResponse:
    """When each code (by its name, doorcode's tag) appeared on and left its device."""
    return JSONResponse({"appeared": CLOUD.appeared, "left": CLOUD.left})


app = Starlette(
    routes=[
        Route("/_bench/devices", add_devices, methods=["POST"]),
        Route("/_bench/settings", settings, methods=["POST"]),
        Route("/_bench/stats", stats, methods=["GET"]),
        Route("/_bench/codes", code_times, methods=["GET"]),
        Route("/{path:path}", api, methods=["POST"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    arguments = parser.parse_args()
    CLOUD.latency = arguments.latency
    print(json.dumps({"url": f"http://127.0.0.1:{arguments.port}", "api_key": API_KEY}))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=arguments.port,
        log_level="warning",
        access_log=False,
        backlog=2048,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
