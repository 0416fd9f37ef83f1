"""The `charrnn` command line: train, sample and inspect.

A thin layer over the library that owns what the user sees: stdout carries only the product
(samples, tables, JSON), stderr everything else; library errors become one `Error: ...` line
and exit code 1, usage errors exit 2, and no traceback reaches the user. The library is
imported inside the commands so that `charrnn --help` starts fast.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from charrnn import __version__

DEFAULT_CHECKPOINT = "charrnn.npz"  # charrnn.checkpoint.DEFAULT_PATH, without importing numpy
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Duration(click.ParamType):
    """90, 90s, 10m, 1h30m, 1.5h -> seconds."""

    name = "duration"
    UNITS = {"h": 3600, "m": 60, "s": 1, "": 1}

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms]?)", text)
        if not parts or re.sub(r"\d+(?:\.\d+)?\s*[hms]?", "", text).strip():
            self.fail(f"{value!r} is not a duration; write it like 90s, 10m or 1h30m", param, ctx)
        seconds = sum(float(n) * self.UNITS[u] for n, u in parts)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds


class Group(click.Group):
    """Turns library errors into click errors, so they print as one line without a traceback."""

    def invoke(self, ctx):
        from charrnn.errors import CharRNNError

        try:
            return super().invoke(ctx)
        except CharRNNError as e:
            raise click.ClickException(str(e)) from None


def checkpoint_option(**kwargs):
    return click.option(
        "-c",
        "--checkpoint",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CHECKPOINT,
        show_default=True,
        envvar="CHARRNN_CHECKPOINT",
        help="Checkpoint file to read (and, for train, to write).",
        **kwargs,
    )


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="charrnn")
def cli():
    """Character-level RNN, LSTM and GRU text generators, written in NumPy.

    \b
    charrnn train corpus.txt          learn a text, into charrnn.npz
    charrnn sample --temp 0.8         write new text in its style
    charrnn inspect                   what a checkpoint holds
    """


# -- train ------------------------------------------------------------------------------------

MODEL_OPTIONS = {"model": "cell", "hidden_size": "hidden_size", "layers": "num_layers", "dropout": "dropout", "nonlinearity": "nonlinearity"}
TRAIN_OPTIONS = (
    "seq_len", "batch_size", "optimizer", "lr", "momentum", "lr_decay", "lr_decay_every", "grad_clip",
    "val_fraction", "eval_every", "eval_chars", "epochs", "max_steps", "max_time", "seed",
)


@cli.command(short_help="Learn a text into a checkpoint.")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True))
@checkpoint_option()
@click.option("--model", type=click.Choice(["lstm", "gru", "rnn"]), help="Cell type.  [default: lstm]")
@click.option("--hidden-size", type=click.IntRange(min=1), help="Units per layer.  [default: 256]")
@click.option("--layers", type=click.IntRange(min=1), help="Stacked recurrent layers.  [default: 2]")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help="Dropout between layers.  [default: 0.1]")
@click.option("--nonlinearity", type=click.Choice(["tanh", "relu"]), help="Vanilla RNN activation.  [default: tanh]")
@click.option("--seq-len", type=click.IntRange(min=1), help="BPTT window in characters.  [default: 64]")
@click.option("--batch-size", type=click.IntRange(min=1), help="Parallel streams.  [default: 32]")
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop", "adagrad", "sgd"]), help="[default: adam]")
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate.  [default: 0.002]")
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), help="SGD momentum.  [default: 0.9]")
@click.option("--lr-decay", type=click.FloatRange(0, 1, min_open=True), help="Step decay factor.  [default: 0.9]")
@click.option("--lr-decay-every", type=click.IntRange(min=1), help="Steps between decays.  [default: 2000]")
@click.option("--grad-clip", type=click.FloatRange(min=0), help="Global gradient norm cap, 0 for none.  [default: 5]")
@click.option("--val-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), help="Held-out tail.  [default: 0.05]")
@click.option("--eval-every", type=click.IntRange(min=1), help="Steps between validations and saves.  [default: 250]")
@click.option("--eval-chars", type=click.IntRange(min=2), help="Validation characters per evaluation.  [default: 100000]")
@click.option("--epochs", type=click.FloatRange(0, min_open=True), help="Stop after this many passes.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after this many steps in total.")
@click.option("--max-time", type=Duration(), help="Stop after this much training time, e.g. 90s, 10m.  [default: 10m]")
@click.option("--seed", type=int, help="Random seed.  [default: 0]")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the corpus.")
@click.option("--decode-errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict", show_default=True, help="What to do with undecodable bytes.")
@click.option("--resume", is_flag=True, help="Continue training the existing checkpoint.")
@click.option("--force", is_flag=True, help="Replace an existing checkpoint.")
@click.option("--sample-length", type=click.IntRange(min=0), default=300, show_default=True, help="Characters of sample shown at the end (0: none).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or messages; errors only.")
def train(corpus, checkpoint, encoding, decode_errors, resume, force, sample_length, quiet, **options):
    """Train a model on CORPUS (a text file, or - for standard input).

    Saves the checkpoint at every validation and when stopped with Ctrl-C; the weights it keeps
    are those with the best validation loss. Stops at --epochs, --max-steps or --max-time,
    whichever comes first.

    \b
    Examples:
      charrnn train corpora/shakespeare.txt
      charrnn train notes.txt --model gru --hidden-size 128 --max-time 2m -c notes.npz
      cat *.py | charrnn train - --epochs 5
      charrnn train corpora/shakespeare.txt --resume --max-time 20m
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.data import read_corpus

    if resume and force:
        raise click.UsageError("--resume and --force contradict each other; choose one")
    if checkpoint.exists() and not (resume or force):
        raise click.ClickException(
            f"{checkpoint} already exists; pass --resume to continue training it, --force to replace it, "
            "or -c to choose another file"
        )
    if resume and not checkpoint.exists():
        raise click.ClickException(f"--resume: there is no checkpoint at {checkpoint} to continue")
    given = {k: v for k, v in options.items() if v is not None}
    previous = ckpt_io.load(checkpoint) if resume else None
    model_cfg, train_cfg = _configs(given, previous)
    data = read_corpus(sys.stdin.buffer if corpus == "-" else corpus, encoding, decode_errors)
    _train(data, model_cfg, train_cfg, previous, checkpoint, sample_length, quiet)


