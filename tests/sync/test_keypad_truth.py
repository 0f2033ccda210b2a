"""Keypad truth: on random timelines, the virtual lock opens exactly for the grants in force.

Time passes as the runner lets it (the reconciler runs at each lock's next change instant);
at random moments every grant's code is typed at the keypad. A lock that schedules codes opens
exactly inside the grant's window; one that cannot opens from the lead time to the end (its
"resolution" is the lead time). A grant may be revoked at a random moment while its code opens
the door (so the code really is on the lock then): it opens just before, and never after.
"""

import asyncio
import shutil
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorcode.domain.grants import GrantKind
from doorcode.domain.lead_times import LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.services.grants import (
    ManualGrantRequest,
    create_manual_grant,
    reveal_code,
    revoke_grant,
)
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import make_lock, make_owner
from tests.conftest import make_runtime
from tests.sync.helpers import cloud_of

QUARTER = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)
# (start, length) in quarters, and where in the time its code opens the door it is revoked, if
# at all (a fraction of that time: the revoke always finds the code on the lock).
timelines = st.lists(
    st.tuples(
        st.integers(0, 4 * 24 * 4),
        st.integers(1, 2 * 24 * 4),
        st.none() | st.floats(0, 1, exclude_max=True),
    ),
    min_size=1,
    max_size=6,
)
moments = st.lists(st.integers(0, 6 * 24 * 60), min_size=1, max_size=12)


def advance_to(runtime, reconciler, clock, moment):
    """Run every pass due up to ``moment``, each at its own instant."""
    while True:
        due = reconciler.next_due()
        if due is None or due > moment:
            break
        clock.now = max(clock.now, due)
        asyncio.run(reconciler.reconcile(reconciler.pending()))
    clock.now = moment
    asyncio.run(reconciler.reconcile(reconciler.pending()))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timeline=timelines, probes=moments, native=st.booleans())
def test_the_keypad_opens_exactly_for_the_grants_in_force(
    tmp_path, sqlite_template, clock, timeline, probes, native
):
    # Not random.random(): Hypothesis seeds it, so replaying a failure would reuse the file.
    path = tmp_path / f"keypad-{uuid.uuid4().hex}.sqlite3"
    shutil.copy(sqlite_template, path)
    clock.now = clock.now.replace(minute=0)
    start = clock.now
    runtime = make_runtime(f"sqlite:///{path}", clock, tmp_path)
    try:
        check_keypad(runtime, clock, start, timeline, probes, native)
    finally:
        runtime.close()


def check_keypad(runtime, clock, start, timeline, probes, native):
    owner = make_owner(runtime)
    capabilities = LockCapabilities(native_scheduling=native)
    lock = make_lock(runtime, owner, "Door", capabilities)
    install_virtual_locks(runtime)
    lead = LeadTimes().for_lock(capabilities)
    opens_from = (lambda w: w.starts_at) if native else (lambda w: w.starts_at - lead)
    grants, revokes = [], []
    for begins, lasts, revoke_at in timeline:
        window = TimeWindow(start + begins * QUARTER, start + (begins + lasts) * QUARTER)
        request = ManualGrantRequest(GrantKind.STAFF, "x", window, lock_refs=(lock.id,))
        grant = create_manual_grant(runtime.uow(), owner, request)
        code = reveal_code(runtime.uow(), owner, grant.id)
        revoked = None
        if revoke_at is not None:
            first = max(start, opens_from(window))
            revoked = first + timedelta(minutes=int((window.ends_at - first) / MINUTE * revoke_at))
            revokes.append((revoked, grant.id, code))
        grants.append((grant, window, revoked, code))
    reconciler = Reconciler.from_runtime(runtime)

    def in_force(window, revoked, t):
        return opens_from(window) <= t < window.ends_at and (revoked is None or t < revoked)

    probed = [(start + timedelta(minutes=minute), None, None) for minute in probes]
    for moment, revoking, code in sorted(revokes + probed, key=lambda e: (e[0], e[1] is None)):
        advance_to(runtime, reconciler, clock, moment)
        if revoking is not None:
            # The code was set on the lock in its time: it opens right up to the revoke.
            before = cloud_of(runtime).enter(lock.external_id, code, moment)
            assert before.opened, (revoking, moment, before.reason)
            revoke_grant(runtime.uow(), owner, revoking, "")
            advance_to(runtime, reconciler, clock, moment)  # the runner's pass for the commit
            continue
        for grant, _, _, code in grants:
            holders = [w for _, w, r, c in grants if c == code and in_force(w, r, moment)]
            result = cloud_of(runtime).enter(lock.external_id, code, moment)
            assert result.opened == bool(holders), (grant.id, moment, result.reason)
