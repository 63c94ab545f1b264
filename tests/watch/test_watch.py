"""``kata watch`` driven as a learner drives it: on a terminal, with saves and keys.

Each test starts ``kata watch toy`` on a pseudo-terminal (see conftest) and
reads its screen; the stage runs are real subprocesses of the real runner.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess

import pytest

from tests.watch.conftest import Terminal, ToyKit, kata_argv

pytestmark = pytest.mark.timeout(60)

LOOP = "def add(a, b):\n    while True:\n        pass\n"
BROKEN = "def add(a, b)\n    return a + b\n"
REACT = 1.0  # seconds from a save to the screen saying a run started


def test_watch_reruns_on_each_save_survives_a_loop_and_a_syntax_error_and_advances(
    toy: ToyKit, terminal: Terminal
) -> None:
    terminal.expect("(started): running stage 1", timeout=10)
    toy.write_learner(LOOP)  # during the first run: it is stopped, a new one starts
    took = terminal.expect("(saved katas/toy/__init__.py): running stage 1", timeout=5)
    assert took < REACT, f"the watcher saw the save after {took:.2f} s; expected under {REACT} s"
    terminal.expect("timed out", timeout=30)
    terminal.expect("watching for saves", timeout=5)

    toy.write_learner(BROKEN)
    took = terminal.expect("(saved katas/toy/__init__.py): running stage 1", timeout=5)
    assert took < REACT, f"the watcher saw the save after {took:.2f} s; expected under {REACT} s"
    terminal.expect("SyntaxError", timeout=30)
    terminal.expect("watching for saves", timeout=5)

    toy.solve()
    terminal.expect("Stage 1 passed! Stage 2 is unlocked", timeout=30)
    terminal.expect("The toy family, stage 2.", timeout=5)
    terminal.expect("kata watch toy: stage 2, spec stages/toy/stage2.md", timeout=5)
    progress = json.loads((toy.root / ".kata/progress.json").read_text())
    assert progress["families"]["toy"]["unlocked"] == 2, "the watcher's run records as pytest does"

    terminal.press("q")
    assert terminal.wait() == 0
    terminal.expect("Stopped watching toy.", timeout=5)
    assert "Traceback" not in terminal.text
    assert terminal.restored(), "q leaves the terminal's settings as they were"
    assert b"\x1b[31m" in terminal.raw or b";31m" in terminal.raw, "failures are red"


def test_ctrl_c_during_a_run_stops_it_and_restores_the_terminal(
    toy: ToyKit, terminal: Terminal
) -> None:
    terminal.expect("running stage 1", timeout=10)
    terminal.press("\x03")
    assert terminal.wait() == 130
    terminal.expect("Stopped watching toy.", timeout=5)
    assert "Traceback" not in terminal.text
    assert terminal.restored(), "Ctrl-C leaves the terminal's settings as they were"
    assert not (toy.root / ".kata/progress.json").exists(), "a stopped run records nothing"


def test_stage_four_passing_shows_the_score_and_what_to_do_next(toy: ToyKit) -> None:
    subprocess.run(kata_argv("start", "toy"), cwd=toy.root, env=toy.env(), check=True)
    progress = toy.root / ".kata/progress.json"
    progress.write_text(json.dumps({"version": 1, "families": {"toy": {"unlocked": 4}}}))
    toy.solve()
    term = Terminal(kata_argv("watch", "toy"), toy.root, {**toy.env(), "NO_COLOR": "1"})
    try:
        term.expect("kata watch toy: stage 4, spec stages/toy/stage4.md", timeout=10)
        term.expect("toy complete: 1000/1000 points so far in this attempt.", timeout=30)
        term.expect("kata finish toy", timeout=1)
        term.expect("kata compare toy", timeout=1)
        term.expect("0 hints used", timeout=5)
        term.press("h")
        term.expect("Hint 1 of 2, stage 4 of toy (recorded in your attempt)", timeout=5)
        term.expect("Start from the toy's 4 spec.", timeout=5)
        term.expect("1 hint used", timeout=5)
        term.press("s")
        term.expect("The toy family, stage 4.", timeout=5)
        term.press("o")
        term.expect("kata toy: katas/toy/", timeout=5)  # the run's own pytest output
        term.press("q")
        assert term.wait() == 0
    finally:
        term.close()
    assert not re.search(rb"\x1b\[[0-9;]*(3[0-7]|38;)", term.raw), "NO_COLOR: no colours"


def test_show_renders_the_spec_on_a_terminal(toy: ToyKit) -> None:
    term = Terminal(kata_argv("show", "toy"), toy.root, toy.env())
    try:
        assert term.wait() == 0
        term.expect("Stage 1", timeout=5)
    finally:
        term.close()
    assert "# Stage 1" not in term.text, "the heading is drawn, not printed as markdown"
    assert "The toy family, stage 1." in term.text


def test_without_a_terminal_each_run_prints_plain_lines(toy: ToyKit) -> None:
    env = {**toy.env(), "NO_COLOR": "1"}
    with subprocess.Popen(
        kata_argv("watch", "toy"),
        cwd=toy.root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as watch:
        lines = []
        assert watch.stdout is not None
        for line in watch.stdout:
            lines.append(line.decode())
            if line.startswith(b"Run 1 took"):
                watch.send_signal(signal.SIGINT)
        assert watch.wait(10) == 130
    text = "".join(lines)
    assert "\x1b" not in text, "no escape sequences when stdout is not a terminal"
    assert "    1       0       0         2      2  failing\n" in text
    assert text.endswith("Stopped watching toy.\n")
