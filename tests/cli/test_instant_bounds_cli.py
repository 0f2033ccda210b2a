"""The CLI refuses instants outside the accepted years with a message and exit code 1."""

import pytest


@pytest.fixture
def doorcode(cli):
    run = cli
    run("org", "add", "acme")
    run("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    run("lock", "add", "Front door", "--property", "f1")
    return run


@pytest.mark.parametrize(
    ("check_in", "check_out", "field"),
    [("0001-01-01", "2026-12-04", "check_in"), ("2026-12-01", "9999-12-31", "check_out")],
)
def test_a_booking_outside_the_accepted_years_is_refused(doorcode, check_in, check_out, field):
    args = ["reservation", "add", "--property", "f1", "--guest", "Ada"]
    refused = doorcode(*args, "--check-in", check_in, "--check-out", check_out, expect=1)
    assert f"{field} must lie between 2000-01-02 and 2199-12-30" in refused.output
    assert "Ada" not in doorcode("reservation", "list").output


def test_a_grant_outside_the_accepted_years_is_refused(doorcode):
    refused = doorcode(
        "grant", "add", "--holder", "cleaner", "--property", "f1", "--kind", "staff",
        "--from", "2026-12-01T10:00:00Z", "--to", "9999-12-31T23:59:30Z", expect=1,
    )  # fmt: skip
    assert "ends_at must lie between" in refused.output
    assert "cleaner" not in doorcode("grant", "list").output
