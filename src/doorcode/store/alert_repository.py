"""Alerts in the store: open ones are found by (kind, subject) within an organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorcode.store.models import Alert

__all__ = ["AlertRepository"]


class AlertRepository:
    """Alerts of an organisation; an open alert is one not cleared yet."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, alert: Alert) -> None:
        """Stage a new alert."""
        self._session.add(alert)

    def open_alert(self, organisation_id: str, kind: str, subject: tuple[str, str]) -> Alert | None:
        """The open alert of ``kind`` about ``subject``, if there is one."""
        query = select(Alert).where(
            Alert.organisation_id == organisation_id,
            Alert.kind == kind,
            Alert.subject_type == subject[0],
            Alert.subject_id == subject[1],
            Alert.cleared_at.is_(None),
        )
        return self._session.scalar(query)

    def open_alerts(
        self, organisation_id: str, subject: tuple[str, str] | None = None
    ) -> list[Alert]:
        """The organisation's open alerts, about ``subject`` if given, oldest first."""
        query = select(Alert).where(
            Alert.organisation_id == organisation_id, Alert.cleared_at.is_(None)
        )
        if subject is not None:
            query = query.where(Alert.subject_type == subject[0], Alert.subject_id == subject[1])
        return list(self._session.scalars(query.order_by(Alert.raised_at, Alert.id)))
