"""Every `hajiri` subcommand answers --help with a description: a command without help fails here."""

import subprocess
import sys

import pytest

from hajiri_cli.main import SUBCOMMANDS, build_parser


def test_every_subcommand_has_a_help_line():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in SUBCOMMANDS:
        assert sub.choices[name].description, f"hajiri {name} has no description"
        for action in sub.choices[name]._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"hajiri {name} {action.option_strings[0]} has no help text"


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_help_runs(name):
    out = subprocess.run([sys.executable, "-m", "hajiri_cli", name, "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage: hajiri " + name in out.stdout
