"""Errors the services raise besides the domain's own; entry points map them to answers.

ServiceError
├── NotFound           the object does not exist in the caller's organisation (404)
├── PermissionDenied   the caller's role does not allow it (403)
├── AlreadyExists      a unique name or external id is taken (409)
├── InvalidRequest     a request that makes no sense as a whole (422)
└── BackEndFailed      a lock back-end refused or failed a request made for the caller (502)
"""

__all__ = [
    "AlreadyExists",
    "BackEndFailed",
    "InvalidRequest",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
]


class ServiceError(Exception):
    """Base of the service layer's own errors."""


class NotFound(ServiceError):
    """Nothing by that reference in the caller's organisation (another's objects included)."""

    def __init__(self, what: str, reference: str) -> None:
        super().__init__(f"no {what} {reference!r}")
        self.what = what
        self.reference = reference


class PermissionDenied(ServiceError):
    """The caller's role does not allow the request."""


class AlreadyExists(ServiceError):
    """Something with that unique name or external id exists already."""


class InvalidRequest(ServiceError):
    """A request whose parts are each valid but that cannot be carried out as a whole."""


class BackEndFailed(ServiceError):
    """A lock back-end refused the credentials, or failed, while serving the request."""
