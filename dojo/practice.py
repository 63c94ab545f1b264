"""Whether a learner run is under the kit's own settings, or practice.

Positive, not a list of known bad options: the run's every option is compared
with the value the kit's own command (``pytest [--stage N] katas/F``, with the
ini file's ``addopts``) gives it. Any difference outside ``HARMLESS`` (output,
colour, pytest-xdist's process count, reports written beside the run) makes
the run practice: it prints its table and records nothing. ``-o`` overrides,
``-c``, ``-p``, ``PYTEST_ADDOPTS``, ``--timeout``, ``-k``, ``--sw-skip``, a
plugin's own option: all are differences.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

import pytest

# Options that change how a run looks or where extra reports go, never which
# tests run, how often, or under which limits.
HARMLESS = frozenset(
    {
        "verbose",
        "quiet",
        "reportchars",
        "tbstyle",
        "showlocals",
        "color",
        "code_highlight",
        "showcapture",
        "capture",
        "durations",
        "durations_min",
        "disable_warnings",
        "fulltrace",
        "no_header",
        "no_summary",
        "xmlpath",
        "junitprefix",
        "basetemp",
        "cacheclear",
        "numprocesses",
        "maxprocesses",
        "dist",
        "tx",
        "kata_report",
        "log_cli_level",
        "log_level",
        "log_format",
        "log_date_format",
        "log_file",
        "log_file_level",
        "verbosity_assertions",
        "verbosity_test_cases",
        "force_short_summary",
        "pastebin",
        "help",
        "version",
        "debug",
        "traceconfig",
    }
)
# Plugins a learner may disable with -p without changing the tests.
HARMLESS_PLUGINS = frozenset({"no:cacheprovider", "pytester", "no:randomly", "xdist"})
# Set by pytest or its plugins while configuring, whatever the command line said.
SET_BY_PYTEST = frozenset({"confcutdir", "rootdir", "inifilename", "file_or_dir", "usepdb_cls"})


def canonical_args(config: pytest.Config, family_path: str, stage: int | None) -> list[str]:
    """The kit's own command for this run: the ini's addopts, [--stage N], the family path."""
    args = [*config.getini("addopts")] if config.getini("addopts") else []
    if isinstance(args, str):
        args = shlex.split(args)
    return [*args, *(["--stage", str(stage)] if stage is not None else []), family_path]


def differences(config: pytest.Config, parser: pytest.Parser, canonical: list[str]) -> list[str]:
    """The options whose value differs from the kit's own command, as the learner spells them."""
    options = _options(parser)
    # As pytest does: every option starts at its declared default, then the
    # command line is parsed over them.
    defaults = {}
    for option in options:
        if hasattr(option, "default"):
            defaults.setdefault(option.dest, option.default)
    expected = parser.parse_known_args(canonical, namespace=argparse.Namespace(**defaults))
    found = []
    for dest, value in sorted(vars(config.option).items()):
        if dest in HARMLESS or dest in SET_BY_PYTEST or dest.startswith("_"):
            continue
        if dest == "plugins":
            extra = set(value or []) - set(getattr(expected, dest, None) or []) - HARMLESS_PLUGINS
            if extra:
                found.append(f"-p {sorted(extra)[0]}")
        elif value != getattr(expected, dest, value):
            found.append(_spelling(options, dest))
    return found


def _options(parser: pytest.Parser) -> list[Any]:
    """Every option the run's parser knows (pytest has no public listing of them)."""
    groups = [parser._anonymous, *parser._groups]
    return [option for group in groups for option in group.options]


def _spelling(options: list[Any], dest: str) -> str:
    """How the learner spells the option stored in ``dest`` (``-k``, ``--sw-skip``)."""
    names = [name for option in options if option.dest == dest for name in option.names()]
    return max(names, key=len) if names else "--" + dest.replace("_", "-")
