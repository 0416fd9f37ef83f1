"""Data parallelism: one process, or many under MPI, behind one small communicator.

A communicator says which of the batch's B streams are this worker's own and sums what the
workers computed. `Solo` is the form for one process: every stream is its own and every sum is
the number it was given, so single-process training runs exactly the code it always did.
`World` wraps mpi4py's COMM_WORLD for a job started by `mpiexec -n N`: worker r takes the
contiguous streams B r / N .. B (r + 1) / N, so a batch that does not divide evenly is split
unevenly, and each worker's share of the mean is weighted by its number of streams.

mpi4py is imported only when the process was started as one of several MPI processes; without
the `mpi` extra nothing here needs it. Importing this module imports neither mpi4py nor NumPy, so
that a worker can choose its BLAS threads first.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from charrnn.config import MIN_STREAMS
from charrnn.errors import ParallelError

if TYPE_CHECKING:  # NumPy is imported only once the process's BLAS threads are chosen
    import numpy as np

    from charrnn.data.corpus import Corpus

# what MPICH, Intel MPI and Open MPI put in each process's environment (all the workers' variables:
# docs/parallel.md, "The environment the workers read")
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
LOCAL_SIZE_VARIABLES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")


def _first_int(names: tuple[str, ...], default: int) -> int:
    for name in names:
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            continue
    return default


def under_mpi() -> bool:
    """Whether mpiexec started this process (perhaps as its only one)."""
    return any(name in os.environ for name in SIZE_VARIABLES)


def launched_size() -> int:
    """How many processes mpiexec started this one among (1 when it was not started by MPI)."""
    return _first_int(SIZE_VARIABLES, 1)


def local_size() -> int:
    """How many of the job's processes run on this host."""
    return _first_int(LOCAL_SIZE_VARIABLES, launched_size())


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def auto_workers(batch_size: int) -> int:
    """What auto means: one worker per core, as long as each keeps MIN_STREAMS streams. Fewer
    streams per worker leave each step's products too small for the split to pay
    (benchmarks/scaling.py measures the step time against the streams per worker)."""
    return max(1, min(cores(), batch_size // MIN_STREAMS))


def split_rows(batch: int, size: int, rank: int) -> slice:
    """Worker `rank`'s streams of `batch`: contiguous, and as even as integers allow."""
    return slice(rank * batch // size, (rank + 1) * batch // size)


class Solo:
    """One process: it owns every stream, and a sum over one worker is what it was given."""

    rank, size, distributed = 0, 1, False

    def rows(self, batch: int) -> slice:
        return slice(0, batch)

    def sum_(self, buf: np.ndarray) -> np.ndarray:
        return buf

    def share(self, obj):
        return obj

    def gather(self, obj) -> list:
        return [obj]


class World:
    """The MPI job: rank 0 reads, prints and saves; every rank computes its own streams."""

    distributed = True

    def __init__(self, comm=None):
        from mpi4py import MPI

        self._mpi = MPI
        self.comm = comm or MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def rows(self, batch: int) -> slice:
        return split_rows(batch, self.size, self.rank)

    def sum_(self, buf: np.ndarray) -> np.ndarray:
        """Sum a contiguous buffer over the workers, in place: one Allreduce."""
        self.comm.Allreduce(self._mpi.IN_PLACE, buf, op=self._mpi.SUM)
        return buf

    def share(self, obj):
        """Rank 0's object (pickled) on every rank."""
        return self.comm.bcast(obj, root=0)

    def share_array(self, a: np.ndarray) -> np.ndarray:
        """Rank 0's array into `a` on every rank (no pickling)."""
        self.comm.Bcast(a, root=0)
        return a

    def gather(self, obj) -> list | None:
        """Every rank's object, in rank order, on rank 0; None elsewhere."""
        return self.comm.gather(obj, root=0)

    def abort(self, code: int) -> None:
        """End every process of the job now (a worker that fails alone must not leave the others
        waiting forever in the next collective)."""
        self.comm.Abort(code)


def world() -> Solo | World:
    """This process's communicator: World when mpiexec started it among others, else Solo."""
    n = launched_size()
    if n <= 1:
        return Solo()
    try:
        return World()
    except ImportError:
        raise ParallelError(
            f"this process is one of {n} started by mpiexec, but mpi4py is not installed: "
            "install charrnn's mpi extra (pip install 'charrnn[mpi]')"
        ) from None
    except Exception as e:  # mpi4py found no MPI library, or MPI could not start
        raise ParallelError(f"MPI could not start: {' '.join(str(e).split())}") from None


def share_corpus(comm: Solo | World, corpus: Corpus | None) -> Corpus:
    """Rank 0's corpus on every worker: its description in one broadcast, then its ids in chunks,
    each written to the worker's own memory-mapped file. No shared file system is needed, standard
    input works, and no worker holds more than a chunk in memory."""
    import numpy as np

    from charrnn.data.corpus import Corpus
    from charrnn.data.mapped import ids_to_memmap, release_pages
    from charrnn.data.streams import CHUNK_BYTES

    if not comm.distributed:
        return corpus
    about = (
        None if comm.rank else {f.name: getattr(corpus, f.name) for f in dataclasses.fields(corpus) if f.name != "ids"}
    )
    about = comm.share(about)
    n, dtype = comm.share(None if comm.rank else (len(corpus.ids), corpus.vocab.dtype))

    def chunks():
        for at in range(0, n, CHUNK_BYTES):
            if comm.rank == 0:
                chunk = np.ascontiguousarray(corpus.ids[at : at + CHUNK_BYTES])
            else:
                chunk = np.empty(min(CHUNK_BYTES, n - at), dtype)
            yield comm.share_array(chunk)

    if comm.rank == 0:
        for _ in chunks():
            release_pages(corpus.ids)  # the pages read to send stay resident otherwise
        return corpus
    return Corpus(ids=ids_to_memmap(chunks(), dtype, n, None), **about)
