"""The standard streams and the environment: a full or closed stdout, a closed stdin, a checkpoint
name with a colon in CHARRNN_CHECKPOINT, file names that are not UTF-8, UTF-16 without a BOM.

Each case runs the real console script (the streams are made safe in its entry point,
cli/streams.py): one clean error line and a non-zero exit, or the right result; never "internal
error", never exit 0 having written nothing. /dev/full is reached only through a link in tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli_helpers import TEXT, assert_clean_error, run, script, tiny, write


def shell(command: str, cwd, **env) -> subprocess.CompletedProcess:
    """Run a bash command line (for its redirections) with charrnn as $CHARRNN."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHARRNN": " ".join(script()), **env},
    )


PRODUCTS = {  # commands whose whole point is what they write to stdout
    "inspect --json": "inspect -c m.npz --json",
    "inspect": "inspect -c m.npz",
    "score": "inspect score t.txt -c m.npz",
    "score --json": "inspect score t.txt -c m.npz --json",
    "sample": "sample -c m.npz -n 20 --seed 1",
    "help": "--help",
}


@pytest.fixture
def place(tmp_path, trained):
    (tmp_path / "m.npz").write_bytes(trained.read_bytes())
    write(tmp_path / "t.txt", TEXT[:100])
    (tmp_path / "full").symlink_to("/dev/full")
    return tmp_path


@pytest.mark.parametrize("command", list(PRODUCTS))
@pytest.mark.parametrize("stdout, reason", [("> full", "No space left on device"), (">&-", "closed")])
def test_a_product_that_cannot_be_written_is_an_error(place, command, stdout, reason):
    result = shell(f"$CHARRNN {PRODUCTS[command]} {stdout}", place)
    assert_clean_error(result, 1, reason)
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("command", ["train - -c new.npz", "inspect score - -c m.npz"])
def test_a_closed_stdin_is_said_to_be_closed(place, command):
    result = shell(f"$CHARRNN {command} {' '.join(tiny()) if 'train' in command else ''} <&-", place)
    assert_clean_error(result, 1, "standard input is closed")
    assert not (place / "new.npz").exists()


def test_a_closed_stdout_never_lets_a_file_take_its_place(place):
    """With descriptor 1 closed, the checkpoint file opened next must not become the stdout."""
    result = shell(f"$CHARRNN train t.txt -c new.npz {' '.join(tiny(seq_len=4))} >&-", place)
    assert result.returncode == 0, result.stderr
    from charrnn import checkpoint

    checkpoint.load(place / "new.npz")  # a whole checkpoint, with nothing printed into it


def test_a_checkpoint_name_with_a_colon_in_the_environment_is_one_file(place):
    (place / "run-12:30.npz").write_bytes((place / "m.npz").read_bytes())
    for command in (["inspect", "--json"], ["inspect", "gradients", place / "t.txt", "--span", "5", "--json"]):
        result = run(command, env={**os.environ, "CHARRNN_CHECKPOINT": "run-12:30.npz"}, cwd=place)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        names = [m["checkpoint"] for m in out["models"]] if "models" in out else [out["checkpoint"]]
        assert names == ["run-12:30.npz"]


@pytest.mark.skipif(sys.platform != "linux", reason="Linux file names are bytes")
def test_file_names_that_are_not_utf8_are_shown_escaped(place):
    name = b"caf\xe9"
    os.rename(place / "t.txt", os.path.join(bytes(place), name + b".txt"))
    missing = subprocess.run(
        [*map(os.fsencode, script()), b"inspect", b"-c", name + b".npz"], cwd=place, capture_output=True
    )
    assert missing.returncode == 1 and missing.stderr == b"Error: no checkpoint at caf\\xe9.npz; " + (
        b"train one with `charrnn train CORPUS` or pass -c PATH\n"
    )
    args = [b"inspect", b"score", name + b".txt", b"-c", b"m.npz", b"--json", b"--html", name + b".html"]
    scored = subprocess.run([*map(os.fsencode, script()), *args], cwd=place, capture_output=True)
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["text"] == "caf\\xe9.txt"  # valid JSON, the name escaped
    assert b"wrote caf\\xe9.html" in scored.stderr and b"encode" not in scored.stderr
    page = (place / os.fsdecode(name + b".html")).read_bytes()
    page.decode("utf-8")  # the page is UTF-8 throughout
    assert b"caf\\xe9.txt" in page


def test_utf16_without_a_byte_order_mark_names_the_byte_orders(place, tmp_path):
    text = write(tmp_path / "u16.txt", TEXT[:60].encode("utf-16-le"))
    for decode in ([], ["--decode-errors", "replace"]):
        result = run(["inspect", "score", text, "-c", place / "m.npz", "--encoding", "utf-16", *decode])
        assert_clean_error(result, 1, "byte-order mark", "utf-16-le", "utf-16-be")
    ok = run(["inspect", "score", text, "-c", place / "m.npz", "--encoding", "utf-16-le", "--json"])
    assert ok.returncode == 0 and json.loads(ok.stdout)["score"]["chars"] == 59
    train = run(["train", text, "-c", tmp_path / "x.npz", *tiny(), "--encoding", "utf-16"])
    assert_clean_error(train, 1, "byte-order mark")