def _configs(given: dict, previous):
    """Model and training configs from the options given, on top of the defaults or the checkpoint."""
    from dataclasses import replace

    from charrnn.config import ModelConfig, TrainConfig

    model_given = {MODEL_OPTIONS[k]: v for k, v in given.items() if k in MODEL_OPTIONS}
    train_given = {k: v for k, v in given.items() if k in TRAIN_OPTIONS}
    if previous is None:
        return ModelConfig(**model_given), TrainConfig(**train_given)
    changed = [k for k, v in model_given.items() if getattr(previous.model, k) != v]
    if changed:
        raise click.UsageError(
            f"--resume keeps the checkpoint's model; it cannot change {', '.join(changed)} "
            "(use --force to train a new model)"
        )
    return previous.model, replace(previous.train, **train_given)


@contextmanager
def _deferred_signals():
    """SIGINT and SIGTERM only set a flag, so training stops between steps and saves first."""
    caught: list[int] = []

    def handler(signum, frame):
        if caught:  # a second signal: the user insists
            raise KeyboardInterrupt
        caught.append(signum)

    old = {s: signal.signal(s, handler) for s in SIGNAL_EXIT}
    try:
        yield caught
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _train(data, model_cfg, train_cfg, previous, path: Path, sample_length: int, quiet: bool):
    from charrnn import checkpoint as ckpt_io
    from charrnn import ui
    from charrnn.errors import TrainingDiverged
    from charrnn.functional import bits
    from charrnn.train import EvalEvent, Trainer

    trainer = Trainer(data, model_cfg, train_cfg, resume=previous)
    if trainer.finished():
        raise click.ClickException(
            f"{path} has already trained {trainer.step:,} steps ({ui.format_duration(trainer.elapsed)}); "
            "raise --max-steps, --epochs or --max-time to train it further"
        )
    say = (lambda *a, **k: None) if quiet else ui.message
    if not quiet:
        for w in trainer.warnings():
            ui.warning(w)
    n_params = sum(p.size for p in trainer.params.values())
    say(
        f"{'Resuming' if previous else 'Training'} a {model_cfg.num_layers} x {model_cfg.hidden_size} "
        f"{model_cfg.cell.upper()} ({n_params:,} parameters) on {data.name}: {len(data.ids):,} characters, "
        f"{len(data.vocab)} distinct; {_limits(train_cfg, ui)}"
    )
    bar_steps = _step_limit(train_cfg, trainer.windows.n_windows)
    if bar_steps is not None:
        bar = ui.progress_bar(bar_steps, trainer.step, " steps", quiet)
    else:
        bar = ui.progress_bar(round(train_cfg.max_time), trainer.elapsed, "s", quiet)
    val_text, saved_once, stopped_by = "-", False, None
    with _deferred_signals() as caught, bar:
        try:
            for event in trainer.run(stop_requested=lambda: bool(caught)):
                if isinstance(event, EvalEvent):
                    ckpt_io.save(trainer.checkpoint(), path)
                    saved_once = True
                    val_text = f"{event.val_bits:.3f}"
                    continue
                bar.update(1 if bar_steps is not None else min(trainer.elapsed, bar.total) - bar.n)
                bar.set_postfix_str(
                    f"loss {bits(event.smooth_loss):.3f} bpc, val {val_text}, {event.chars_per_sec / 1000:.1f}k char/s",
                    refresh=False,
                )
        except TrainingDiverged as e:
            kept = f"{path} keeps the last good weights" if saved_once or previous else "no checkpoint was written"
            raise click.ClickException(f"{e} ({kept})") from None
        if caught:
            stopped_by = caught[0]
            ckpt_io.save(trainer.checkpoint(), path)
    best = trainer.best_val
    if stopped_by is not None:
        ui.message(f"Interrupted at step {trainer.step:,}: saved {path}; continue with `charrnn train ... --resume -c {path}`")
        sys.exit(SIGNAL_EXIT[stopped_by])
    say(
        f"Done: {trainer.step:,} steps, {ui.format_duration(trainer.elapsed)}; best validation "
        f"{bits(best):.3f} bits/char at step {trainer.best_step:,}; checkpoint: {path}",
        style="bold",
    )
    if sample_length and not quiet:
        _show_sample(trainer, sample_length, ui)


