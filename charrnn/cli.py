"""The `charrnn` command line: train, sample and inspect.

A thin layer over the library that owns what the user sees: stdout carries only the product
(samples, tables, JSON), stderr everything else; library errors become one `Error: ...` line
and exit code 1, usage errors exit 2, and no traceback reaches the user. The library is
imported inside the commands so that `charrnn --help` starts fast.
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from charrnn import __version__

DEFAULT_CHECKPOINT = "charrnn.npz"  # in the current directory, for all three commands
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Real(click.FloatRange):
    """A FloatRange that also refuses nan and inf (nan passes every range check)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


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
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is too long; write it like 90s, 10m or 1h30m", param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return seconds


class Group(click.Group):
    """Turns library errors into click errors, so they print as one line without a traceback."""

    def invoke(self, ctx):
        from charrnn.errors import CharRNNError, ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as e:  # option values that pass their types but not the config's checks
            raise click.UsageError(_one_line(e)) from None
        except CharRNNError as e:
            raise click.ClickException(_one_line(e)) from None
        except MemoryError:
            raise click.ClickException(
                "out of memory; use a smaller --hidden-size or --layers, or fewer --batch-size or --num-samples"
            ) from None
        except KeyboardInterrupt:  # click would say "Aborted!" and exit 1; the shell convention is 130
            click.echo("Interrupted.", err=True)
            ctx.exit(SIGNAL_EXIT[signal.SIGINT])


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


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
RESUME_FIXED = ("seq_len", "batch_size", "optimizer", "val_fraction", "eval_chars", "seed")


@cli.command(short_help="Learn a text into a checkpoint.")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True))
@checkpoint_option()
@click.option("--model", type=click.Choice(["lstm", "gru", "rnn"]), help="Cell type.  [default: lstm]")
@click.option("--hidden-size", type=click.IntRange(min=1), help="Units per layer.  [default: 256]")
@click.option("--layers", type=click.IntRange(min=1), help="Stacked recurrent layers.  [default: 2]")
@click.option("--dropout", type=Real(0, 1, max_open=True), help="Dropout between layers.  [default: 0.1]")
@click.option("--nonlinearity", type=click.Choice(["tanh", "relu"]), help="Vanilla RNN activation.  [default: tanh]")
@click.option("--seq-len", type=click.IntRange(min=1), help="BPTT window in characters.  [default: 64]")
@click.option("--batch-size", type=click.IntRange(min=1), help="Parallel streams.  [default: 32]")
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop", "adagrad", "sgd"]), help="[default: adam]")
@click.option("--lr", type=Real(0, min_open=True), help="Learning rate.  [default: 0.002]")
@click.option("--momentum", type=Real(0, 1, max_open=True), help="SGD momentum.  [default: 0.9]")
@click.option("--lr-decay", type=Real(0, 1, min_open=True), help="Step decay factor.  [default: 0.9]")
@click.option("--lr-decay-every", type=click.IntRange(min=1), help="Steps between decays.  [default: 2000]")
@click.option("--grad-clip", type=Real(min=0), help="Global gradient norm cap, 0 for none.  [default: 5]")
@click.option("--val-fraction", type=Real(0, 1, min_open=True, max_open=True), help="Held-out tail.  [default: 0.05]")
@click.option("--eval-every", type=click.IntRange(min=1), help="Steps between validations and saves.  [default: 250]")
@click.option("--eval-chars", type=click.IntRange(min=2), help="Validation characters per evaluation.  [default: 100000]")
@click.option("--epochs", type=Real(0, min_open=True), help="Stop after this many passes.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after this many steps in total.")
@click.option("--max-time", type=Duration(), help="Stop after this much training time, e.g. 90s, 10m.  [default: 10m]")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed.  [default: 0]")
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
    if checkpoint.exists():
        _check_replaceable(corpus, checkpoint, resume, force)
    elif resume:
        raise click.ClickException(f"--resume: there is no checkpoint at {checkpoint} to continue")
    ckpt_io.check_writable(checkpoint)
    given = {k: v for k, v in options.items() if v is not None}
    previous = ckpt_io.load(checkpoint) if resume else None
    model_cfg, train_cfg = _configs(given, previous)
    if corpus == "-" and sys.stdin.isatty() and not quiet:
        from charrnn import ui

        ui.message("Reading the corpus from the terminal: type or paste it, then press Ctrl-D")
    data = read_corpus(sys.stdin.buffer if corpus == "-" else corpus, encoding, decode_errors)
    if previous is not None:
        data = data.with_vocab(previous.vocab)  # the model's ids, or an error naming new characters
    _train(data, model_cfg, train_cfg, previous, checkpoint, sample_length, quiet)


