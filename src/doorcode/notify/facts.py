"""What one message may say, gathered from its grant, reservation, property and organisation."""

from __future__ import annotations

from doorcode.domain.messages import MessagePurpose
from doorcode.notify.variables import MessageFacts, OfflineAccess
from doorcode.store.models import Grant, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["facts_for", "guidebook_url"]


def guidebook_url(public_url: str, guide_token: str) -> str:
    """The guest's guidebook link: the public address and the reservation's secret token."""
    return f"{public_url.rstrip('/')}/guide/{guide_token}"


def facts_for(
    uow: UnitOfWork,
    grant: Grant,
    reservation: Reservation,
    purpose: MessagePurpose,
    public_url: str,
) -> MessageFacts:
    """The facts of one message; nothing about any other guest can get in."""
    organisation = uow.organisations.get(grant.organisation_id)
    prop = reservation.property
    assert organisation is not None
    offline = _offline_codes(uow, grant)
    return MessageFacts(
        purpose=purpose,
        guest_name=reservation.guest_name,
        guest_locale=reservation.guest_locale,
        property_name=prop.name,
        property_address=prop.address,
        time_zone=prop.time_zone,
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        code=_headline_code(uow.grants.code_of(grant), offline, len(grant.lock_codes)),
        lock_names=tuple(sorted(lock_code.lock.name for lock_code in grant.lock_codes)),
        guidebook_url=guidebook_url(public_url, uow.reservations.guide_token_of(reservation)),
        host_name=organisation.host_name or organisation.name,
        host_email=organisation.host_email,
        host_phone=organisation.host_phone,
        reference=reservation.external_id,
        guests=reservation.guest_count,
        offline_codes=offline,
    )


def _headline_code(pin: str, offline: tuple[OfflineAccess, ...], locks: int) -> str:
    """The code a message puts first: the grant's PIN, unless no lock of the stay takes it.

    When every lock is an offline keypad of one key group, the PIN opens nothing and the
    offline code is the guest's code.
    """
    codes = {access.code for access in offline}
    return codes.pop() if len(offline) == locks and len(codes) == 1 else pin


def _offline_codes(uow: UnitOfWork, grant: Grant) -> tuple[OfflineAccess, ...]:
    """The offline keypads of the grant, with the code and window each one takes."""
    found = []
    for lock_code in grant.lock_codes:
        code = uow.offline.offline_code_of(lock_code)
        starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
        if code is not None and starts is not None and ends is not None:
            rules = tuple(lock_code.offline_rules or ())
            found.append(OfflineAccess(lock_code.lock.name, code, starts, ends, rules))
    return tuple(sorted(found, key=lambda access: access.lock_name))
