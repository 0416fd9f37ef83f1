"""Training on several workers runs real MPI jobs (mpiexec -n 2 and -n 3, oversubscribed on a small
machine) and trains exactly the model one process trains: the same losses and, to float32
rounding, the same weights; from a file or standard input; resumed across worker counts; stopped
by Ctrl-C on every worker after the same step; ended within seconds, checkpoint intact, when a
worker or the launcher is killed; never started with more workers than the machine can run. They skip only where the `mpi` extra (mpi4py, mpich) is not installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from charrnn.cli.train import ranks, workers
from charrnn.training import parallel
from tests import cli_helpers as cli

needs_mpi = pytest.mark.skipif(
    not workers.mpi_installed(),
    reason="the mpi extra is not installed (pip install -e '.[mpi]'): no MPI job can run",
)
# --workers 2 starts no more workers than the machine has cores (mpiexec -n oversubscribes at will)
needs_two_cores = pytest.mark.skipif(parallel.cores() < 2, reason="--workers 2 needs two cores")

# two layers so that dropout acts; six streams divide over 1, 2 and 3 workers, five do not
SMALL = cli.tiny(hidden_size=12, layers=2, batch_size=6, seq_len=8, max_steps=20, eval_every=10, sample_length=0)
LONG = cli.tiny(hidden_size=48, layers=2, batch_size=6, seq_len=16, max_steps=100000, eval_every=5, sample_length=0)


def mpiexec(n: int, args: list, cwd: Path, input: str | None = None, timeout: float = 120):
    cmd = [workers._mpiexec(), "-n", str(n), sys.executable, "-m", "charrnn", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout)


def trained(tmp_path: Path, n: int, name: str, *extra, corpus: str = "corpus.txt", input=None) -> Path:
    ckpt = tmp_path / name
    if n == 1:
        result = cli.invoke(["train", tmp_path / corpus, "-c", ckpt, *SMALL, *extra, "--workers", "1"], input=input)
        assert result.exit_code == 0, result.stderr
    else:
        result = mpiexec(n, ["train", corpus, "-c", name, *SMALL, *extra], tmp_path, input=input)
        assert result.returncode == 0, result.stderr
        assert f"{n} workers" in result.stderr and "Traceback" not in result.stderr
    return ckpt


def losses(path: Path) -> np.ndarray:
    p = cli.checkpoint_meta(path)["progress"]
    return np.array([p["smooth_loss"], *(h[k] for h in p["history"] for k in ("train_loss", "val_loss"))])


def assert_same_model(a: Path, b: Path) -> None:
    la, lb = losses(a), losses(b)
    assert len(la) == len(lb) and np.all(np.abs(la - lb) <= 1e-5 * np.abs(la)), (la, lb)
    x, y = cli.checkpoint_arrays(a), cli.checkpoint_arrays(b)
    assert x.keys() == y.keys()
    for k in x:
        if k.startswith("optim.v."):  # Adam's second moments: squares of gradients near zero
            continue
        assert x[k].shape == y[k].shape, k
        np.testing.assert_allclose(x[k], y[k], rtol=2e-5, atol=2e-6, err_msg=k)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    cli.write(tmp_path / "corpus.txt", cli.TEXT)
    return tmp_path / "corpus.txt"


@needs_mpi
@pytest.mark.parametrize("dropout", ["0", "0.3"])
def test_one_two_and_three_workers_train_the_same_model(tmp_path, corpus, dropout):
    # seed 1: from the LSTM's uniform start of seed 0, three workers' float32 sums put one weight
    # of 1,440 (of a rare character's column) at 1.06 times the tolerance after 20 steps, against
    # 0.09 and 0.02 of it for seeds 1 and 2: the summation order, amplified where a gradient cancels
    seed = ("--seed", "1")
    one = trained(tmp_path, 1, "one.npz", "--dropout", dropout, *seed)
    assert_same_model(one, trained(tmp_path, 2, "two.npz", "--dropout", dropout, *seed))
    assert_same_model(one, trained(tmp_path, 3, "three.npz", "--dropout", dropout, *seed))


@needs_mpi
def test_a_batch_that_does_not_divide_is_split_unevenly_with_the_right_weights(tmp_path, corpus):
    one = trained(tmp_path, 1, "one.npz", "--batch-size", "5")
    assert_same_model(one, trained(tmp_path, 3, "three.npz", "--batch-size", "5"))


@needs_mpi
def test_the_corpus_can_come_from_standard_input(tmp_path, corpus):
    piped = trained(tmp_path, 2, "piped.npz", corpus="-", input=cli.TEXT)
    assert cli.checkpoint_meta(piped)["progress"]["corpus"]["name"] == "<stdin>"
    assert_same_model(trained(tmp_path, 1, "file.npz"), piped)


@needs_mpi
def test_resume_continues_exactly_across_worker_counts(tmp_path, corpus):
    # the step limit is raised at each resumption: the cosine is given its own length, which stays
    every = ["--eval-every", "5", "--cosine-steps", "20"]
    straight = trained(tmp_path, 1, "straight.npz", *every)
    trained(tmp_path, 2, "run.npz", *every, "--max-steps", "10")
    trained(tmp_path, 1, "run.npz", *every, "--max-steps", "15", "--resume")
    resumed = trained(tmp_path, 3, "run.npz", *every, "--resume")
    assert cli.checkpoint_meta(resumed)["progress"]["step"] == 20
    assert_same_model(straight, resumed)


@needs_two_cores
@needs_mpi
def test_the_launcher_runs_the_same_job_as_mpiexec(tmp_path, corpus):
    given = ["train", corpus, "-c", tmp_path / "launched.npz", *SMALL, "--workers", "2", "--max-time", "5m"]
    result = cli.invoke(given)
    assert result.exit_code == 0, result.stderr
    assert "2 workers, 3 streams each" in result.stderr and "BAD TERMINATION" not in result.stdout + result.stderr
    assert_same_model(trained(tmp_path, 2, "mpi.npz"), tmp_path / "launched.npz")


@needs_mpi
def test_workers_on_a_time_limit_alone_validate_by_measured_time_and_decay_together(tmp_path, corpus):
    """No step limit and no --eval-every: each worker's clock decides nothing alone (a worker that
    validated while another stepped would leave the job in two different collectives)."""
    timed = [a for a in SMALL]
    for flag in ("--max-steps", "--eval-every"):
        del timed[timed.index(flag) : timed.index(flag) + 2]
    timed += ["--lr-schedule", "cosine", "--max-time", "3s", "--patience", "100000"]  # no early stop: the time runs out
    result = mpiexec(2, ["train", corpus, "-c", "timed.npz", *timed], tmp_path)
    assert result.returncode == 0, result.stderr
    meta = cli.checkpoint_meta(tmp_path / "timed.npz")
    history, train = meta["progress"]["history"], meta["train"]
    assert train["max_steps"] is None and train["eval_every"] is None and history
    assert history[-1]["step"] == meta["progress"]["step"] > 1  # validated at the end
    # the time is up: the rate is near its floor (at the mean of the workers' clocks at the last step)
    floor = train["lr"] * train["min_lr_ratio"]
    assert floor <= history[-1]["lr"] < floor + 0.1 * (train["lr"] - floor)


def start(tmp_path: Path, cmd: list) -> subprocess.Popen:
    """Start a long training run and return once its first checkpoint is saved."""
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (tmp_path / "long.npz").exists():  # a first validation saved: training is under way
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


@needs_two_cores
@needs_mpi
@pytest.mark.parametrize("how", ["mpiexec", "launcher"])
def test_ctrl_c_stops_every_worker_after_the_same_step_and_saves(tmp_path, corpus, how):
    if how == "mpiexec":
        cmd = [workers._mpiexec(), "-n", "2", sys.executable, "-m", "charrnn", "train", "corpus.txt", "-c", "long.npz"]
    else:
        cmd = [*cli.script(), "train", "corpus.txt", "-c", "long.npz", "--workers", "2"]
    proc = start(tmp_path, [*cmd, *LONG])
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.count("Interrupted at step") == 1
    step = int(err.split("Interrupted at step ")[1].split(":")[0].replace(",", ""))
    meta = cli.checkpoint_meta(tmp_path / "long.npz")
    assert meta["progress"]["step"] == step  # the carried state was gathered from both workers
    assert cli.checkpoint_arrays(tmp_path / "long.npz")["train.state"].shape[2] == 6
    if how == "launcher":
        assert out == "" and "[mpiexec" not in err


def rank_pid(parent: int, rank: int) -> int:
    """The pid of MPI rank `rank` among parent's descendants."""
    for _ in range(100):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                ancestors, pid = [], int(entry.name)
                while pid > 1:
                    pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    ancestors.append(pid)
            except (OSError, ValueError, IndexError):
                continue
            if parent in ancestors and f"PMI_RANK={rank}".encode() in environ:
                return int(entry.name)
        time.sleep(0.1)
    raise AssertionError(f"no rank {rank} under {parent}")


