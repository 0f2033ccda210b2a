"""``doorcode schedule``: the cleaner's recurring code from the command line."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest


def around_the_next_spring_change():
    """Tuesdays either side of the next last Sunday of March (CET to CEST in Madrid), ahead of
    the process's clock, which the CLI runs on: a pinned year would one day be in the past."""
    soon = datetime.now(UTC).date() + timedelta(days=7)
    year = soon.year if soon < date(soon.year, 3, 20) else soon.year + 1
    change = date(year, 3, 31) - timedelta(days=(date(year, 3, 31).weekday() + 1) % 7)
    first = change - timedelta(days=5)  # the Tuesday before it
    return first, first + timedelta(days=7), first + timedelta(days=14)


FIRST, SKIPPED, LAST = around_the_next_spring_change()


@pytest.fixture
def doorcode(cli):
    run = cli
    run("org", "add", "acme")
    for name, zone in (("Flat 1A", "Europe/Madrid"), ("Flat 2B", "Europe/Madrid")):
        run("property", "add", name, "--zone", zone)
        run("lock", "add", f"{name} door", "--property", name)
    return run


def test_the_cleaner_every_tuesday_at_two_flats_is_one_schedule(doorcode):
    made = doorcode(
        "schedule", "add", "Marta (cleaner)", "--property", "Flat 1A", "--property", "Flat 2B",
        "--on", "tue", "--from", "10:00", "--to", "14:00",
        "--first", str(FIRST), "--last", str(LAST), "--except", str(SKIPPED),
    )  # fmt: skip
    assert "every Tue, 10:00-14:00), 4 windows at Flat 1A, Flat 2B" in made.output
    [schedule] = json.loads(doorcode("schedule", "list", "--json").output)
    shown = doorcode("schedule", "show", schedule["id"]).output
    assert f"{FIRST:%a %d %b %Y} 10:00 CET" in shown
    assert f"{LAST:%a %d %b %Y} 10:00 CEST" in shown
    revoked = doorcode("schedule", "revoke", schedule["id"], "--reason", "left")
    assert "4 windows taken off the locks" in revoked.output


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--on", "someday"], "'someday' is not a weekday like tue", 2),
        (["--from", "ten"], "'ten' is not a time like 15:00", 2),
        (["--last", str(FIRST - timedelta(days=22))], "the last day is before the first day", 1),
        (["--property", "Nowhere"], "Nowhere", 1),
    ],
)
def test_a_bad_schedule_exits_non_zero_with_the_reason_and_makes_nothing(
    doorcode, args, message, code
):
    base = {
        "--property": "Flat 1A", "--on": "tue", "--from": "10:00", "--to": "14:00",
        "--first": str(FIRST), "--last": str(LAST),
    }  # fmt: skip
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [part for pair in base.items() for part in pair]
    failed = doorcode(
        "schedule",
        "add",
        "Marta",
        *flat,
        expect=code,
    )
    assert message in " ".join(failed.output.split())
    assert json.loads(doorcode("schedule", "list", "--json").output) == []


def test_a_night_window_in_the_skipped_hour_is_made_and_named_not_refused(doorcode):
    """Madrid skips 02:00-03:00 on the last Sunday of March: a 02:15-02:45 Sunday window
    cannot exist that day. The schedule is made; that one window moves and the CLI says so."""
    sunday = SKIPPED - timedelta(days=2)  # the change itself
    made = doorcode(
        "schedule", "add", "Night guard", "--property", "Flat 1A", "--on", "sun",
        "--from", "02:15", "--to", "02:45",
        "--first", str(sunday - timedelta(days=7)), "--last", str(sunday + timedelta(days=7)),
    )  # fmt: skip
    assert "3 windows at Flat 1A" in made.output
    assert f"Flat 1A, {sunday}: 02:15 does not exist on the clock" in made.output
    [schedule] = json.loads(doorcode("schedule", "list", "--json").output)
    assert schedule["clock_notes"] == [
        f"Flat 1A, {sunday}: 02:15 does not exist on the clock (it springs forward); "
        "that day's window starts when the clocks jump and keeps its usual length"
    ]
    shown = doorcode("schedule", "show", schedule["id"]).output
    assert f"{sunday:%a %d %b %Y} 03:00 CEST" in shown


def test_a_property_moved_to_another_zone_keeps_its_cleaner_at_ten_local(doorcode):
    doorcode(
        "schedule", "add", "Marta (cleaner)", "--property", "Flat 1A", "--on", "tue",
        "--from", "10:00", "--to", "14:00", "--first", str(FIRST), "--last", str(LAST),
    )  # fmt: skip
    doorcode("property", "set", "Flat 1A", "--zone", "Atlantic/Canary")
    [schedule] = json.loads(doorcode("schedule", "list", "--json").output)
    shown = doorcode("schedule", "show", schedule["id"]).output
    assert f"{FIRST:%a %d %b %Y} 10:00 WET" in shown
    assert f"{LAST:%a %d %b %Y} 10:00 WEST" in shown