def _check_replaceable(corpus: str, path: Path, resume: bool, force: bool) -> None:
    """A file exists where the checkpoint goes: continue it, replace it, or refuse to touch it."""
    from charrnn import checkpoint as ckpt_io

    if not path.is_file():  # -c /dev/null must not replace /dev/null
        raise click.ClickException(f"{path} is not a regular file; choose a checkpoint file with -c")
    if corpus != "-" and os.path.samefile(corpus, path):
        raise click.UsageError(f"-c {path} is the corpus itself; choose another file for the checkpoint")
    if path.stat().st_size and not ckpt_io.is_npz(path):
        raise click.ClickException(
            f"{path} is not a charrnn checkpoint (not an .npz file), and charrnn replaces only its own "
            "checkpoints; choose another file with -c"
        )
    if not (resume or force):
        raise click.ClickException(
            f"{path} already exists; pass --resume to continue training it, --force to replace it, "
            "or -c to choose another file"
        )


def _configs(given: dict, previous):
    """Model and training configs from the options given, on top of the defaults or the checkpoint."""
    from dataclasses import replace

    from charrnn.config import ModelConfig, TrainConfig

    model_given = {MODEL_OPTIONS[k]: v for k, v in given.items() if k in MODEL_OPTIONS}
    train_given = {k: v for k, v in given.items() if k in TRAIN_OPTIONS}
    if previous is None:
        return ModelConfig(**model_given), TrainConfig(**train_given)
    option_of = {field: "--" + option.replace("_", "-") for option, field in MODEL_OPTIONS.items()}
    changed = [f"{option_of[k]} (it is {getattr(previous.model, k)})" for k, v in model_given.items() if getattr(previous.model, k) != v]
    # these would change the data windows, the validation set or the random stream: the run
    # would no longer continue exactly, and its "best" weights would be judged on another set
    changed += [
        f"--{k.replace('_', '-')} (it is {getattr(previous.train, k)})"
        for k, v in train_given.items()
        if k in RESUME_FIXED and getattr(previous.train, k) != v
    ]
    if changed:
        raise click.UsageError(
            f"--resume continues the checkpoint's run exactly; it cannot change {', '.join(changed)}; "
            "use --force to train a new model"
        )
    return previous.model, replace(previous.train, **train_given)


