"""`siaran dev` as a user runs it: ready banner with URLs and the dev key, then Ctrl-C
stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from siaran_cli.stack import free_port, port_in_use
from siaran_shared.settings import SERVICE_PORTS

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


def _processes_with(marker: str) -> list[int]:
    """Pids whose environment or command line mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(entry.name))
    return found


def test_dev_starts_everything_and_ctrl_c_leaves_nothing_running(tmp_path: Path) -> None:
    busy = [p for p in SERVICE_PORTS.values() if port_in_use("127.0.0.1", p)]
    assert not busy, f"ports {busy} are taken; `siaran dev` needs them free"
    home = tmp_path / "dev-home"
    kafka_port = free_port()
    log = tmp_path / "dev.log"
    siaran = Path(sys.executable).with_name("siaran")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(siaran), "dev", "--home", str(home), "--kafka-port", str(kafka_port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
            start_new_session=True,  # its own process group: a failed test can end it whole
        )
        try:
            deadline = time.monotonic() + 90
            while "Siaran is ready" not in log.read_text():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            text = log.read_text()
            for port in SERVICE_PORTS.values():
                assert f"http://127.0.0.1:{port}" in text
            key_file = home / "dev-api-key"
            assert str(key_file) in text.replace("\n", "")
            assert key_file.stat().st_mode & 0o777 == 0o600
            started = _processes_with(str(home))
            assert len(started) >= 4, "expected the four services"
            assert port_in_use("127.0.0.1", kafka_port)

            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
        finally:
            if proc.poll() is None:  # the test failed midway: stop the whole stack, no orphans
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    deadline = time.monotonic() + 5
    while _processes_with(str(home)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(str(home)) == []
    assert not port_in_use("127.0.0.1", kafka_port)
    assert not [p for p in SERVICE_PORTS.values() if port_in_use("127.0.0.1", p)]
    assert "stopped: no process of the stack is left running" in log.read_text()
