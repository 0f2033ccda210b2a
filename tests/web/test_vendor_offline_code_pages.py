"""A vendor's offline code on the dashboard: revealed with its rules, hidden until revealed."""

from datetime import UTC, datetime

from doorcode.domain.windows import TimeWindow
from doorcode.store.models import Grant
from tests.web.conftest import csrf_of, sign_in

RULE = "Use it once within 24 hours of its start, or the lock stops accepting it."


def give_vendor_code(runtime, grant_id):
    """What the reconciler stores when TTLock computed the stay's code for the lock."""
    window = TimeWindow(
        datetime(2026, 11, 23, 15, tzinfo=UTC), datetime(2026, 11, 26, 11, tzinfo=UTC)
    )
    with runtime.uow() as uow:
        [lock_code] = uow.session.get(Grant, grant_id).lock_codes
        uow.offline.set_vendor_offline_code(
            lock_code, "583920174", window, "ttlock", (RULE,), "9001"
        )
        uow.commit()


def test_revealing_shows_the_vendor_code_with_its_rules(signed_in, world, runtime):
    give_vendor_code(runtime, world.grant_id)
    before = signed_in.get(f"/grants/{world.grant_id}")
    assert "583920174" not in before.text
    revealed = signed_in.post(
        f"/grants/{world.grant_id}/reveal", data={"csrf_token": csrf_of(signed_in, "/")}
    )
    assert revealed.status_code == 200
    assert '<code class="code">583920174</code> <small class="muted">offline code' in revealed.text
    assert RULE in revealed.text


def test_a_viewer_cannot_reveal_the_vendor_code(client, world, runtime):
    give_vendor_code(runtime, world.grant_id)
    assert sign_in(client, "viewer").status_code == 303
    refused = client.post(
        f"/grants/{world.grant_id}/reveal", data={"csrf_token": csrf_of(client, "/")}
    )
    assert refused.status_code == 403
    assert "583920174" not in refused.text
