"""`charrnn train`, one module per job: command.py (the options, and one process, the launcher or
a rank), configs.py (the checkpoint's path and the run's configs), reading.py (the corpus),
fine_tuning.py (--init-from), run.py (the loop under the progress bar, saving, --log),
messages.py (what it says), workers.py (--workers: the MPI job started on this machine),
relay.py (the job's output relayed), ranks.py (what each rank does under mpiexec)."""

from charrnn.cli.train.command import train

__all__ = ["train"]
