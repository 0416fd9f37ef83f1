"""`charrnn inspect`: what a checkpoint holds, how well it models a text, and what its units do."""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from charrnn.cli.common import DEFAULT_CHECKPOINT, output_to, quiet_broken_pipe


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


@click.command(short_help="Show what a checkpoint holds, or score a text.")
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
@click.option(
    "--text",
    "text_path",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    help="Score this text (- for stdin): bits per character, coloured by surprise.",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of --text.")
@click.option(
    "--decode-errors",
    type=click.Choice(["strict", "replace", "ignore"]),
    default="strict",
    show_default=True,
    help="What to do with undecodable bytes in --text.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the facts as one JSON object.")
@click.option("--neuron", type=UnitRef(), help="Colour --text by this unit's activation after each character.")
@click.option(
    "--cell-state", is_flag=True, help="With --neuron, an LSTM unit's cell state c rather than its hidden state h."
)
@click.option(
    "--find-neurons",
    is_flag=True,
    help="Rank units by how well they track properties of --text: quotes, brackets, line position, ...",
)
@click.option(
    "--gradients", is_flag=True, help="How far back the loss on --text reaches: gradient norm against steps back."
)
@click.option(
    "--span",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="With --gradients: steps back to measure.",
)
@click.option(
    "--positions",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="With --gradients: positions of --text averaged over.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML page of --text: surprisal (or --neuron) colours, hover for alternatives.",
)
def inspect(
    checkpoints,
    text_path,
    encoding,
    decode_errors,
    as_json,
    neuron,
    cell_state,
    find_neurons,
    gradients,
    span,
    positions,
    html_path,
):
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
    from charrnn.cli import render
    from charrnn.cli.facts import describe

    if neuron or cell_state or find_neurons or gradients or html_path or len(checkpoints) > 1:
        view = InspectView(checkpoints, neuron, cell_state, find_neurons, gradients, span, positions, html_path)
        return view.run(text_path, encoding, decode_errors, as_json)
    checkpoint = checkpoints[0]
    model = ckpt_io.load(checkpoint)
    facts = describe(model, checkpoint)
    text = None
    if text_path is not None:
        from charrnn.analysis import scoring
        from charrnn.data.corpus import read_text

        text = read_text(sys.stdin.buffer if text_path == "-" else text_path, encoding, decode_errors)
        if missing := model.vocab.missing(text):
            from charrnn.vocab import list_chars

            raise click.ClickException(
                f"the text has characters the model never saw: {list_chars(missing)}; "
                "it can only score text written in its own characters"
            )
        logp = scoring.log_probs(model.params, model.model, model.vocab, text)
        facts["score"] = {
            "text": text_path,
            **scoring.summary(logp),
            "surprisal_bits": scoring.surprisal_bits(logp).tolist(),
        }
    with quiet_broken_pipe():
        if as_json:
            click.echo(json.dumps(facts, ensure_ascii=False))
        elif text is None:
            render.info(facts)
        else:
            render.score(text, facts["score"]["surprisal_bits"], facts["score"])


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
        views = [
            flag
            for flag, on in (
                ("--neuron", self.neuron),
                ("--find-neurons", self.find_neurons),
                ("--gradients", self.gradients),
            )
            if on
        ]
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
            raise click.UsageError(
                f"{' and '.join(asked)} needs a text: pass --text FILE (or --text - for standard input)"
            )

    def run(self, text_path, encoding: str, decode_errors: str, as_json: bool) -> None:
        import json

        from charrnn import checkpoint as ckpt_io
        from charrnn import files
        from charrnn.data.corpus import read_text

        self.check(text_path)
        text = read_text(sys.stdin.buffer if text_path == "-" else text_path, encoding, decode_errors)
        models = [(str(path), ckpt_io.load(path)) for path in self.checkpoints]
        if self.html_path:  # refused now, before the work, if it is one of those inputs
            with output_to("--html"):
                files.check_target(self.html_path, in_place=True)
        if self.gradients:
            result, render = self.gradient_curves(models, text), "gradients"
        elif len(models) > 1:
            result, render = self.ranking(models, text), "ranking"
        elif self.find_neurons:
            result, render = self.neuron_search(models[0], text), "neuron_search"
        else:
            result, render = self.single(models[0], text, text_path), None
        result["text"] = text_path
        if self.html_path:
            self.write_page(*models[0], text, text_path, result.get("neuron"))
            result["html"] = str(self.html_path)
        with quiet_broken_pipe():
            if as_json:
                click.echo(json.dumps(result, ensure_ascii=False))
            else:
                self.show(render, result, text)

    def show(self, view: str | None, result: dict, text: str) -> None:
        from charrnn import files
        from charrnn.cli import console, render

        render_module = render
        if view is not None:
            getattr(render_module, view)(result)
        elif "neuron" in result:
            render.neuron(text, result["neuron"]["values"], result["neuron"]["label"])
        else:
            score = result["score"]
            render.score(text, score["surprisal_bits"], score)
        if self.html_path:
            console.message(f"wrote {files.display(self.html_path)}")

    def gradient_curves(self, models, text: str) -> dict:
        from charrnn.analysis import gradient_reach

        curves = []
        for name, ckpt in models:
            curve = gradient_reach.gradient_curve(ckpt.params, ckpt.model, ckpt.vocab, text, self.span, self.positions)
            m = ckpt.model
            curves.append(
                {"checkpoint": name, "model": f"{m.cell.upper()} {m.num_layers}x{m.hidden_size}", **curve.to_dict()}
            )
        return {"models": curves}

    def ranking(self, models, text: str) -> dict:
        from charrnn.analysis import ranking

        scores = [ranking.score_known(name, c.params, c.model, c.vocab, text) for name, c in models]
        return ranking.rank(scores).to_dict()

    def neuron_search(self, model, text: str) -> dict:
        from charrnn.analysis import neurons

        name, ckpt = model
        return {"checkpoint": name, **neurons.find_neurons(ckpt.params, ckpt.model, ckpt.vocab, text).to_dict()}

    def single(self, model, text: str, text_path) -> dict:
        """--neuron, or --html alone: the text's surprisal or one unit's activation (and the page)."""
        from charrnn.analysis import neurons, scoring

        name, ckpt = model
        preds = scoring.predictions(ckpt.params, ckpt.model, ckpt.vocab, text)
        bits = preds.bits
        result = {
            "checkpoint": name,
            "score": {
                "chars": len(bits),
                "total_bits": float(bits.sum()),
                "bits_per_char": preds.bits_per_char,
                "surprisal_bits": bits.tolist(),
            },
        }
        unit = None
        if self.neuron:
            unit = neurons.Unit(*self.neuron, "c" if self.cell_state else "h")
            values = neurons.activation(ckpt.params, ckpt.model, ckpt.vocab, text, unit)
            result["neuron"] = {**asdict(unit), "label": unit.label, "values": values.tolist()}
            del result["score"]["surprisal_bits"]
        return result

    def write_page(self, name: str, ckpt, text: str, text_path, neuron: dict | None) -> None:
        import numpy as np

        from charrnn import files
        from charrnn.analysis import page, scoring
        from charrnn.cli.facts import describe

        preds = scoring.predictions(ckpt.params, ckpt.model, ckpt.vocab, text)
        facts = describe(ckpt, name)
        m, t = facts["model"], facts["training"]
        rows = [
            ("checkpoint", name),
            ("model", f"{m['cell'].upper()}, {m['num_layers']} x {m['hidden_size']}, {m['parameters']:,} parameters"),
            (
                "trained on",
                f"{facts['corpus'].get('name', '?')}: {t['steps']:,} steps"
                + ("" if t["best_val_bits"] is None else f", best validation {t['best_val_bits']:.3f} bits/char"),
            ),
            (
                "this text",
                f"{'standard input' if text_path == '-' else text_path}: {len(text):,} characters, "
                f"{preds.bits_per_char:.3f} bits/char",
            ),
        ]
        colouring = None if neuron is None else page.NeuronColouring(neuron["label"], np.asarray(neuron["values"]))
        html_page = page.page(
            text,
            preds,
            ckpt.vocab.chars,
            title=f"charrnn: {Path(name).name} reads {'standard input' if text_path == '-' else Path(text_path).name}",
            facts=rows,
            history=facts["history"],
            neuron=colouring,
        )
        with output_to("--html"):
            files.write_text(self.html_path, html_page)
