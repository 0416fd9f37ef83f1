"""Outputs never destroy inputs, and are whole: every file charrnn writes goes through charrnn/files/.

Library level: the writer refuses any file the command reads (by path, symbolic link, hard link or
open stream), replaces regular files atomically (a failure leaves the old file and no temporary
file), follows a symbolic link to the file it names, writes devices in place without ever renaming
over them, and replaces only the file the caller expected. Through the command line: `inspect
--html` and `train -c` obey the same rules. Devices are reached only through links in tmp_path.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from charrnn import files
from charrnn.errors import OutputError
from tests.cli_helpers import TEXT, assert_clean_error, invoke, run, script, tiny, write


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- the writer, at library level ---------------------------------------------------------------


@pytest.mark.parametrize("alias", ["same", "symlink", "hardlink", "relative"])
def test_a_file_the_command_reads_is_never_written(tmp_path, alias, monkeypatch):
    text = write(tmp_path / "text.txt", "precious")
    target = {
        "same": lambda: text,
        "symlink": lambda: (tmp_path / "link.txt").symlink_to(text) or tmp_path / "link.txt",
        "hardlink": lambda: os.link(text, tmp_path / "hard.txt") or tmp_path / "hard.txt",
        "relative": lambda: monkeypatch.chdir(tmp_path) or Path("sub/../text.txt"),
    }
    (tmp_path / "sub").mkdir()
    out = target[alias]()
    with files.command():
        files.reading(text)
        with pytest.raises(OutputError, match="reads") as e:
            files.write_text(out, "a page")
        assert e.value.kind == "input"
        with pytest.raises(OutputError, match="reads"):
            files.check_target(out)
        with pytest.raises(OutputError, match="reads"), files.appending(out):
            pass
    assert text.read_text() == "precious"
    with files.command():  # another command, which does not read it, may
        files.write_text(out, "a page")
    assert Path(out).read_text() == "a page"  # a hard link is replaced, as every atomic writer does


def test_a_stream_read_from_a_file_protects_that_file(tmp_path):
    text = write(tmp_path / "text.txt", "precious")
    with files.command(), open(text, "rb") as stdin:
        files.reading(stdin)
        with pytest.raises(OutputError, match="reads"):
            files.write_text(tmp_path / "text.txt", "a page")
    assert text.read_text() == "precious"


def test_the_updatable_input_may_be_updated_but_not_if_also_read_otherwise(tmp_path):
    ckpt = write(tmp_path / "m.npz", b"old")
    with files.command():
        files.reading(ckpt, updatable=True)
        files.write(ckpt, b"new")
    assert ckpt.read_bytes() == b"new"
    with files.command():
        files.reading(ckpt, updatable=True)
        files.reading(ckpt)  # also the corpus, say
        with pytest.raises(OutputError, match="reads"):
            files.write(ckpt, b"newer")
    assert ckpt.read_bytes() == b"new"


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    page = write(tmp_path / "page.html", "the previous page")

    def half_then_full(f):
        f.write(b"<html>half a page")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="No space left on device") as e:
        files.write(page, half_then_full)
    assert e.value.kind == "no-space" and "unchanged" in str(e.value)
    assert page.read_text() == "the previous page"
    assert entries(tmp_path) == ["page.html"]


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path):
    def interrupted(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write(tmp_path / "page.html", interrupted)
    assert entries(tmp_path) == []


def test_a_write_is_fsynced_renamed_and_keeps_the_mode_of_the_file_it_replaces(tmp_path, monkeypatch):
    page = write(tmp_path / "page.html", "old")
    page.chmod(0o640)
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: renamed.append((Path(a).parent, Path(b))) or real_replace(a, b))
    files.write_text(page, "new")
    assert page.read_text() == "new" and stat.S_IMODE(page.stat().st_mode) == 0o640
    assert renamed == [(tmp_path, page)]  # a temporary file beside it, renamed over it
    assert len(synced) == 2  # the file, then the directory


def test_a_symbolic_link_is_updated_through_and_stays_a_link(tmp_path):
    (tmp_path / "runs").mkdir()
    real = write(tmp_path / "runs" / "model.npz", b"old")
    link = tmp_path / "model.npz"
    link.symlink_to(Path("runs") / "model.npz")
    files.write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(Path("runs") / "model.npz")
    assert real.read_bytes() == b"new"
    assert entries(tmp_path) == ["model.npz", "runs"] and entries(tmp_path / "runs") == ["model.npz"]


def test_a_device_is_written_in_place_never_renamed_over(tmp_path):
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    assert files.write_text(null, "a page") is None  # written into the device, as `> /dev/null` does
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and null.is_symlink()
    with pytest.raises(OutputError, match="not a regular file") as e:
        files.write(null, b"a checkpoint", in_place=False)  # a checkpoint must be a file it can read back
    assert e.value.kind == "not-regular"
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert entries(tmp_path) == ["null"]


def test_a_full_device_is_an_error_not_a_lost_page(tmp_path):
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    with pytest.raises(OutputError, match="No space left on device"):
        files.write_text(full, "a page")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    for out in (tmp_path / "out", tmp_path / "link"):
        if out.name == "link":
            out.symlink_to(tmp_path / "out")
        with pytest.raises(OutputError, match="is a directory"):
            files.write_text(out, "a page")
    assert entries(tmp_path / "out") == []


def test_a_file_in_a_missing_or_non_directory_folder_is_refused_saying_which(tmp_path):
    (tmp_path / "plain").write_text("a file")
    with pytest.raises(OutputError, match="there is no directory .*missing"):
        files.write_text(tmp_path / "missing" / "page.html", "a page")
    with pytest.raises(OutputError, match="plain is not a directory"):
        files.write_text(tmp_path / "plain" / "page.html", "a page")
    assert not (tmp_path / "missing").exists() and (tmp_path / "plain").read_text() == "a file"


def test_a_new_file_refuses_one_that_appeared_and_an_update_refuses_a_replaced_one(tmp_path):
    path = tmp_path / "model.npz"
    ident = files.write(path, b"mine", files.NEW)
    with pytest.raises(OutputError, match="appeared") as e:
        files.write(path, b"mine again", files.NEW)
    assert e.value.kind == "appeared" and path.read_bytes() == b"mine"
    ident = files.write(path, b"mine, later", ident)  # the file it wrote: updated
    os.unlink(path)
    write(path, b"someone else's")
    with pytest.raises(OutputError, match="replaced") as e:
        files.write(path, b"mine, later still", ident)
    assert e.value.kind == "replaced" and path.read_bytes() == b"someone else's"
    assert entries(tmp_path) == ["model.npz"]


def test_a_log_is_appended_line_by_line_in_place(tmp_path):
    log = tmp_path / "train.jsonl"
    with files.appending(log) as out:
        out.line('{"step": 1}')
    inode = log.stat().st_ino
    with files.appending(log) as out:
        out.line('{"step": 2}\n')
    assert log.read_text() == '{"step": 1}\n{"step": 2}\n' and log.stat().st_ino == inode
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    with files.appending(full) as out, pytest.raises(OutputError, match="No space"):
        out.line("{}")


def test_a_log_whose_last_line_was_cut_short_gets_each_new_record_on_a_line_of_its_own(tmp_path):
    log = tmp_path / "train.jsonl"
    log.write_bytes(b'{"step": 1}\n{"step": 2, "val_b')  # a run killed mid-record
    with files.appending(log) as out:
        out.line('{"step": 3}')
        out.line('{"step": 4}')
    assert log.read_bytes().split(b"\n") == [b'{"step": 1}', b'{"step": 2, "val_b', b'{"step": 3}', b'{"step": 4}', b""]


def test_undecodable_file_names_are_shown_escaped_and_written_as_utf8(tmp_path):
    name = os.fsdecode(b"caf\xe9.html")  # Latin-1 on a UTF-8 system: the byte cannot be decoded
    assert files.display(name) == "caf\\xe9.html"
    files.write_text(tmp_path / name, f"<title>{name}</title>")
    assert (tmp_path / name).read_bytes() == b"<title>caf\\xe9.html</title>"
    (tmp_path / "sub").mkdir()
    with files.command():
        files.reading(tmp_path / name)
        with pytest.raises(OutputError) as e:
            files.write_text(tmp_path / name, "x")
    assert "caf\\xe9.html" in str(e.value)
    str(e.value).encode("utf-8")  # a message any UTF-8 output can carry


# -- through the command line -------------------------------------------------------------------


@pytest.fixture
def place(tmp_path, trained) -> tuple[Path, Path]:
    ckpt = tmp_path / "m.npz"
    ckpt.write_bytes(trained.read_bytes())
    return ckpt, write(tmp_path / "t.txt", TEXT[:200])


@pytest.mark.parametrize("victim", ["checkpoint", "text", "link to checkpoint", "hard link to text", "stdin"])
def test_inspect_never_writes_its_page_over_what_it_reads(place, victim):
    ckpt, text = place
    before = {p: p.read_bytes() for p in (ckpt, text)}
    link = ckpt.parent / "alias"
    if victim == "link to checkpoint":
        link.symlink_to(ckpt)
    if victim == "hard link to text":
        os.link(text, link)
    page = {"checkpoint": ckpt, "text": text, "stdin": text}.get(victim, link)
    text_arg = "-" if victim == "stdin" else text
    with open(text, "rb") as stdin:
        result = subprocess.run(
            [*script(), "inspect", "-c", ckpt, "score", text_arg, "--html", page],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert_clean_error(result, 1, "cannot write", "reads", "--html")
    assert {p: p.read_bytes() for p in (ckpt, text)} == before


def test_a_page_write_on_a_full_disk_leaves_the_previous_page(place):
    ckpt, text = place
    page = write(ckpt.parent / "page.html", "the previous page")

    def small_disk():  # files may grow to 4 KiB: the page does not fit, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [*script(), "inspect", "-c", ckpt, "score", text, "--html", page],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_disk,
    )
    assert_clean_error(result, 1, "cannot write", "unchanged", "--html")
    assert page.read_text() == "the previous page"
    assert entries(ckpt.parent) == ["m.npz", "page.html", "t.txt"]


def test_a_page_to_a_device_is_written_into_it(place):
    ckpt, text = place
    null, full = ckpt.parent / "null", ckpt.parent / "full"
    null.symlink_to(os.devnull)
    full.symlink_to("/dev/full")
    result = run(["inspect", "-c", ckpt, "score", text, "--html", null])
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and null.is_symlink()
    result = run(["inspect", "-c", ckpt, "score", text, "--html", full])
    assert_clean_error(result, 1, "No space left on device", "--html")


def test_a_symlinked_checkpoint_is_updated_through_the_link(tmp_path, trained):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "m.npz"
    real.write_bytes(trained.read_bytes())
    link = tmp_path / "m.npz"
    link.symlink_to(real)
    result = invoke(["train", corpus, "-c", link, *tiny(max_steps=15), "--resume", "-q"])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() != trained.read_bytes()
    assert entries(tmp_path / "runs") == ["m.npz"]


def test_a_checkpoint_path_naming_a_device_is_refused(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    for flags in ([], ["--force"]):
        assert_clean_error(invoke(["train", corpus, "-c", null, *tiny(), *flags]), 1, "not a regular file", "-c")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_new_run_never_overwrites_a_checkpoint_that_appeared_while_it_read(tmp_path, trained):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    path = tmp_path / "x.npz"
    slow = subprocess.Popen(  # waits on its standard input for its corpus
        [*script(), "train", "-", "-c", path, *tiny(), "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # it has checked that there is no checkpoint yet
        assert slow.poll() is None
        other = run(["train", corpus, "-c", path, *tiny(), "-q"])
        assert other.returncode == 0, other.stderr
        finished = path.read_bytes()
        out, err = slow.communicate(TEXT, timeout=60)
    finally:
        if slow.poll() is None:
            slow.kill()
    result = subprocess.CompletedProcess(slow.args, slow.returncode, out, err)
    assert_clean_error(result, 1, "appeared", "-c")
    assert path.read_bytes() == finished
    assert [p for p in entries(tmp_path) if p.endswith(".tmp")] == []


@pytest.mark.skipif(sys.platform != "linux", reason="Linux file names are bytes")
def test_an_undecodable_page_name_is_written_and_named_escaped(place):
    ckpt, text = place
    page = os.fsdecode(bytes(ckpt.parent) + b"/caf\xe9.html")
    result = subprocess.run(
        [os.fsencode(a) for a in [*script(), "inspect", "-c", ckpt, "score", text, "--html", page]],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert b"caf\\xe9.html" in result.stderr and b"Error" not in result.stderr
    assert os.path.exists(os.fsencode(page))


def _clashes(d: Path, old: Path) -> dict:
    """train's and export's arguments where an output names an input or another output, each
    with the option that must be blamed and the files that must be left exactly as they were."""
    corpus = d / "corpus.txt"
    (d / "hard.npz").hardlink_to(old)
    (d / "link.txt").symlink_to(corpus)
    train = ["train", corpus, *tiny()]
    return {
        "-c is --init-from": ([*train, "--init-from", old, "-c", old, "--force"], "-c", [old]),
        "-c is --init-from by a hard link": (
            [*train, "--init-from", d / "hard.npz", "-c", old, "--force"],
            "-c",
            [old],
        ),
        "-c is the corpus by a link": ([*train, "-c", d / "link.txt", "--force"], "-c", [corpus]),
        "--log is a new -c": ([*train, "-c", d / "new.npz", "--log", d / "new.npz"], "--log", []),
        "--log is the -c resumed": ([*train, "-c", old, "--resume", "--log", old], "--log", [old]),
        "--log is the -c replaced": ([*train, "-c", old, "--force", "--log", d / "hard.npz"], "--log", [old]),
        "--log is the corpus": ([*train, "-c", d / "new.npz", "--log", corpus], "--log", [corpus]),
        "--log is --init-from": ([*train, "--init-from", old, "-c", d / "new.npz", "--log", old], "--log", [old]),
        "export's page is -c": (["export", "-c", old, d / "hard.npz"], "OUT.html", [old]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "-c is --init-from",
        "-c is --init-from by a hard link",
        "-c is the corpus by a link",
        "--log is a new -c",
        "--log is the -c resumed",
        "--log is the -c replaced",
        "--log is the corpus",
        "--log is --init-from",
        "export's page is -c",
    ],
)
def test_an_output_naming_an_input_or_another_output_is_refused_before_any_work(tmp_path, trained, case):
    write(tmp_path / "corpus.txt", TEXT)
    old = tmp_path / "old.npz"
    old.write_bytes(trained.read_bytes())
    args, blamed, kept = _clashes(tmp_path, old)[case]
    before = {p: p.read_bytes() for p in kept}
    result = invoke(args)
    line = assert_clean_error(result, 2, f"{blamed} ", "itself", f"choose another file for {blamed}")
    assert "Training" not in result.stderr and "step" not in line
    assert {p: p.read_bytes() for p in kept} == before
    assert not (tmp_path / "new.npz").exists()
