"""What one message may say, gathered from its grant, reservation, property and organisation."""

from __future__ import annotations

from doorcode.domain.messages import MessagePurpose
from doorcode.notify.variables import MessageFacts
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
    return MessageFacts(
        purpose=purpose,
        guest_name=reservation.guest_name,
        guest_locale=reservation.guest_locale,
        property_name=prop.name,
        property_address=prop.address,
        time_zone=prop.time_zone,
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        code=uow.grants.code_of(grant),
        lock_names=tuple(sorted(lock_code.lock.name for lock_code in grant.lock_codes)),
        guidebook_url=guidebook_url(public_url, reservation.guide_token),
        host_name=organisation.host_name or organisation.name,
        host_email=organisation.host_email,
        host_phone=organisation.host_phone,
        reference=reservation.external_id,
        guests=reservation.guest_count,
    )
