"""The editorial workflow's rules: which status a new submission starts in for a key's roles,
and which transitions (submit, approve, reject) a key may make from which status.

`draft → pending_approval → accepted → completed`, or `pending_approval → rejected`; a key
with the `publish` role goes from draft (or a fresh submission) straight to publication.
Approving and rejecting need the `approve` role and a second person: never the key that
submitted. Replacing the content (PUT) of a draft or pending_approval announcement takes it
back to draft (an edit, for a key that may submit); of an accepted or completed one it
publishes a correction, the next revision (for a key with the publish role).
"""

from __future__ import annotations

from dataclasses import dataclass

from siaran_shared.auth import ApiKey

from siaran_ingest.submissions import Submission, SubmissionState


class NotAllowed(Exception):
    """A workflow step refused: status 403 (who) or 409 (from which status)."""

    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    target: SubmissionState  # PENDING: publish now


def shown_status(submission: Submission) -> str:
    """The status a client sees (cancellation is stamped beside the status)."""
    return "cancelled" if submission.cancelled_at else submission.status.value


def _roles(key: ApiKey) -> str:
    return "admin" if key.parsed_scope.is_admin else ", ".join(key.roles)


def entry_status(key: ApiKey, draft: bool) -> SubmissionState | None:
    """Where a new submission from this key starts: a draft, waiting for approval, or None
    (published at once, as a publish key always did)."""
    if not (key.has_role("publish") or key.has_role("draft")):
        raise NotAllowed(
            403,
            f"key {key.name!r} (roles: {_roles(key)}) may not submit announcements; "
            "it needs the publish or draft role",
            "authorization",
        )
    if draft:
        return SubmissionState.DRAFT
    return None if key.has_role("publish") else SubmissionState.PENDING_APPROVAL


def _authors(submission: Submission) -> set[str]:
    """The keys that wrote the content waiting for approval: whoever drafted, edited or
    submitted it (an editor who rewrites a text approves it no more than its writer)."""
    return {h.by for h in submission.history if h.action in ("draft", "edit", "submit")}


_FROM = {
    "submit": SubmissionState.DRAFT,
    "approve": SubmissionState.PENDING_APPROVAL,
    "reject": SubmissionState.PENDING_APPROVAL,
}


def step(key: ApiKey, submission: Submission, action: str) -> Step:
    """The transition `action` would make, or NotAllowed naming why."""
    if action == "submit":
        entry_status(key, draft=False)  # the key must be allowed to submit at all
    else:
        if not key.has_role("approve"):
            raise NotAllowed(
                403,
                f"key {key.name!r} (roles: {_roles(key)}) may not {action}: "
                "it needs the approve role",
                "authorization",
            )
        if key.id == submission.submitted_key or key.name == submission.submitted_by:
            raise NotAllowed(
                403,
                f"key {key.name!r} submitted announcement {submission.id!r} and may not "
                f"{action} it too: another key with the approve role must",
                "authorization",
            )
        if key.name in _authors(submission):
            raise NotAllowed(
                403,
                f"key {key.name!r} wrote part of announcement {submission.id!r} and may not "
                f"{action} it too: another key with the approve role must",
                "authorization",
            )
    current = shown_status(submission)
    required = _FROM[action]
    if current != required.value:
        raise NotAllowed(
            409,
            f"announcement {submission.id!r} is {current}; {action} needs it to be "
            f"{required.value}",
            "status",
        )
    if action == "submit":
        publish = key.has_role("publish")
        return Step(
            action, SubmissionState.PENDING if publish else SubmissionState.PENDING_APPROVAL
        )
    if action == "approve":
        return Step(action, SubmissionState.PENDING)
    return Step(action, SubmissionState.REJECTED)


EDITABLE = ("draft", "pending_approval")
CORRECTABLE = ("accepted", "completed")


def revision_step(key: ApiKey, submission: Submission) -> Step:
    """What replacing an announcement's content does: an edit (back to draft) or a
    correction (published as the next revision, accepted again), or NotAllowed naming why."""
    current = shown_status(submission)
    if current in EDITABLE:
        entry_status(key, draft=True)  # any key that may submit may edit
        return Step("edit", SubmissionState.DRAFT)
    if current not in CORRECTABLE:
        raise NotAllowed(
            409,
            f"announcement {submission.id!r} is {current}; replacing it needs it to be "
            f"{', '.join(EDITABLE + CORRECTABLE[:1])} or {CORRECTABLE[1]}",
            "status",
        )
    if not key.has_role("publish"):
        raise NotAllowed(
            403,
            f"key {key.name!r} (roles: {_roles(key)}) may not correct published announcement "
            f"{submission.id!r}: it needs the publish role",
            "authorization",
        )
    return Step("correct", SubmissionState.ACCEPTED)
