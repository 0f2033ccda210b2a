"""Dashboard users and sessions, rate-limit counters, and notices for hosts.

Users are found by username across organisations (the sign-in form asks for nothing else);
every listing for a caller takes the organisation id first, as everywhere in ``store/``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from doorcode.store.models import FailedAttempt, HostNotice, User, WebSession

__all__ = [
    "FailedAttemptRepository",
    "HostNoticeRepository",
    "UserRepository",
    "WebSessionRepository",
]


class UserRepository:
    """People who sign in to the dashboard."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: User) -> None:
        """Stage a new user."""
        self._session.add(user)

    def get(self, user_id: str) -> User | None:
        """The user with this id."""
        return self._session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        """The user with this username, in any organisation."""
        return self._session.scalar(select(User).where(User.username == username))

    def all(self, organisation_id: str) -> list[User]:
        """The organisation's users, by username."""
        query = select(User).where(User.organisation_id == organisation_id)
        return list(self._session.scalars(query.order_by(User.username)))


class WebSessionRepository:
    """Signed-in browsers, found by the hash of their cookie's secret."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, web_session: WebSession) -> None:
        """Stage a new session."""
        self._session.add(web_session)

    def get(self, token_hash: str) -> WebSession | None:
        """The session whose secret hashes to ``token_hash``, its user loaded."""
        query = select(WebSession).where(WebSession.token_hash == token_hash)
        return self._session.scalar(query.options(selectinload(WebSession.user)))

    def end(self, token_hashes: Collection[str]) -> None:
        """Forget these sessions (signing out, or a new sign-in replacing one)."""
        if token_hashes:
            statement = delete(WebSession).where(WebSession.token_hash.in_(sorted(token_hashes)))
            self._session.execute(statement)

    def end_expired(self, now: datetime) -> None:
        """Forget sessions past their absolute expiry."""
        self._session.execute(delete(WebSession).where(WebSession.expires_at <= now))

    def touch(self, token_hash: str, now: datetime) -> None:
        """Note that the session was used at ``now`` (its idle expiry starts again)."""
        statement = update(WebSession).where(WebSession.token_hash == token_hash)
        self._session.execute(statement.values(last_seen_at=now))


class FailedAttemptRepository:
    """Failed attempts, counted per (bucket, subject) over a sliding window."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, bucket: str, subjects: Collection[str], at: datetime) -> None:
        """One failure, counted against each of ``subjects``."""
        for subject in sorted(subjects):
            self._session.add(FailedAttempt(bucket=bucket, subject=subject, attempted_at=at))

    def count_since(self, bucket: str, subject: str, since: datetime) -> int:
        """How many failures ``subject`` had in ``bucket`` from ``since`` on."""
        query = select(func.count()).where(
            FailedAttempt.bucket == bucket,
            FailedAttempt.subject == subject,
            FailedAttempt.attempted_at >= since,
        )
        return int(self._session.scalar(query) or 0)

    def oldest_since(self, bucket: str, subject: str, since: datetime) -> datetime | None:
        """The first failure of ``subject`` in ``bucket`` from ``since`` on."""
        query = select(func.min(FailedAttempt.attempted_at)).where(
            FailedAttempt.bucket == bucket,
            FailedAttempt.subject == subject,
            FailedAttempt.attempted_at >= since,
        )
        oldest: datetime | None = self._session.scalar(query)
        return oldest

    def clear(self, bucket: str, subject: str) -> None:
        """Forget ``subject``'s failures in ``bucket`` (after a success)."""
        statement = delete(FailedAttempt).where(
            FailedAttempt.bucket == bucket, FailedAttempt.subject == subject
        )
        self._session.execute(statement)

    def forget_before(self, before: datetime) -> None:
        """Drop failures too old for any limit to count."""
        self._session.execute(delete(FailedAttempt).where(FailedAttempt.attempted_at < before))


class HostNoticeRepository:
    """Notices for hosts, waiting to be sent or already sent."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, notice: HostNotice) -> None:
        """Stage a new notice."""
        self._session.add(notice)

    def get(self, notice_id: str) -> HostNotice | None:
        """A notice by id, in any organisation (for the sender)."""
        return self._session.get(HostNotice, notice_id)

    def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of queued notices whose next attempt is due."""
        query = select(HostNotice.id).where(
            HostNotice.status == "queued", HostNotice.next_attempt_at <= now
        )
        order = (HostNotice.next_attempt_at, HostNotice.id)
        return list(self._session.scalars(query.order_by(*order).limit(limit)))

    def claim(self, notice_id: str, now: datetime) -> bool:
        """Take a queued notice for sending; False if another process took it first."""
        statement = (
            update(HostNotice)
            .where(HostNotice.id == notice_id, HostNotice.status == "queued")
            .values(status="sending", next_attempt_at=now)
        )
        result = self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    def abandoned(self, claimed_before: datetime, limit: int) -> list[HostNotice]:
        """Notices still marked as sending by a process that must have stopped."""
        query = select(HostNotice).where(
            HostNotice.status == "sending", HostNotice.next_attempt_at < claimed_before
        )
        return list(self._session.scalars(query.limit(limit)))

    def of_reservation(self, organisation_id: str, reservation_id: str) -> list[HostNotice]:
        """What the host was told about a reservation, newest first."""
        query = select(HostNotice).where(
            HostNotice.organisation_id == organisation_id,
            HostNotice.reservation_id == reservation_id,
        )
        return list(self._session.scalars(query.order_by(HostNotice.created_at.desc())))
