"""What a checkpoint holds (`charrnn inspect` alone): a table of its facts and its learning curve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from charrnn.chars import show_char
from charrnn.cli import console
from charrnn.cli.render import drawing
from charrnn.cli.render.baselines import baselines_line, below_baseline

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import Facts
    from charrnn.config import ModelConfig

FILES_SHOWN = 5  # of a corpus of several files, the first few are named


def render(view: Facts, out: Console) -> None:
    """The facts (a cli.views.Facts) as a table, then the learning curve."""
    facts = view.data
    # no borders: at 80 columns the longest name and a whole SHA-256 fit side by side
    table = Table(
        title=facts["checkpoint"],
        show_header=False,
        title_justify="left",
        box=None,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows(facts, view.model):
        table.add_row(key, value)
    out.print(table)
    history = facts["history"]
    if history:
        out.print("\nlearning curve, bits/char by step  (* train, o validation)")
        series = {
            "train": [(h["step"], h["train_bits"]) for h in history],
            "val": [(h["step"], h["val_bits"]) for h in history],
        }
        for line in drawing.line_plot(series):
            out.print(line)


def rows(facts: dict, model: ModelConfig) -> list[tuple[str, str]]:
    """The table's (name, value) rows; `model` is the checkpoint's ModelConfig, named in one line."""
    m, t, c, b = facts["model"], facts["training"], facts["corpus"], facts.get("baselines")
    vocab = facts["vocab"]
    trained = f"{t['steps']:,} steps, {t['epochs']:.2f} epochs, {console.format_duration(t['elapsed_seconds'])}"
    return [
        ("model", f"{model.describe()}, dropout {m['dropout']}"),
        ("parameters", f"{m['parameters']:,}"),
        ("vocabulary", f"{vocab['size']} characters: " + " ".join(show_char(ch) for ch in vocab["chars"])),
        ("corpus", f"{c.get('name')}, {c.get('bytes', 0):,} bytes, {c.get('chars', 0):,} characters"),
        *corpus_rows(c),
        ("manifest sha256" if "files" in c else "corpus sha256", str(c.get("sha256"))),
        ("trained", trained),
        ("best validation", best_validation(t, b, model.bidirectional)),
        *([("baselines", baselines_line(b, model.bidirectional))] if b else []),
        *([("fine-tuned from", fine_tuned_from(t["init_from"]))] if t.get("init_from") else []),
        ("format", f"{facts['format_version']}, written by charrnn {facts['writer_version'] or '(version unknown)'}"),
    ]


def best_validation(t: dict, b: dict | None, both_sides: bool = False) -> str:
    """The best validation bits/char and its step, and where the baselines are known, how it compares."""
    if t["best_val_bits"] is None:
        return "-"
    best = f"{t['best_val_bits']:.4f} bits/char at step {t['best_step']:,}"
    return f"{best}; {below_baseline(t['best_val_bits'], b, both_sides)}" if b else best


def corpus_rows(c: dict) -> list[tuple[str, str]]:
    """What a corpus of several files or documents adds to the facts: files, documents, what was skipped."""
    rows = []
    if "files" in c:
        listed = c.get("file_list")
        shown = ", ".join(f"{f['path']} ({f['bytes']:,} bytes)" for f in (listed or [])[:FILES_SHOWN])
        more = c["files"] - min(len(listed or []), FILES_SHOWN)
        tail = f"{', ' if shown else ''}and {more:,} more (--json lists them)" if listed and more else ""
        rows.append(("files", f"{c['files']:,}" + (f": {shown}{tail}" if listed else " (listed by the manifest hash)")))
        if skipped := c.get("skipped"):
            rows.append(("skipped", ", ".join(f"{n:,} {reason}" for reason, n in skipped.items())))
    if c.get("documents", 1) > 1:
        held = f"; {c['held_out']:,} characters of whole documents held out" if c.get("held_out") else ""
        sep = f", cut at {c['separator']!r}" if c.get("separator") else ""
        rows.append(("documents", f"{c['documents']:,}{sep}, ended by U+{ord(c['boundary']):04X}{held}"))
    return rows


def fine_tuned_from(init: dict) -> str:
    """The model a fine-tuned checkpoint started from, as its record names it."""
    corpus = init.get("corpus") or {}
    steps = init.get("steps")
    return f"a model trained {steps:,} steps on {corpus.get('name', '?')}" if isinstance(steps, int) else "a model"
