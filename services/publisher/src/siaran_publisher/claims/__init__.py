"""Never twice, and the durable retry schedule: one repository over the claims' records."""

from siaran_publisher.claims.records import (
    INDEXES,
    Begun,
    Cancelled,
    Claim,
    ClaimState,
    Superseded,
)
from siaran_publisher.claims.repository import Claims
from siaran_publisher.claims.schedule import RetrySchedule

__all__ = [
    "INDEXES",
    "Begun",
    "Cancelled",
    "Claim",
    "ClaimState",
    "Claims",
    "RetrySchedule",
    "Superseded",
]