def _limits(cfg, ui) -> str:
    limits = []
    if cfg.max_steps is not None:
        limits.append(f"{cfg.max_steps:,} steps")
    if cfg.epochs is not None:
        limits.append(f"{cfg.epochs:g} epochs")
    if cfg.max_time is not None:
        limits.append(ui.format_duration(cfg.max_time))
    return "stopping after " + " or ".join(limits) + (", whichever comes first" if len(limits) > 1 else "")


def _step_limit(cfg, windows_per_epoch: int) -> int | None:
    limits = [cfg.max_steps] if cfg.max_steps is not None else []
    if cfg.epochs is not None:
        limits.append(int(-(-cfg.epochs * windows_per_epoch // 1)))
    return min(limits) if limits else None


def _show_sample(trainer, length: int, ui) -> None:
    from charrnn.config import SampleConfig
    from charrnn.sample import generate

    sample_cfg = SampleConfig(length=length, temperature=0.8, seed=0)
    text = "".join(chars[0] for chars in generate(trainer.best_params or trainer.params, trainer.model_cfg, trainer.corpus.vocab, sample_cfg))
    ui.message("A sample at temperature 0.8 (charrnn sample for more):", style="bold")
    ui.console(stderr=True).print(text, style="cyan", soft_wrap=True)


# -- sample -----------------------------------------------------------------------------------


@cli.command(short_help="Write new text to stdout.")
@checkpoint_option()
@click.option("-n", "--length", type=click.IntRange(min=0), default=1000, show_default=True, help="Characters to generate.")
@click.option("--temp", "temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True, help="Temperature: lower is safer, higher is wilder.")
@click.option("--top-k", type=click.IntRange(min=1), help="Draw only from the k most likely characters.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), help="Draw only from the smallest set reaching probability p.")
@click.option("--argmax", is_flag=True, help="Always take the most likely character.")
@click.option("--prime", default="", help="Text to warm the model up on; printed first.")
@click.option("--no-prime-echo", is_flag=True, help="Do not print the prime text.")
@click.option("--skip-unknown", is_flag=True, help="Drop prime characters the model never saw, with a warning.")
@click.option("--seed", type=int, help="Random seed, for repeatable samples.")
@click.option("--num-samples", type=click.IntRange(min=1), default=1, show_default=True, help="Samples to draw, as one batch.")
@click.option("--separator", default="\n\n", show_default="blank line", help="Printed between samples.")
@click.option("--stop-at", help="Stop a sample once it produces this text (e.g. a blank line: $'\\n\\n').")
def sample(checkpoint, length, temperature, top_k, top_p, argmax, prime, no_prime_echo, skip_unknown, seed, num_samples, separator, stop_at):
    """Stream text generated by a trained model to stdout.

    \b
    Examples:
      charrnn sample --temp 0.8
      charrnn sample -n 500 --prime "HAMLET:" --seed 1
      charrnn sample --num-samples 3 --stop-at $'\\n\\n' --top-p 0.9
      charrnn sample -n 100000 | head -c 200
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn import ui
    from charrnn.config import SampleConfig
    from charrnn.sample import generate

    cfg = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p, argmax=argmax, seed=seed)
    model = ckpt_io.load(checkpoint)
    if missing := model.vocab.missing(prime):
        shown = ", ".join(repr(c) for c in missing)
        if not skip_unknown:
            raise click.ClickException(
                f"the prime text has characters the model never saw: {shown}; remove them or pass --skip-unknown"
            )
        ui.warning(f"skipping prime characters the model never saw: {shown}")
        prime = "".join(ch for ch in prime if ch in model.vocab)
    streams = generate(model.params, model.model, model.vocab, cfg, prime, num_samples)
    with _quiet_broken_pipe():
        _write_samples(streams, num_samples, "" if no_prime_echo else prime, separator, stop_at)


def _write_samples(streams, n: int, head: str, separator: str, stop_at: str | None) -> None:
    """Stream sample 0 as it is generated; the others (same batch) follow when complete."""
    out = sys.stdout
    texts = [[] for _ in range(n)]
    done = [False] * n
    tails = [""] * n  # recent output, to spot stop_at across steps
    out.write(head)
    out.flush()
    for chars in streams:
        for i, ch in enumerate(chars):
            if done[i]:
                continue
            texts[i].append(ch)
            if i == 0:
                out.write(ch)
                out.flush()
            if stop_at:
                tails[i] = (tails[i] + ch)[-len(stop_at):]
                done[i] = tails[i] == stop_at
        if all(done):
            break
    for i in range(1, n):
        out.write(separator + head + "".join(texts[i]))
    if not (stop_at or "".join(texts[-1]).endswith("\n")) and out.isatty():
        out.write("\n")
    out.flush()


@contextmanager
def _quiet_broken_pipe():
    """`charrnn sample | head` : when the reader goes away, stop quietly (exit 0)."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail again
        sys.exit(0)


# -- inspect ----------------------------------------------------------------------------------


@cli.command(short_help="Show what a checkpoint holds, or score a text.")
@checkpoint_option()
@click.option("--text", "text_path", type=click.Path(exists=True, dir_okay=False, allow_dash=True), help="Score this text (- for stdin): bits per character, coloured by surprise.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of --text.")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as one JSON object.")
def inspect(checkpoint, text_path, encoding, as_json):
    """Show a checkpoint's model, vocabulary, corpus and learning curve; with --text, score a text.

    \b
    Examples:
      charrnn inspect
      charrnn inspect -c notes.npz --json | jq .training
      charrnn inspect --text corpora/shakespeare.txt
      echo "To be, or not to be" | charrnn inspect --text -
    """
    import json

    from charrnn import checkpoint as ckpt_io
    from charrnn import ui

    model = ckpt_io.load(checkpoint)
    facts = ckpt_io.describe(model, checkpoint)
    text = None
    if text_path is not None:
        from charrnn import score

        from charrnn.data import read_text

        text = read_text(sys.stdin.buffer if text_path == "-" else text_path, encoding)
        logp = score.log_probs(model.params, model.model, model.vocab, text)
        facts["score"] = {"text": text_path, **score.summary(logp), "surprisal_bits": score.surprisal_bits(logp).tolist()}
    with _quiet_broken_pipe():
        if as_json:
            click.echo(json.dumps(facts, ensure_ascii=False))
        elif text is None:
            ui.render_info(facts)
        else:
            ui.render_score(text, facts["score"]["surprisal_bits"], facts["score"])


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    try:
        cli.main(prog_name="charrnn")
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as e:  # a bug: say so in one line; CHARRNN_DEBUG=1 shows the traceback
        if os.environ.get("CHARRNN_DEBUG"):
            raise
        click.echo(f"Error: internal error ({type(e).__name__}: {e}); please report it, with CHARRNN_DEBUG=1 for details", err=True)
        sys.exit(1)