@needs_two_cores
@needs_mpi
def test_a_killed_worker_ends_the_job_with_one_line_and_the_checkpoint_intact(tmp_path, corpus):
    proc = start(tmp_path, [*cli.script(), "train", "corpus.txt", "-c", "long.npz", "--workers", "2", *LONG])
    os.kill(rank_pid(proc.pid, 1), signal.SIGKILL)
    killed = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - killed < 15
    line = cli.assert_clean_error(subprocess.CompletedProcess([], proc.returncode, out, err), 1, "a worker")
    # mpiexec's report, or rank 0's MPI library, whichever notices first, says what happened
    assert "was killed by SIGKILL" in line or "stopped answering (MPI: " in line, line
    assert "long.npz holds the weights saved at step" in line and "BAD TERMINATION" not in err
    assert "Abort(" not in err and "Fatal error" not in err
    meta = cli.checkpoint_meta(tmp_path / "long.npz")  # loads: the file is whole
    assert meta["progress"]["step"] >= 5 and meta["progress"]["step"] % 5 == 0


@needs_mpi
def test_divergence_stops_every_worker_at_the_same_step(tmp_path, corpus):
    result = mpiexec(2, ["train", "corpus.txt", "-c", "x.npz", *SMALL, "--lr", "1e6", "--grad-clip", "0"], tmp_path)
    cli.assert_clean_error(result, 1, "loss")
    assert "worker" not in result.stderr.lower().split("error:")[1]


