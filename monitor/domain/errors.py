"""Domain errors: raised for commands that break a rule; messages say what and why in English."""

from __future__ import annotations


class DomainError(ValueError):
    """A command violates a domain rule."""


class InvalidTransition(DomainError):
    """An incident cannot move from its current status to the requested one."""

    def __init__(self, incident_id: object, current: str, target: str, allowed: tuple[str, ...]) -> None:
        self.current, self.target, self.allowed = current, target, allowed
        allowed_text = ", ".join(allowed) if allowed else "none (terminal status)"
        super().__init__(
            f"incident {incident_id}: cannot move from {current} to {target}; allowed from {current}: {allowed_text}"
        )


class OrgError(DomainError):
    """The org directory is inconsistent."""