@contextmanager
def _deferred_signals():
    """SIGINT and SIGTERM only set a flag, so training stops between steps and saves first.

    A signal ignored when charrnn started (SIGINT in a script's background job) stays ignored.
    """
    caught: list[int] = []

    def handler(signum, frame):
        if caught:  # a second signal: the user insists
            raise KeyboardInterrupt
        caught.append(signum)

    old = {s: signal.signal(s, handler) for s in SIGNAL_EXIT if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield caught
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _train(data, model_cfg, train_cfg, previous, path: Path, sample_length: int, quiet: bool):
    import numpy as np

    from charrnn import ui
    from charrnn.functional import bits
    from charrnn.model import num_params
    from charrnn.train import Trainer

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
    n_params = num_params(trainer.params)
    # numpy warnings: a blown-up loss is reported once, in words; signals: from the moment training
    # is announced, Ctrl-C saves before it stops
    with np.errstate(all="ignore"), _deferred_signals() as caught:
        say(
            f"{'Resuming' if previous else 'Training'} a {model_cfg.num_layers} x {model_cfg.hidden_size} "
            f"{model_cfg.cell.upper()} ({n_params:,} parameters) on {data.name}: {len(data.ids):,} characters, "
            f"{len(data.vocab)} distinct; {_limits(train_cfg, ui)}"
        )
        stopped_by = _run(trainer, path, quiet, caught)
    if stopped_by is not None:
        ui.message(f"Interrupted at step {trainer.step:,}: saved {path}; continue with `charrnn train ... --resume -c {path}`")
        sys.exit(SIGNAL_EXIT[stopped_by])
    say(
        f"Done: {trainer.step:,} steps, {ui.format_duration(trainer.elapsed)}; best validation "
        f"{bits(trainer.best_val):.3f} bits/char at step {trainer.best_step:,}; checkpoint: {path}",
        style="bold",
    )
    if sample_length and not quiet:
        _show_sample(trainer, sample_length, ui)


def _run(trainer, path: Path, quiet: bool, caught: list[int]) -> int | None:
    """The loop: save at every validation; stop between steps once a signal is `caught`, saving first.

    Returns the signal that stopped training, or None when it reached its limit.
    """
    from charrnn import checkpoint as ckpt_io
    from charrnn.errors import TrainingDiverged
    from charrnn.functional import bits
    from charrnn.train import EvalEvent

    bar, by_steps = _progress_bar(trainer, quiet)
    shown = {"loss": "-", "val": "-", "speed": "-"}  # the bar's postfix
    saved_step = None
    with bar:
        try:
            for event in trainer.run(stop_requested=lambda: bool(caught)):
                if isinstance(event, EvalEvent):
                    ckpt_io.save(trainer.checkpoint(), path)
                    saved_step, shown["val"] = event.step, f"{event.val_bits:.3f}"
                else:
                    bar.update(1 if by_steps else min(trainer.elapsed, bar.total) - bar.n)
                    shown.update(loss=f"{bits(event.smooth_loss):.3f}", speed=f"{event.chars_per_sec / 1000:.1f}k")
                bar.set_postfix_str("loss {loss} bpc, val {val}, {speed} char/s".format(**shown), refresh=False)
            if caught and not trainer.finished():
                if trainer.best_params is None:  # stopped before the first validation: judge the weights first
                    trainer.eval_step()
                ckpt_io.save(trainer.checkpoint(), path)
                return caught[0]
        except TrainingDiverged as e:
            raise click.ClickException(_diverged_message(e, path, saved_step)) from None
    return None


def _progress_bar(trainer, quiet: bool):
    """A bar over steps when a step or epoch limit is set, else over seconds of --max-time."""
    from charrnn import ui

    steps = _step_limit(trainer.cfg, trainer.windows.n_windows)
    if steps is not None:
        return ui.progress_bar(steps, trainer.step, " steps", quiet), True
    return ui.progress_bar(round(trainer.cfg.max_time), trainer.elapsed, "s", quiet), False


def _diverged_message(e: Exception, path: Path, saved_step: int | None) -> str:
    if saved_step is not None:
        kept = f"{path} holds the weights saved at step {saved_step:,}"
    else:
        kept = f"{path} is unchanged" if path.exists() else "no checkpoint was written"
    return f"{e} ({kept})"


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
@click.option("--temp", "temperature", type=Real(0, min_open=True), default=1.0, show_default=True, help="Temperature: lower is safer, higher is wilder.")
@click.option("--top-k", type=click.IntRange(min=1), help="Draw only from the k most likely characters.")
@click.option("--top-p", type=Real(0, 1, min_open=True), help="Draw only from the smallest set reaching probability p.")
@click.option("--argmax", is_flag=True, help="Always take the most likely character.")
@click.option("--prime", default="", help="Text to warm the model up on; printed first.")
@click.option("--no-prime-echo", is_flag=True, help="Do not print the prime text.")
@click.option("--skip-unknown", is_flag=True, help="Drop prime characters the model never saw, with a warning.")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed, for repeatable samples.")
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
    from charrnn.vocab import list_chars

    cfg = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p, argmax=argmax, seed=seed)
    model = ckpt_io.load(checkpoint)
    if missing := model.vocab.missing(prime):
        shown = list_chars(missing)
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
    """Writing the product to stdout: when the reader goes away (`charrnn sample | head`), stop
    quietly with exit 0; when stdout's encoding cannot carry the text, say how to fix it."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail again
        sys.exit(0)
    except UnicodeEncodeError as e:
        raise click.ClickException(
            f"standard output ({e.encoding}) cannot encode {e.object[e.start:e.end]!r}; "
            "use a UTF-8 locale or set PYTHONIOENCODING=utf-8"
        ) from None


# -- inspect ----------------------------------------------------------------------------------


class UnitRef(click.ParamType):
    """LAYER:UNIT, both counted from 0, e.g. 0:42."""

    name = "LAYER:UNIT"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not LAYER:UNIT; write it like 0:42 (layers and units count from 0)", param, ctx)
        return int(match[1]), int(match[2])


@cli.command(short_help="Show what a checkpoint holds, or score a text.")
@click.option(
    "-c",
    "--checkpoint",
    "checkpoints",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    default=[DEFAULT_CHECKPOINT],
    show_default=True,
    envvar="CHARRNN_CHECKPOINT",
    help="Checkpoint file to read; repeat it with --text to rank several on one text (or compare their --gradients).",
)
@click.option("--text", "text_path", type=click.Path(exists=True, dir_okay=False, allow_dash=True), help="Score this text (- for stdin): bits per character, coloured by surprise.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of --text.")
@click.option("--decode-errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict", show_default=True, help="What to do with undecodable bytes in --text.")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as one JSON object.")
@click.option("--neuron", type=UnitRef(), help="Colour --text by this unit's activation after each character.")
@click.option("--cell-state", is_flag=True, help="With --neuron, an LSTM unit's cell state c rather than its hidden state h.")
@click.option("--find-neurons", is_flag=True, help="Rank units by how well they track properties of --text: quotes, brackets, line position, ...")
@click.option("--gradients", is_flag=True, help="How far back the loss on --text reaches: gradient norm against steps back.")
@click.option("--span", type=click.IntRange(min=1), default=100, show_default=True, help="With --gradients: steps back to measure.")
@click.option("--positions", type=click.IntRange(min=1), default=64, show_default=True, help="With --gradients: positions of --text averaged over.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write a self-contained HTML page of --text: surprisal (or --neuron) colours, hover for alternatives.")
def inspect(checkpoints, text_path, encoding, decode_errors, as_json, neuron, cell_state, find_neurons, gradients, span, positions, html_path):
    """Show a checkpoint's model, vocabulary, corpus and learning curve; with --text, score a text.

    \b
    Examples:
      charrnn inspect
      charrnn inspect -c notes.npz --json | jq .training
      charrnn inspect --text corpora/shakespeare.txt
      echo "To be, or not to be" | charrnn inspect --text -
      charrnn inspect --text held_out.txt --neuron 0:42 --cell-state
      charrnn inspect --text held_out.txt --find-neurons
      charrnn inspect --text held_out.txt --gradients -c rnn.npz -c lstm.npz
      charrnn inspect --text passage.txt -c shakespeare.npz -c code.npz
      charrnn inspect --text passage.txt --html page.html
    """
    import json

    from charrnn import checkpoint as ckpt_io
    from charrnn import ui

    if neuron or cell_state or find_neurons or gradients or html_path or len(checkpoints) > 1:
        view = InspectView(checkpoints, neuron, cell_state, find_neurons, gradients, span, positions, html_path)
        return view.run(text_path, encoding, decode_errors, as_json)
    checkpoint = checkpoints[0]
    model = ckpt_io.load(checkpoint)
    facts = ckpt_io.describe(model, checkpoint)
    text = None
    if text_path is not None:
        from charrnn import score

        from charrnn.data import read_text

        text = read_text(sys.stdin.buffer if text_path == "-" else text_path, encoding, decode_errors)
        if missing := model.vocab.missing(text):
            from charrnn.vocab import list_chars

            raise click.ClickException(
                f"the text has characters the model never saw: {list_chars(missing)}; "
                "it can only score text written in its own characters"
            )
        logp = score.log_probs(model.params, model.model, model.vocab, text)
        facts["score"] = {"text": text_path, **score.summary(logp), "surprisal_bits": score.surprisal_bits(logp).tolist()}
    with _quiet_broken_pipe():
        if as_json:
            click.echo(json.dumps(facts, ensure_ascii=False))
        elif text is None:
            ui.render_info(facts)
        else:
            ui.render_score(text, facts["score"]["surprisal_bits"], facts["score"])


@dataclass
class InspectView:
    """inspect's analysis views: --neuron, --find-neurons, --gradients, several -c, --html."""

    checkpoints: tuple[Path, ...]
    neuron: tuple[int, int] | None
    cell_state: bool
    find_neurons: bool
    gradients: bool
    span: int
    positions: int
    html_path: Path | None

    def check(self, text_path) -> None:
        """Usage errors: options that need --text, or that do not go together."""
        views = [flag for flag, on in (("--neuron", self.neuron), ("--find-neurons", self.find_neurons), ("--gradients", self.gradients)) if on]
        if len(views) > 1:
            raise click.UsageError(f"{views[0]} and {views[1]} are separate views; choose one")
        if self.cell_state and not self.neuron:
            raise click.UsageError("--cell-state chooses what --neuron shows; pass --neuron LAYER:UNIT too")
        if len(self.checkpoints) > 1 and (self.neuron or self.find_neurons or self.html_path):
            raise click.UsageError(
                "--neuron, --find-neurons and --html look inside one model; pass one -c (several -c rank "
                "checkpoints on --text, or compare their --gradients)"
            )
        if text_path is None:
            asked = views + (["--html"] if self.html_path else []) or ["comparing several -c"]
            raise click.UsageError(f"{' and '.join(asked)} needs a text: pass --text FILE (or --text - for standard input)")

    def run(self, text_path, encoding: str, decode_errors: str, as_json: bool) -> None:
        import json

        from charrnn import checkpoint as ckpt_io
        from charrnn.data import read_text

        self.check(text_path)
        text = read_text(sys.stdin.buffer if text_path == "-" else text_path, encoding, decode_errors)
        models = [(str(path), ckpt_io.load(path)) for path in self.checkpoints]
        if self.gradients:
            result, render = self.gradient_curves(models, text), "render_gradients"
        elif len(models) > 1:
            result, render = self.ranking(models, text), "render_ranking"
        elif self.find_neurons:
            result, render = self.neuron_search(models[0], text), "render_neuron_search"
        else:
            result, render = self.single(models[0], text, text_path), None
        result["text"] = text_path
        if self.html_path:
            self.write_page(*models[0], text, text_path, result.get("neuron"))
            result["html"] = str(self.html_path)
        with _quiet_broken_pipe():
            if as_json:
                click.echo(json.dumps(result, ensure_ascii=False))
            else:
                self.show(render, result, text)

    def show(self, render: str | None, result: dict, text: str) -> None:
        from charrnn import ui

        if render is not None:
            getattr(ui, render)(result)
        elif "neuron" in result:
            ui.render_neuron(text, result["neuron"]["values"], result["neuron"]["label"])
        else:
            score = result["score"]
            ui.render_score(text, score["surprisal_bits"], score)
        if self.html_path:
            ui.message(f"wrote {self.html_path}")

    def gradient_curves(self, models, text: str) -> dict:
        from charrnn import memory

        curves = []
        for name, ckpt in models:
            curve = memory.gradient_curve(ckpt.params, ckpt.model, ckpt.vocab, text, self.span, self.positions)
            m = ckpt.model
            curves.append({"checkpoint": name, "model": f"{m.cell.upper()} {m.num_layers}x{m.hidden_size}", **curve.to_dict()})
        return {"models": curves}

    def ranking(self, models, text: str) -> dict:
        from charrnn import compare

        scores = [compare.score_known(name, c.params, c.model, c.vocab, text) for name, c in models]
        return compare.rank(scores).to_dict()

    def neuron_search(self, model, text: str) -> dict:
        from charrnn import neurons

        name, ckpt = model
        return {"checkpoint": name, **neurons.find_neurons(ckpt.params, ckpt.model, ckpt.vocab, text).to_dict()}

    def single(self, model, text: str, text_path) -> dict:
        """--neuron, or --html alone: the text's surprisal or one unit's activation (and the page)."""
        from charrnn import analysis, neurons

        name, ckpt = model
        preds = analysis.predictions(ckpt.params, ckpt.model, ckpt.vocab, text)
        bits = preds.bits
        result = {"checkpoint": name, "score": {"chars": len(bits), "total_bits": float(bits.sum()),
                                                 "bits_per_char": preds.bits_per_char, "surprisal_bits": bits.tolist()}}
        unit = None
        if self.neuron:
            unit = neurons.Unit(*self.neuron, "c" if self.cell_state else "h")
            values = neurons.activation(ckpt.params, ckpt.model, ckpt.vocab, text, unit)
            result["neuron"] = {**asdict(unit), "label": unit.label, "values": values.tolist()}
            del result["score"]["surprisal_bits"]
        return result

    def write_page(self, name: str, ckpt, text: str, text_path, neuron: dict | None) -> None:
        import numpy as np

        from charrnn import analysis, html
        from charrnn import checkpoint as ckpt_io

        preds = analysis.predictions(ckpt.params, ckpt.model, ckpt.vocab, text)
        facts = ckpt_io.describe(ckpt, name)
        m, t = facts["model"], facts["training"]
        rows = [
            ("checkpoint", name),
            ("model", f"{m['cell'].upper()}, {m['num_layers']} x {m['hidden_size']}, {m['parameters']:,} parameters"),
            ("trained on", f"{facts['corpus'].get('name', '?')}: {t['steps']:,} steps"
             + ("" if t["best_val_bits"] is None else f", best validation {t['best_val_bits']:.3f} bits/char")),
            ("this text", f"{'standard input' if text_path == '-' else text_path}: {len(text):,} characters, "
             f"{preds.bits_per_char:.3f} bits/char"),
        ]
        colouring = None if neuron is None else html.NeuronColouring(neuron["label"], np.asarray(neuron["values"]))
        page = html.page(text, preds, ckpt.vocab.chars, title=f"charrnn: {Path(name).name} reads "
                         f"{'standard input' if text_path == '-' else Path(text_path).name}", facts=rows,
                         history=facts["history"], neuron=colouring)
        try:
            self.html_path.write_text(page, encoding="utf-8")
        except OSError as e:
            raise click.ClickException(f"cannot write {self.html_path}: {e.strerror or e}; choose another path for --html") from None


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
