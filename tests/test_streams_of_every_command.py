"""Every command under every condition of its standard streams: stdout full (a link to /dev/full
inside tmp), closed (`>&-`) or a pipe whose reader has gone (`| head -c 1`); stdin closed
(`<&-`), empty or binary where the command reads its text from it.

A product that cannot be written is one clean error line and exit 1, never exit 0 having written
nothing; a reader that has gone ends the command quietly with exit 0, as `sample | head` does; a
text that standard input does not hold is refused in one line, with no file left behind. Each case
runs the console script's entry point in a fork of one process (tests/forked_script.py), so the
whole matrix costs about one interpreter start; tests/test_streams.py runs the real script.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write

VIEWS = {  # every view of inspect, its text at TEXT
    "score": "inspect score TEXT -c m.npz",
    "typos": "inspect typos TEXT -c both.npz --far 0",
    "neurons": "inspect neurons TEXT --unit 0:1 -c m.npz",
    "find-neurons": "inspect find-neurons TEXT -c m.npz",
    "gradients": "inspect gradients TEXT -c m.npz --span 5 --positions 3",
    "compare": "inspect compare TEXT -c m.npz -c m.npz",
    "novelty": "inspect novelty TEXT -c m.npz",
}
PRODUCTS = {  # commands whose whole point is what they write to stdout
    "inspect": "inspect -c m.npz",
    "inspect --json": "inspect -c m.npz --json",
    **{view: command.replace("TEXT", "t.txt") for view, command in VIEWS.items()},
    "score --json": "inspect score t.txt -c m.npz --json --all",
    "neurons --json": "inspect neurons t.txt --unit 0:1 -c m.npz --json",
    "sample": "sample -c m.npz -n 20 --seed 1",
    "sample --json": "sample -c m.npz -n 20 --seed 1 --json",
    "sample --beam": "sample -c m.npz -n 20 --beam 2",
    "fill": "fill g.txt -c both.npz",
    "fill --json": "fill g.txt -c m.npz --json",
    "help": "--help",
    "a command's help": "sample --help",
    "a view's help": "inspect score --help",
    "version": "--version",
}
FILES = {  # commands whose product is a file (OUT): they write nothing on stdout
    "train": f"train t.txt -c OUT.npz {' '.join(tiny(seq_len=4))}",
    "export": "export -c m.npz OUT.html",
}
READERS = {  # commands that read a text, here from standard input
    "train": f"train - -c OUT.npz {' '.join(tiny())}",
    **{view: command.replace("TEXT", "-") for view, command in VIEWS.items()},
    "fill": "fill - -c both.npz",
}
STDOUTS = {"full": ("full", "No space left on device"), "closed": ("closed", "standard output is closed")}
STDINS = {  # a standard input that holds no text, and what the error says of it
    "closed": ("closed", "standard input is closed"),
    "empty": ("empty", "empty"),
    "binary": ("binary", "the text is not valid utf-8"),  # "the corpus" said so of a text to score
}


def cases() -> dict[str, dict]:
    """Every case by name: its arguments and its streams (tests/forked_script.py)."""
    out = {}
    for name, command in PRODUCTS.items():
        for stdout, (where, _) in STDOUTS.items():
            out[f"{name} > {stdout}"] = {"command": command, "stdout": where}
        out[f"{name} | gone"] = {"command": command, "stdout": "gone"}
    for name, command in FILES.items():
        for stdout in ("full", "closed", "gone"):
            out[f"{name} > {stdout}"] = {"command": command, "stdout": stdout}
    for name, command in READERS.items():
        for stdin, (where, _) in STDINS.items():
            out[f"{name} < {stdin}"] = {"command": command, "stdin": where}
    for name in ("sample", "inspect --json", "export"):  # they read no text: stdin is not theirs
        out[f"{name} <&-"] = {"command": {**PRODUCTS, **FILES}[name], "stdin": "closed"}
    return out


CASES = cases()


@pytest.fixture(scope="module")
def outcome(trained, tmp_path_factory):
    """Every case run once, in one process forked per case: name -> its exit code, stdout, stderr."""
    place = tmp_path_factory.mktemp("streams")
    (place / "m.npz").write_bytes(trained.read_bytes())
    write(place / "t.txt", TEXT[:100])
    write(place / "g.txt", TEXT[:20] + "_" + TEXT[21:100])
    both = invoke(["train", place / "t.txt", "-c", place / "both.npz", *tiny(seq_len=4), "--bidirectional", "-q"])
    assert both.exit_code == 0, both.stderr
    write(place / "empty", "")
    write(place / "binary", bytes(range(128, 256)) * 8)
    (place / "full").symlink_to("/dev/full")
    runs = place / "runs"
    runs.mkdir()
    names = list(CASES)
    listed = []
    for i, name in enumerate(names):
        case = CASES[name]
        argv = shlex.split(case["command"].replace("OUT", f"out{i}"))
        listed.append({"argv": argv, "stdin": case.get("stdin", "empty"), "stdout": case.get("stdout")})
    (runs / "cases.json").write_text(json.dumps(listed))
    driver = Path(__file__).with_name("forked_script.py")
    done = subprocess.run(
        [sys.executable, driver, runs / "cases.json"], cwd=place, capture_output=True, timeout=60 * len(listed)
    )
    # each case dies of its own alarm after 60 s and fails as itself; this only guards the driver
    assert done.returncode == 0, done.stderr

    def result(name: str) -> SimpleNamespace:
        i = names.index(name)
        out = runs / f"{i}.out"
        return SimpleNamespace(
            returncode=int((runs / f"{i}.code").read_text()),
            stdout=out.read_text(encoding="utf-8") if out.exists() else "",
            stderr=(runs / f"{i}.err").read_text(encoding="utf-8"),
            written=sorted(p.name for p in place.glob(f"out{i}.*")),
            place=place,
        )

    return result


def not_a_bug(result) -> None:
    for bug in ("internal error", "please report", "Traceback", "Exception ignored"):
        assert bug not in result.stderr, result.stderr


@pytest.mark.parametrize("command", list(PRODUCTS))
@pytest.mark.parametrize("stdout", list(STDOUTS))
def test_a_product_that_cannot_be_written_is_an_error(outcome, command, stdout):
    result = outcome(f"{command} > {stdout}")
    assert_clean_error(result, 1, STDOUTS[stdout][1])
    assert "standard output" in result.stderr  # says where it could not write
    not_a_bug(result)


@pytest.mark.parametrize("command", list(PRODUCTS))
def test_a_product_whose_reader_has_gone_ends_quietly(outcome, command):
    """Every write fails with EPIPE (the reader left before anything was written): as for
    `sample | head`, the command stops with exit 0 and says nothing."""
    result = outcome(f"{command} | gone")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("command", list(FILES))
@pytest.mark.parametrize("stdout", ["full", "closed", "gone"])
def test_a_file_product_is_written_whatever_stdout_is(outcome, command, stdout):
    result = outcome(f"{command} > {stdout}")
    assert result.returncode == 0, result.stderr
    not_a_bug(result)
    assert "Error" not in result.stderr
    (written,) = result.written
    if command == "train":
        from charrnn import checkpoint

        checkpoint.load(result.place / written)  # a whole checkpoint
    else:
        assert (result.place / written).read_text(encoding="utf-8").rstrip().endswith("</html>")


@pytest.mark.parametrize("command", list(READERS))
@pytest.mark.parametrize("stdin", list(STDINS))
def test_a_text_that_stdin_does_not_hold_is_refused(outcome, command, stdin):
    result = outcome(f"{command} < {stdin}")
    assert_clean_error(result, 1, STDINS[stdin][1])
    not_a_bug(result)
    assert result.written == []  # no checkpoint of nothing


@pytest.mark.parametrize("command", ["sample", "inspect --json", "export"])
def test_a_command_that_reads_no_text_does_not_need_stdin(outcome, command):
    result = outcome(f"{command} <&-")
    assert result.returncode == 0, result.stderr
    assert result.stdout or result.written
