"""The README's examples still run and still print what the README shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from matcalc.cli import main

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def console_examples():
    for lang, body in BLOCKS:
        if lang == "console" and body.startswith("$ matcalc "):
            command, _, output = body.partition("\n")
            yield shlex.split(command[2:])[1:], output.rstrip("\n")


def test_every_console_example_prints_what_the_readme_shows():
    examples = list(console_examples())
    assert len(examples) >= 4
    for args, shown in examples:
        result = CliRunner().invoke(main, args)
        produced = (result.stdout + result.stderr).rstrip("\n")
        if shown.startswith("…\n"):  # an excerpt: the end of the output
            assert produced.endswith(shown[2:]), args
        elif shown.endswith("\n…"):  # an excerpt: the start of the output
            assert produced.startswith(shown[:-2]), args
        else:
            assert produced == shown, args


def test_python_example_prints_what_the_readme_shows():
    code = next(body for lang, body in BLOCKS if lang == "python")
    shown = next(body for lang, body in BLOCKS if lang == "text")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == shown.strip()


def test_ci_runs_the_readme_test_command():
    setup = [body.strip() for lang, body in BLOCKS if lang == "console" and "pytest" in body]
    assert setup, "the README shows no test command"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup[0] in ci
