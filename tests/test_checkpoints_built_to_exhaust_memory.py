"""A checkpoint built to exhaust memory is refused before it can cost any, in one short line.

Files built to hurt: a member that decompresses to 512 MiB, metadata claiming a million layers or
a huge hidden size, an array header claiming a huge shape, a metadata member of half a gigabyte.
Each is refused by the library (CheckpointError) and by every command, and the peak memory of a
process loading one is measured with resource.getrusage in a subprocess: under 100 MB (a good
small checkpoint costs about as much). Damaged and foreign checkpoints, and values that are not
finite: tests/test_bad_checkpoints.py.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from charrnn import checkpoint as ckpt_io
from charrnn.errors import CheckpointError
from tests.cli_helpers import checkpoint_arrays, checkpoint_meta, script
from tests.factories import ERROR_LINE_MAX, save_checkpoint

PEAK_MAX_MB = 100


def npy_header(dtype: str, shape: tuple) -> bytes:
    """A version 1.0 .npy header, padded as numpy pads it."""
    head = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    pad = 64 - (10 + len(head) + 1) % 64
    return b"\x93NUMPY\x01\x00" + (len(head) + pad + 1).to_bytes(2, "little") + head + b" " * pad + b"\n"


def zeros_member(z: zipfile.ZipFile, name: str, header: bytes, n_bytes: int) -> None:
    """A deflated member of `header` then n_bytes of zeros, written in chunks (it compresses ~1000:1)."""
    chunk = bytes(1 << 24)
    with z.open(name, "w", force_zip64=True) as f:
        f.write(header)
        for at in range(0, n_bytes, len(chunk)):
            f.write(chunk[: min(len(chunk), n_bytes - at)])


def built(kind: str, trained: Path, path: Path) -> Path:
    arrays, meta = checkpoint_arrays(trained), checkpoint_meta(trained)
    if kind == "extra member of 512 MiB":
        save_checkpoint(path, arrays, meta)
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
            zeros_member(z, "extra.npy", npy_header("<f4", (1 << 27,)), 1 << 29)
    elif kind == "a weight of 512 MiB":  # a member the format defines, declared far larger than its shape
        del arrays["decoder.bias"]
        save_checkpoint(path, arrays, meta)
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
            zeros_member(z, "decoder.bias.npy", npy_header("<f4", (1 << 27,)), 1 << 29)
    elif kind == "metadata of 512 MiB":
        np.savez(path, **arrays)
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
            zeros_member(z, "meta.npy", npy_header("<U134217728", ()), 1 << 29)
    elif kind in ("a million layers", "ten million layers"):
        meta["model"]["num_layers"] = 10**6 if kind == "a million layers" else 10**7
        save_checkpoint(path, arrays, meta)
    elif kind == "a huge hidden size":
        meta["model"]["hidden_size"] = 10**17
        save_checkpoint(path, arrays, meta)
    elif kind == "a huge batch in the training state":
        meta["train"]["batch_size"] = 10**12
        save_checkpoint(path, arrays, meta)
    elif kind == "a huge vocabulary":
        meta["vocab"] = [chr(c) for c in range(0x4E00, 0x4E00 + 20000)]
        save_checkpoint(path, arrays, meta)
    elif kind == "a long version string":
        meta.update(format_version=10**6, charrnn_version="9" * 10**5)
        save_checkpoint(path, arrays, meta)
    elif kind == "many unknown fields":
        meta["model"].update({f"field{i}": i for i in range(2 * 10**4)})
        save_checkpoint(path, arrays, meta)
    else:
        raise AssertionError(kind)
    return path


HOSTILE = {
    "extra member of 512 MiB": None,  # never read: the file loads
    "a weight of 512 MiB": "decoder.bias",
    "metadata of 512 MiB": "metadata",
    "a million layers": "1,000,000 layers",
    "ten million layers": "10,000,000 layers",
    "a huge hidden size": "shape",
    "a huge batch in the training state": "train.state",
    "a huge vocabulary": "shape",
    "a long version string": "upgrade charrnn",
    "many unknown fields": "unknown ModelConfig fields",
}


@pytest.fixture(scope="module")
def files(trained, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostile")
    return {kind: built(kind, trained, d / f"{kind.replace(' ', '_')}.npz") for kind in HOSTILE}


PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def run_measured(args: list) -> tuple[int, str, int]:
    """Run a command in a subprocess; its exit code, stderr and peak resident memory in MB.

    Measured from a small parent process: Linux carries a process's peak over into a child that
    it forks and execs, so a child of this (large) test process would report the tests' peak.
    """
    out = subprocess.run(
        [sys.executable, "-c", PEAK, *map(str, args)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    *stderr, last = out.rstrip("\n").split("\n")
    code, peak = map(int, last.split())
    return code, "\n".join(stderr), peak


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_the_library_refuses_a_hostile_checkpoint_in_one_short_line(files, kind):
    path = files[kind]
    assert path.stat().st_size < 2_000_000  # small files, whatever they claim
    if HOSTILE[kind] is None:
        ckpt_io.load(path)
        return
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(path)
    message = str(e.value)
    assert HOSTILE[kind] in message and "\n" not in message and len(message) < ERROR_LINE_MAX, message[:500]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_loading_a_hostile_checkpoint_costs_little_memory(files, kind):
    load = "import sys\nfrom charrnn import checkpoint\ntry:\n    checkpoint.load(sys.argv[1])\nexcept checkpoint.CheckpointError:\n    sys.exit(1)"
    code, stderr, peak = run_measured([sys.executable, "-c", load, files[kind]])
    assert code == (0 if HOSTILE[kind] is None else 1), stderr[-2000:]
    assert peak < PEAK_MAX_MB, f"peak {peak} MB"


@pytest.mark.parametrize("kind", ["extra member of 512 MiB", "a weight of 512 MiB", "a million layers"])
@pytest.mark.parametrize("command", [["inspect"], ["inspect", "--json"], ["sample", "-n", "5"]])
def test_every_command_refuses_a_hostile_checkpoint_cheaply(files, kind, command):
    code, stderr, peak = run_measured([*script(), *command, "-c", files[kind]])
    assert peak < PEAK_MAX_MB, f"peak {peak} MB"
    if HOSTILE[kind] is None:
        assert code == 0, stderr
        return
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), stderr[:500]
    assert HOSTILE[kind] in lines[0] and len(lines[0]) < ERROR_LINE_MAX
