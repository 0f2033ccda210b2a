"""A property's rules for guest messages: when instructions go out, and what else is sent.

Changing them re-plans the property's waiting messages at once, in the same transaction,
so a new send time applies to stays already booked.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from doorcode.domain.messages import MessageRules
from doorcode.notify.planner import plan_grant, rules_for
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound
from doorcode.store.models import MessageRule, Property
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["get_rules", "set_rules"]


def get_rules(uow: UnitOfWork, caller: Caller, property_ref: str) -> tuple[Property, MessageRules]:
    """The property and the rules its messages follow (the defaults if it has none)."""
    with uow:
        prop = _property(uow, caller, property_ref)
        return prop, rules_for(uow, prop.id)


def set_rules(
    uow: UnitOfWork, caller: Caller, property_ref: str, changes: dict[str, Any]
) -> MessageRules:
    """Change some of the property's rules; absent ones stay as they are."""
    caller.require_writer()
    with uow:
        prop = _property(uow, caller, property_ref)
        before = rules_for(uow, prop.id)
        rules = replace(before, **changes)
        row = uow.messages.rule_of(prop.id)
        if row is None:
            row = MessageRule(property_id=prop.id, organisation_id=caller.organisation_id)
            uow.messages.add_rule(row)
        for name, value in asdict(rules).items():
            setattr(row, name, value)
        row.updated_at = uow.now
        record_event(
            uow,
            caller,
            ("property", prop.id),
            "MessageRulesChanged",
            before=_snapshot(before),
            after=_snapshot(rules),
        )
        for grant in uow.grants.of_property(prop.id):
            if grant.reservation_id is not None and grant.ends_at > uow.now:
                plan_grant(uow, grant)
        uow.commit()
        return rules


def _property(uow: UnitOfWork, caller: Caller, reference: str) -> Property:
    prop = uow.properties.find(caller.organisation_id, reference)
    if prop is None:
        raise NotFound("property", reference)
    return prop


def _snapshot(rules: MessageRules) -> dict[str, Any]:
    values = asdict(rules)
    values["send_at"] = rules.send_at.isoformat(timespec="minutes")
    return values
