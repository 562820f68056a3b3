"""Errors the domain services raise. Views and the API translate them; they never leak internals."""


class DomainError(Exception):
    """A request the domain refuses, with a message fit to show the person who made it."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input that does not meet a rule; `errors` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]] | str, field: str | None = None):
        if isinstance(errors, str):
            errors = {field or "__all__": [errors]}
        self.errors = errors
        message = "; ".join(f"{k}: {m}" if k != "__all__" else m for k, ms in errors.items() for m in ms)
        super().__init__(message, field)


class InvalidTransition(DomainError):
    """A step an enquiry cannot take from the state it is in."""

    status = 409


class IsaViolation(DomainError):
    """A share the Information Sharing Agreement does not permit."""

    status = 422


class NotFound(DomainError):
    """Missing, or outside the user's need to know: the two look the same on purpose."""

    status = 404

    def __init__(self, message: str = "Not found"):
        super().__init__(message)


class PermissionDenied(DomainError):
    """The user may see the object but not take this action on it."""

    status = 403
