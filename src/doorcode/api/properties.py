"""/properties: properties and the locks of their groups."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.rendering import property_body
from doorcode.api.schemas import PropertyBody, PropertyChangesBody, PropertyInputBody
from doorcode.services import properties

router = APIRouter(prefix="/properties", tags=["properties"])


@router.get("")
def list_properties(runtime: RuntimeDep, caller: CallerDep) -> list[PropertyBody]:
    """Every property of the organisation."""
    return [property_body(p) for p in properties.list_properties(runtime.uow(), caller)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_property(body: PropertyInputBody, runtime: RuntimeDep, caller: CallerDep) -> PropertyBody:
    """Add a property; link locks to it afterwards."""
    details = properties.PropertyDetails(**body.model_dump())
    return property_body(properties.add_property(runtime.uow(), caller, details))


@router.get("/{reference}")
def get_property(reference: str, runtime: RuntimeDep, caller: CallerDep) -> PropertyBody:
    """One property, by id, external id or name."""
    return property_body(properties.find_property(runtime.uow(), caller, reference))


@router.patch("/{reference}")
def change_property(
    reference: str, body: PropertyChangesBody, runtime: RuntimeDep, caller: CallerDep
) -> PropertyBody:
    """Change settings; current grants follow a new zone or default times at once."""
    changes = body.model_dump(exclude_unset=True)
    return property_body(properties.change_property(runtime.uow(), caller, reference, changes))


@router.put("/{reference}/locks/{lock}")
def link_lock(reference: str, lock: str, runtime: RuntimeDep, caller: CallerDep) -> PropertyBody:
    """Add a lock to the property's group; current grants get their code on it too."""
    return property_body(properties.link_lock(runtime.uow(), caller, reference, lock))


@router.delete("/{reference}/locks/{lock}")
def unlink_lock(reference: str, lock: str, runtime: RuntimeDep, caller: CallerDep) -> PropertyBody:
    """Take a lock out of the property's group."""
    return property_body(properties.unlink_lock(runtime.uow(), caller, reference, lock))
