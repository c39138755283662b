"""The README's CLI examples run exactly as written against the CI Postfix + Dovecot.

Every ``$ command`` of the README's "### Examples" section is run, unchanged and in order,
in one bash session (so ``. env`` and ``export`` carry over), with ``smtpcheck`` on PATH
being this tree's CLI. What each printed is compared with the README: ``echo $?`` lines
exactly; a probe by its stage lines (mark and stage), its verdict and its JSON outcome;
any other command by the README's first output line, which must appear verbatim. Ports and
milliseconds differ from machine to machine and are not compared.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.server import DEFAULT_ENV_FILE, MailServer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MARK = "@@readme-example@@"
STAGE_LINE = re.compile(r"^  ([✓✗!-]) (\w+) ")
VERDICT = re.compile(r"^Verdict: ([A-Z ]+):")
OUTCOME = re.compile(r'^\s*"outcome": "(\w+)"')


@dataclass
class Example:
    command: str
    shown: list[str] = field(default_factory=list)  # the README's output, "..." lines dropped


def readme_examples() -> list[Example]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Examples", 1)[1].split("\n### ", 1)[0]
    examples: list[Example] = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.DOTALL):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.startswith("$ "):
                if examples and line.strip() not in ("...", '"..."', '"...",'):
                    examples[-1].shown.append(line)
                continue
            command = line[2:]
            # a trailing backslash continues the command, as does an open double quote
            while command.endswith("\\") or command.count('"') % 2:
                command += "\n" + lines[index]
                index += 1
            examples.append(Example(command))
    return examples


def signature(lines: list[str]) -> dict[str, object]:
    """What is compared of a probe's output: stage marks, verdict, JSON outcome."""
    return {
        "stages": [m.groups() for line in lines if (m := STAGE_LINE.match(line))],
        "verdict": [m.group(1) for line in lines if (m := VERDICT.match(line))],
        "outcome": [m.group(1) for line in lines if (m := OUTCOME.match(line))],
    }


def test_readme_has_the_loopback_examples() -> None:
    """The parser finds what the README shows (so the comparison below cannot pass empty)."""
    commands = [example.command for example in readme_examples()]
    assert commands[0] == ". /var/lib/smtpcheck-ci/env"
    assert sum("smtpcheck probe" in command for command in commands) >= 4
    assert sum(command == "echo $?" for command in commands) >= 2


def test_readme_examples_run_as_written(mail_server: MailServer, tmp_path: Path) -> None:
    examples = readme_examples()
    env_file = os.environ.get("SMTPCHECK_IT_ENV") or DEFAULT_ENV_FILE
    binary = tmp_path / "bin" / "smtpcheck"
    binary.parent.mkdir()
    binary.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot.cli "$@"\n', encoding="utf-8")
    binary.chmod(0o755)
    script = []
    for example in examples:
        command = example.command
        if env_file != DEFAULT_ENV_FILE:  # the env file was set up elsewhere on this machine
            command = command.replace(DEFAULT_ENV_FILE, env_file)
        script += [f"echo {MARK} 2>/dev/null; (exit $status)", command, "status=$?"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SMTPCHECK_", "LOG_"))}
    environ.update(
        PATH=f"{binary.parent}:{environ.get('PATH', '/usr/bin:/bin')}",
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
    )
    result = subprocess.run(  # noqa: S603 (bash with the README's own commands)
        ["/bin/bash", "-c", "status=0\n" + "\n".join(script)],
        capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=180, check=False,
    )  # fmt: skip
    outputs = result.stdout.split(MARK + "\n")[1:]
    assert len(outputs) == len(examples), result.stderr
    for example, output in zip(examples, outputs, strict=True):
        got = output.splitlines()
        if example.command == "echo $?":
            assert got == example.shown, example
        elif example.command.lstrip().startswith(("smtpcheck probe", "echo ", "env ")):
            assert signature(got) == signature(example.shown), (example.command, output)
        elif example.shown:
            assert example.shown[0] in got, (example.command, output)
    assert "SMTPCHECK_ALLOW_NETWORKS=10.1.2.3/32" in result.stderr
    assert mail_server.password not in result.stdout + result.stderr
