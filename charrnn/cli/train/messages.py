"""What `charrnn train` says on stderr: the opening line, the end (done, stopped early,
interrupted, diverged) and the closing sample. Each is a string built from the run's facts;
run.py decides when to say it."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from charrnn.cli import console
from charrnn.cli.common import command_line
from charrnn.cli.errors import message
from charrnn.cli.render.baselines import baselines_line, below_baseline
from charrnn.language_model import LanguageModel
from charrnn.nn.functional import bits
from charrnn.nn.model import num_params


def opening(trainer, data, resumed: bool, fine_tuned: bool) -> str:
    """What is trained on what, on how many workers, with which kernels, until when."""
    doing = "Resuming" if resumed else "Fine-tuning" if fine_tuned else "Training"
    return (
        f"{doing} a model ({trainer.model_cfg.describe(num_params(trainer.params))}) "
        f"on {data.name}: {len(data.ids):,} characters, "
        f"{len(data.vocab)} distinct; {workers(trainer)}{KERNELS[trainer.kernels]}; {limits(trainer.cfg)}"
    )


KERNELS = {"numba": "fused numba kernels", "numpy": "NumPy kernels"}  # docs/speed.md says how to choose


def workers(trainer) -> str:
    if not trainer.comm.distributed:
        return ""
    each = trainer.rows.stop - trainer.rows.start
    per = f"{each} streams each" if trainer.cfg.batch_size % trainer.comm.size == 0 else "the streams shared unevenly"
    return f"{trainer.comm.size} workers, {per}; "


def limits(cfg) -> str:
    found = []
    if cfg.max_steps is not None:
        found.append(f"{cfg.max_steps:,} steps")
    if cfg.epochs is not None:
        found.append(f"{cfg.epochs:g} epochs")
    if cfg.max_time is not None:
        found.append(console.format_duration(cfg.max_time))
    return "stopping after " + " or ".join(found) + (", whichever comes first" if len(found) > 1 else "")


def baselines(trainer) -> str:
    """The baselines, measured now (or kept from the run resumed): what the model's figure means."""
    line = baselines_line(trainer.measure_baselines().to_dict(), trainer.model_cfg.bidirectional)
    return "Baselines on the validation text: " + line


def already_trained(trainer, path: Path) -> str:
    return (
        f"{path} has already trained {trainer.step:,} steps ({console.format_duration(trainer.elapsed)}); "
        "raise --max-steps, --epochs or --max-time to train it further"
    )


def stopped_here(trainer, data, path: Path) -> str:
    """Where the run stopped, and the command line that continues it."""
    again = command_line(without=("--force",), adding=("--resume",))
    stdin = " (with the same text on standard input)" if data.name == "<stdin>" else ""
    return f"Interrupted at step {trainer.step:,}: saved {path}; continue with `{again}`{stdin}"


def stopped_early(trainer) -> str:
    return (
        f"Stopped early at step {trainer.step:,}: no better validation loss in the last "
        f"{trainer.evals_since_best} validations (--patience {trainer.cfg.patience})"
    )


def done(trainer, path: Path) -> str:
    best = bits(trainer.best_val)
    return (
        f"Done: {trainer.step:,} steps, {console.format_duration(trainer.elapsed)}; best validation "
        f"{best:.3f} bits/char at step {trainer.best_step:,}: {below_baseline(best, trainer.baselines.to_dict(), trainer.model_cfg.bidirectional)}"
        f"; checkpoint: {path}"
    )


def diverged(e: Exception, path: Path, saved_step: int | None) -> str:
    """The diverged loss and its advice, and what the checkpoint holds now."""
    if saved_step is not None:
        kept = f"{path} holds the weights saved at step {saved_step:,}"
    else:
        kept = f"{path} is unchanged" if path.exists() else "no checkpoint was written"
    return f"{message(e)} ({kept})"


def show_sample(trainer, length: int) -> None:
    model = LanguageModel(trainer.best_params or trainer.params, trainer.model_cfg, trainer.corpus.vocab)
    text = model.generate_text(length=length, temperature=0.8, seed=0)
    console.message("A sample at temperature 0.8 (charrnn sample for more):", style="bold")
    console.console(stderr=True).print(Text(text, style="cyan"), soft_wrap=True)  # a text of many lines
