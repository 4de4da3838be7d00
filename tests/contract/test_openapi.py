"""Each service's OpenAPI tried as an integrator would with schemathesis: every operation,
all checks, 60 examples each (derandomized, so a run repeats), against the app in this
process (FastStream's in-memory broker, a temporary SQLite store: no broker, no network)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.schemas import BaseSchema
from siaran_ingest.app import create_app as create_ingest
from siaran_ingest.config import IngestConfig
from siaran_metrics.app import create_app as create_metrics
from siaran_router.app import create_app as create_router
from siaran_shared.settings import Settings

from tests.contract.inprocess import InProcess


def api(create_app: Callable[[Settings], FastAPI]) -> BaseSchema:
    app = InProcess(create_app)
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app  # requests go to the app in-process, through its ASGI interface
    return schema


def unlimited_ingest(settings: Settings) -> FastAPI:
    """ingest without its per-key rate limit: a 429 would depend on timing, not on the request."""
    return create_ingest(settings, IngestConfig(rate_per_second=0))


ingest, router, metrics = api(unlimited_ingest), api(create_router), api(create_metrics)
# 300 s, not the suite's 120: an operation with a rich body (POST /v1/announcements) sends
# some hundreds of requests, the coverage phase's included, on two cores shared with the rest
# (nothing here asserts speed).
pytestmark = pytest.mark.timeout(300)
#: derandomized so a run repeats what the last found; no deadline or health checks, which
#: judge speed (the apps share two busy cores) and how often strategies filter, not the API
examples = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module", autouse=True)
def _stop_apps() -> Iterator[None]:
    yield
    shutdown_lifespans()


def call_and_check(case: schemathesis.Case) -> None:
    """One generated request as an admin, every check schemathesis has."""
    app = case.operation.app
    assert isinstance(app, InProcess)
    case.call_and_validate(headers={"Authorization": f"Bearer {app.admin_key}"})


@ingest.parametrize()
@examples
def test_ingest(case: schemathesis.Case) -> None:
    call_and_check(case)


@router.parametrize()
@examples
def test_router(case: schemathesis.Case) -> None:
    call_and_check(case)


@metrics.parametrize()
@examples
def test_metrics(case: schemathesis.Case) -> None:
    call_and_check(case)
