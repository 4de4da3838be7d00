""".ci/install-system-deps.sh: what `make test` runs first on a fresh machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "install-system-deps.sh"
TOOLS = {"promtool": "prometheus", "chromium": "chromium", "node": "nodejs"}


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def run(bin_dir: Path, *, uid: int) -> subprocess.CompletedProcess[str]:
    """The script with PATH = bin_dir only: `id` answers uid, apt-get logs its arguments."""
    stub(bin_dir, "id", f"echo {uid}")
    stub(bin_dir, "apt-get", f'echo "$*" >> {bin_dir}/apt.log')
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("present", [(), ("promtool",), ("chromium",)])
def test_root_installs_exactly_the_missing_packages(tmp_path: Path, present: tuple[str]) -> None:
    for tool in present:
        stub(tmp_path, tool, "exit 0")
    result = run(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0].startswith("update")
    (install,) = calls[1:]
    wanted = {package for tool, package in TOOLS.items() if tool not in present}
    assert install.startswith("install -y")
    assert {word for word in install.split() if not word.startswith("-")} - {"install"} == wanted


def test_nothing_happens_when_every_tool_is_there(tmp_path: Path) -> None:
    for tool in TOOLS:
        stub(tmp_path, tool, "exit 0")
    result = run(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "apt.log").exists()


def test_without_root_it_fails_with_the_command_to_run(tmp_path: Path) -> None:
    stub(tmp_path, "chromium", "exit 0")
    stub(tmp_path, "node", "exit 0")
    result = run(tmp_path, uid=1000)
    assert result.returncode == 1
    assert not (tmp_path / "apt.log").exists()
    (line,) = result.stderr.splitlines()
    assert "missing promtool" in line
    assert "apt-get install -y --no-install-recommends prometheus`" in line


def test_make_test_installs_the_system_tools_before_the_tests() -> None:
    makefile = (SCRIPT.parents[1] / "Makefile").read_text()
    targets = {
        line.split(":", 1)[0]: line.split(":", 1)[1].split("##")[0].split()
        for line in makefile.splitlines()
        if line and not line[0].isspace() and ":" in line and not line.startswith(".")
    }
    assert "system-deps" in targets["test"]
    assert "system-deps" in targets["test-fast"]
    assert "install-system-deps.sh" in makefile
