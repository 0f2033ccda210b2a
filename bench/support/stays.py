"""A month of bookings in every flat of a benchmark's world, as the device benchmarks count them.

`device_ops.py` and `radio.py` price a stay in device calls; both need the same believable
calendar (back-to-back stays of one to five nights with gaps of up to two days) so their
per-stay figures can be compared.
"""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services.caller import Caller
from doorcode.services.reservations import Guest, ReservationDetails, record_reservation


def book_month(
    runtime: Any, owner: Caller, first_day: date, days: int, rng: Random
) -> tuple[int, date]:
    """Stays checking in within ``days`` of ``first_day`` in every flat of the organisation.

    Returns how many stays were booked and the last check-out: a benchmark runs its clock on
    until then, so each stay costs its whole life.
    """
    stays = 0
    last_out = first_day
    with runtime.uow() as uow:
        properties = [p.id for p in uow.properties.all(owner.organisation_id)]
    for prop in properties:
        day = first_day
        while day < first_day + timedelta(days=days):
            nights = rng.randint(1, 5)
            out = day + timedelta(days=nights)
            _book(runtime, owner, prop, f"{prop}-{stays}", Stay(day, out))
            stays += 1
            last_out = max(last_out, out)
            day += timedelta(days=nights + rng.randrange(0, 3))
    return stays, last_out


def _book(runtime: Any, owner: Caller, prop: str, ref: str, stay: Stay) -> None:
    details = ReservationDetails(
        source="bench",
        external_id=ref,
        property_ref=prop,
        status=ReservationStatus.CONFIRMED,
        stay=stay,
        guest=Guest(name="Guest", email="guest@example.org"),
    )
    record_reservation(runtime.uow(), owner, details)
