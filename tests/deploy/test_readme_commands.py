"""What the READMEs tell a person to type works in a new shell after `make run` / `make test`.

uv may live only in .tools/ (the Makefile bootstraps it there), so no command may start with
`uv`; the `siaran` commands name the checkout's virtualenv, and each command and option they
show exists. (The commands were also run by hand against `make run`; see README.md.)
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from siaran_cli.main import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", ROOT / "deploy" / "README.md"]


def shell_lines(path: Path) -> list[str]:
    """Command lines of the ```sh blocks (continuations joined, comments dropped)."""
    blocks: list[str] = []
    language: str | None = None
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            language = None if language is not None else line[3:].strip() or "text"
            if language == "sh":
                blocks.append("")
        elif language == "sh":
            blocks[-1] += line + "\n"
    lines = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #", 1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def siaran_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `siaran`) for every `.venv/bin/siaran` line of the READMEs."""
    found = []
    for path in READMES:
        for line in shell_lines(path):
            if ".venv/bin/siaran" not in line:
                continue
            words = shlex.split(line.replace("[", "").replace("]", "").replace("|", " "))
            if ".venv/bin/siaran" in words:
                argv = words[words.index(".venv/bin/siaran") + 1 :]
                found.append((f"{path.relative_to(ROOT)}: {line}", argv))
    return found


def test_no_readme_command_needs_uv_on_path() -> None:
    for path in READMES:
        for line in shell_lines(path):
            assert not re.search(r"(^|[;&|]\s*|=\S*\s+)uv\s", line), f"{path.name}: {line}"


def test_readmes_show_the_siaran_commands() -> None:
    assert len(siaran_commands()) >= 10


@pytest.mark.parametrize(("where", "argv"), siaran_commands(), ids=lambda v: str(v)[:60])
def test_siaran_command_and_its_options_exist(where: str, argv: list[str]) -> None:
    words = [w for w in argv if not w.startswith("-")]
    path: list[str] = []
    # the leading words that are (sub)commands: each one's --help must answer
    for word in words:
        result = CliRunner().invoke(app, [*path, word, "--help"])
        if result.exit_code != 0 or "Usage" not in result.output:
            break
        path.append(word)
    help_text = CliRunner().invoke(app, [*path, "--help"]).output
    for option in (w.split("=", 1)[0] for w in argv if w.startswith("--")):
        assert option in help_text, f"{where}: {option} is not an option of siaran {path}"


def test_make_targets_the_readmes_name_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.MULTILINE))
    named = {m for p in READMES for m in re.findall(r"`make ([a-z-]+)", p.read_text())}
    assert named
    assert named <= targets, sorted(named - targets)
