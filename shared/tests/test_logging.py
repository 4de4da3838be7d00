"""Log lines as an operator reads them: the traceback of an exception logged through the
standard library (FastStream, aiohttp, uvicorn) in both formats, and never a frame's local
variables (the console renderer's rich tracebacks printed them: a token held in a local
would reach the log)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from siaran_shared.logging import configure_logging
from siaran_shared.settings import Settings


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _fail(token: str) -> None:
    raise ConnectionResetError(f"peer went away ({len(token)} bytes unsent)")


TOKEN = "-".join(("tok3n", "held", "in", "a", "local"))  # not in any source line shown


def _log_failure() -> None:
    try:
        _fail(TOKEN)
    except ConnectionResetError:
        logging.getLogger("aiohttp.server").exception("Error handling request")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_library_s_exception_is_logged_with_its_traceback_and_no_locals(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(service="logging-test", log_format=fmt))
    _log_failure()
    out = capsys.readouterr().out
    assert TOKEN not in out
    if fmt == "json":
        [line] = out.splitlines()
        record = json.loads(line)
        assert record["event"] == "Error handling request"
        assert "exc_info" not in record
        assert record["exception"].startswith("Traceback (most recent call last)")
        assert "ConnectionResetError: peer went away" in record["exception"]
    else:
        assert "Traceback (most recent call last)" in out
        assert "ConnectionResetError: peer went away" in out
