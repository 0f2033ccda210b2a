"""Organisations: the tenants; created by whoever runs the deployment, from the CLI."""

from __future__ import annotations

import re

from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.store.models import Organisation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["create_organisation", "resolve_organisation"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def create_organisation(uow: UnitOfWork, slug: str, name: str) -> Organisation:
    """A new organisation; the slug is how the CLI and URLs name it."""
    if not SLUG.match(slug):
        raise InvalidRequest("a slug is lowercase letters, digits and dashes, at most 63")
    with uow:
        if uow.organisations.by_slug(slug) is not None:
            raise AlreadyExists(f"an organisation {slug!r} exists already")
        organisation = Organisation(slug=slug, name=name or slug, created_at=uow.now)
        uow.organisations.add(organisation)
        uow.commit()
        return organisation


def resolve_organisation(uow: UnitOfWork, slug: str | None) -> Organisation:
    """The organisation named ``slug``, or the only one there is when no slug is given."""
    with uow:
        if slug:
            found = uow.organisations.by_slug(slug)
            if found is None:
                raise NotFound("organisation", slug)
            return found
        every = uow.organisations.all()
        if len(every) == 1:
            return every[0]
        if not every:
            raise InvalidRequest("there is no organisation yet: create one with `doorcode org add`")
        slugs = ", ".join(sorted(organisation.slug for organisation in every))
        raise InvalidRequest(
            f"several organisations exist ({slugs}): choose one with --org SLUG, "
            "or for every later command with `doorcode org use SLUG`"
        )