@needs_mpi
def test_more_workers_than_streams_is_refused_in_one_line(tmp_path, corpus):
    result = mpiexec(3, ["train", "corpus.txt", "-c", "x.npz", *SMALL, "--batch-size", "2"], tmp_path)
    cli.assert_clean_error(result, 2, "batch size 2", "3 workers")
    assert not (tmp_path / "x.npz").exists()


@needs_mpi
def test_an_error_on_rank_0_before_training_ends_every_worker(tmp_path, corpus):
    cli.write(tmp_path / "x.npz", "not a checkpoint")
    result = mpiexec(2, ["train", "corpus.txt", "-c", "x.npz", *SMALL], tmp_path)
    cli.assert_clean_error(result, 1, "not a charrnn checkpoint")
    assert (tmp_path / "x.npz").read_text() == "not a checkpoint"


def test_workers_without_the_mpi_extra_is_one_clear_line(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr(workers, "mpi_installed", lambda: False)
    result = cli.invoke(["train", corpus, "-c", tmp_path / "x.npz", *SMALL, "--workers", "2"])
    cli.assert_clean_error(result, 2, "--workers 2 needs MPI", "pip install 'charrnn[mpi]'")
    monkeypatch.undo()
    result = cli.invoke(["train", corpus, "-c", tmp_path / "x.npz", *SMALL])  # the default: one process
    assert result.exit_code == 0 and " workers" not in result.stderr


def test_an_mpiexec_that_cannot_start_is_one_clear_line(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr(workers, "mpi_installed", lambda: True)
    monkeypatch.setattr(workers, "_mpiexec", lambda: str(tmp_path / "no-mpiexec"))
    result = cli.invoke(["train", corpus, "-c", tmp_path / "x.npz", *SMALL, "--workers", "2"])
    cli.assert_clean_error(result, 1, "cannot start", "no-mpiexec")


def test_started_by_mpiexec_without_mpi4py_is_one_clear_line(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    result = cli.invoke(["train", corpus, "-c", tmp_path / "x.npz", *SMALL])
    cli.assert_clean_error(result, 1, "mpi4py is not installed", "charrnn[mpi]")


def test_auto_gives_each_core_a_worker_with_enough_streams(monkeypatch):
    from charrnn.training import parallel

    monkeypatch.setattr(parallel, "cores", lambda: 4)
    monkeypatch.setattr(workers, "mpi_installed", lambda: True)  # what auto means with the extra
    assert workers.count("auto", 32) == 4
    assert workers.count("auto", 16) == 2  # eight streams each at least
    assert workers.count("auto", 4) == 1
    monkeypatch.setattr(workers, "mpi_installed", lambda: False)
    assert workers.count("auto", 32) == 1  # without the extra, one process as before


def test_a_bad_number_of_workers_is_a_usage_error(tmp_path, corpus):
    for bad in ("0", "two"):
        cli.assert_clean_error(
            cli.invoke(["train", corpus, "-c", tmp_path / "x.npz", "--workers", bad]), 2, "--workers"
        )


def test_a_worker_started_by_mpiexec_shares_the_cores_among_the_hosts_workers():
    """Each of two workers on this host runs its BLAS on half the cores, unless told otherwise:
    charrnn's main() shares them out before NumPy loads (importing charrnn.cli changes nothing)."""
    probe = (
        "import os, sys, charrnn.cli; sys.argv = ['charrnn', '--version']\n"
        "try:\n    charrnn.cli.main()\nexcept SystemExit:\n    pass\n"
        "import numpy, threadpoolctl; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], "
        "[i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in workers.THREAD_VARIABLES}
    env.update(PMI_SIZE="2", PMI_RANK="1", MPI_LOCALNRANKS="2")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    assert out.stdout.splitlines()[-1].split(None, 1) == [str(share), f"[{share}]"]  # after --version's line
    env["OPENBLAS_NUM_THREADS"] = "3"  # the user's choice stands
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1].split(None, 1)[0] == "3"


@needs_mpi
def test_an_mpi_error_on_rank_0_is_one_line_naming_the_lost_worker_and_the_checkpoint(trained, capsys):
    """MPI may report a killed peer to rank 0 as an error of its Allreduce instead of a fatal stack."""
    from mpi4py import MPI

    class Comm:
        rank, size, distributed, aborted = 0, 2, True, None

        def abort(self, code):
            self.aborted = code

    comm = Comm()
    with ranks.ending_together(comm, trained):
        raise MPI.Exception(MPI.ERR_OTHER)
    line = capsys.readouterr().err.strip()
    assert line.startswith("Error: a worker stopped answering (MPI: ") and "\n" not in line
    assert f"{trained} holds the weights saved at step" in line and comm.aborted == 1


def _descendants(pid: int) -> list[int]:
    """Every process under `pid` (mpiexec, its proxies, the workers), from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if entry.name.isdigit():
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:  # a zombie has ended: only its parent (init, here) has yet to reap it
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_two_cores
@needs_mpi
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the job's processes in /proc")
def test_a_killed_launcher_ends_its_job_within_seconds_and_the_checkpoint_loads(tmp_path, corpus):
    """No validation falls due (so nothing is saved) before the workers stop: the checkpoint that
    loads afterwards is the one they saved on noticing that their launcher had gone."""
    from charrnn import checkpoint as ckpt_io

    # quiet: a job with nothing to say never writes to the launcher's closed pipes, which may end it;
    # -q still says a warning, so the corpus and the split are large enough to warrant none
    (tmp_path / "corpus.txt").write_text(cli.TEXT * 10)
    never = cli.tiny(hidden_size=48, layers=2, batch_size=6, seq_len=16, max_steps=10**6, eval_every=10**6)
    never += ["--val-fraction", "0.5"]
    cmd = [
        *cli.script(),
        "train",
        "corpus.txt",
        "-c",
        "long.npz",
        "--workers",
        "2",
        *never,
        "-q",
        "--sample-length",
        "0",
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job = []
    try:
        job = [rank_pid(proc.pid, 0), rank_pid(proc.pid, 1), *_descendants(proc.pid)]
        time.sleep(1)  # into the training
        proc.kill()  # SIGKILL: the launcher can do nothing about it
        proc.wait()
        killed = time.monotonic()
        while any(map(_running, job)) and time.monotonic() - killed < 30:
            time.sleep(0.1)
        assert not any(map(_running, job)), "the job outlived its launcher"
        assert time.monotonic() - killed < 15
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in filter(_running, job):  # this test's own processes, by their ids
            os.kill(pid, signal.SIGKILL)
    assert ckpt_io.load(tmp_path / "long.npz").progress["step"] >= 1  # whole, and saved at the stop


@pytest.mark.parametrize("short_of", ["cores", "memory"])
def test_more_workers_than_this_machine_can_run_is_refused_before_any_process_starts(
    tmp_path, corpus, monkeypatch, short_of
):
    from charrnn import budget

    def no_process(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(workers, "mpi_installed", lambda: True)
    monkeypatch.setattr(workers.subprocess, "Popen", no_process)
    monkeypatch.setattr(parallel, "cores", lambda: 4)
    memory = 4 * workers.WORKER_BYTES - 1 if short_of == "memory" else budget.memory_total()
    n = "1000000" if short_of == "cores" else "4"
    args = ["train", corpus, "-c", tmp_path / "x.npz", *SMALL, "--batch-size", "2000000", "--workers", n]
    with budget.memory_planned_for(memory):
        result = cli.invoke(args)
    line = cli.assert_clean_error(result, 2, f"--workers {n}", short_of, "mpiexec", "hostfile")
    assert ("4 cores" in line) == (short_of == "cores")
    assert not (tmp_path / "x.npz").exists()
