"""Renderers: what each `inspect` view looks like in a terminal (tables, plots, coloured text).

rich is imported inside the functions that use them, so `charrnn --help` stays fast.
"""

from __future__ import annotations

from typing import Any

from charrnn.analysis import colours
from charrnn.cli import console, textview

SURPRISE_COLOURS = ["green", "green_yellow", "yellow", "orange1", "red", "bright_red"]  # 2 bits each
SURPRISE_MARKS = [" ", " ", "-", "-", "^", "^"]  # the same bands, without colour


def line_plot(
    series: dict[str, list[tuple[float, float]]], width: int = 60, height: int = 12, y_label=None
) -> list[str]:
    """A small text plot of (x, y) series, one marker character per series, y labelled.

    y_label turns a y value into its 6-character label (default: 2 decimals).
    """
    points = [p for s in series.values() for p in s]
    if not points:
        return []
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid = [[" "] * width for _ in range(height)]
    for marker, pts in zip("*o+x", series.values()):
        for x, y in pts:
            col = 0 if x1 == x0 else round((x - x0) / (x1 - x0) * (width - 1))
            row = 0 if y1 == y0 else round((y1 - y) / (y1 - y0) * (height - 1))
            grid[row][col] = marker
    lines = []
    for r, row in enumerate(grid):
        label = y1 - (y1 - y0) * r / max(height - 1, 1)
        lines.append((y_label(label) if y_label else f"{label:6.2f}") + " |" + "".join(row))
    lines.append(" " * 7 + "+" + "-" * width)
    lines.append(" " * 8 + f"{x0:<.0f}".ljust(width - 8) + f"{x1:>8.0f}")
    return lines


def info(view) -> None:
    """What a checkpoint holds (a Facts), as a table and a learning curve on stdout."""
    from rich.table import Table

    from charrnn.config import ModelConfig, from_dict
    from charrnn.vocab import show_char

    out = console.console()
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
    m, t, c = facts["model"], facts["training"], facts["corpus"]
    rows = [
        (
            "model",
            f"{from_dict(ModelConfig, {k: v for k, v in m.items() if k != 'parameters'}).describe()}, "
            f"dropout {m['dropout']}",
        ),
        ("parameters", f"{m['parameters']:,}"),
        (
            "vocabulary",
            f"{facts['vocab']['size']} characters: " + " ".join(show_char(ch) for ch in facts["vocab"]["chars"]),
        ),
        ("corpus", f"{c.get('name')}, {c.get('bytes', 0):,} bytes, {c.get('chars', 0):,} characters"),
        *corpus_rows(c),
        ("manifest sha256" if "files" in c else "corpus sha256", str(c.get("sha256"))),
        ("trained", f"{t['steps']:,} steps, {t['epochs']:.2f} epochs, {console.format_duration(t['elapsed_seconds'])}"),
        (
            "best validation",
            "-"
            if t["best_val_bits"] is None
            else f"{t['best_val_bits']:.4f} bits/char at step {t['best_step']:,}"
            + (f"; {below_baseline(t['best_val_bits'], facts['baselines'])}" if facts.get("baselines") else ""),
        ),
        *([("baselines", baselines_line(facts["baselines"]))] if facts.get("baselines") else []),
        *([("fine-tuned from", fine_tuned_from(t["init_from"]))] if t.get("init_from") else []),
        ("format", f"{facts['format_version']}, written by charrnn {facts['writer_version'] or '(version unknown)'}"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)
    history = facts["history"]
    if history:
        out.print("\nlearning curve, bits/char by step  (* train, o validation)")
        plot = line_plot(
            {
                "train": [(h["step"], h["train_bits"]) for h in history],
                "val": [(h["step"], h["val_bits"]) for h in history],
            }
        )
        for line in plot:
            out.print(line)


FILES_SHOWN = 5


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


def baselines_line(b: dict) -> str:
    """The three baselines in one line, and how much training text the n-gram model counted."""
    counted = (
        f"counted on the first {b['train_chars']:,} of {b['train_total']:,} training characters"
        if b["train_chars"] < b["train_total"]
        else f"counted on {b['train_chars']:,} training characters"
    )
    return (
        f"uniform {b['uniform']:.3f}, unigram {b['unigram']:.3f}, n-gram {b['ngram']:.3f} bits/char "
        f"(order {b['order']}, {counted}; {b['val_chars']:,} validation characters)"
    )


def below_baseline(value: float, b: dict) -> str:
    """'0.37 below the best n-gram (order 5, 2.36)', or above it."""
    gap = b["ngram"] - value
    return f"{abs(gap):.2f} {'below' if gap >= 0 else 'above'} the best n-gram (order {b['order']}, {b['ngram']:.2f})"


def fine_tuned_from(init: dict) -> str:
    corpus = init.get("corpus") or {}
    steps = init.get("steps")
    return f"a model trained {steps:,} steps on {corpus.get('name', '?')}" if isinstance(steps, int) else "a model"


def surprise_level(bits: float) -> int:
    return min(int(bits // 2), len(SURPRISE_COLOURS) - 1)


def counts(score) -> str:
    """How many characters a Score covers, as the terminal and the page both say it."""
    return f"{score.chars:,} characters scored of {score.chars + 1:,}"


def _more(out, shown: int, chars: int) -> None:
    out.print(f"\n... the first {shown:,} of {chars:,} characters; --show N shows more, --all every one")


def _surprisal_text(out, text: str, bits) -> None:
    """text coloured (or marked) by the surprisal `bits` of its last len(bits) characters."""
    offset = len(text) - len(bits)  # 1 where the text's first character, never predicted, is in it
    levels = [None] * offset + [surprise_level(b) for b in bits.tolist()]
    styles = [None if lv is None else SURPRISE_COLOURS[lv] for lv in levels]
    marks = [" " if lv is None else SURPRISE_MARKS[lv] for lv in levels]

    def line_label(start: int, stop: int) -> str:
        scored = bits[max(start - offset, 0) : max(stop - offset, 0)]
        return f"{scored.mean():.2f}" if len(scored) else ""

    textview.draw(out, text, styles, marks, line_label)


def score(view) -> None:
    """The scored text (a ScoreView), each character coloured by how surprising it was; for a long
    text its first characters and its most and least surprising lines; then the totals."""
    out = console.console()
    s = view.score
    _surprisal_text(out, view.shown, s.surprisal_bits[: len(view.shown) - 1])
    if len(view.shown) <= s.chars:
        _more(out, len(view.shown), s.chars + 1)
        for title, passages in (("most", view.passages.most), ("least", view.passages.least)):
            if passages:
                out.print(f"\nthe {title} surprising lines:")
            for p in passages:
                out.print(f"line {p.line:,}, {p.bits_per_char:.2f} bits/char:", style="bold")
                _surprisal_text(out, p.text, p.surprisal_bits)
    out.print(f"\n{counts(s)}: {s.total_bits:,.1f} bits in total, {s.bits_per_char:.4f} bits/char")
    bands = [
        f"< {2 * (i + 1)}" if i < len(SURPRISE_COLOURS) - 1 else f">= {2 * i}" for i in range(len(SURPRISE_COLOURS))
    ]
    textview.legend(
        out,
        [(f"{band} bits", colour) for band, colour in zip(bands, SURPRISE_COLOURS)],
        "each line after its bits/char; under it, - marks a character of 4 to 8 bits, ^ one of 8 bits or more",
    )


# -- inspect's analysis views -------------------------------------------------------------------


def activation_style(value: float, scale: float) -> str:
    """Black or white, whichever reads better, on a background from blue (negative) through
    white (0) to red (positive): the page's colours (analysis/colours.py)."""
    background = colours.rgb(colours.activation(value, scale))
    return f"{colours.hex_code(colours.text_on(background))} on {colours.hex_code(background)}"


def neurons(view) -> None:
    """The text (a NeuronView) with each character's background coloured by one unit's activation
    after it; plain, each line after its mean activation, + and - under strong values."""
    out = console.console()
    text, values, label = view.shown, view.values[: len(view.shown)], view.unit.label
    scale = float(abs(values).max()) if len(values) else 0.0
    styles = [activation_style(v, scale) for v in values.tolist()]
    marks = ["+" if v >= scale / 2 > 0 else "-" if v <= -scale / 2 < 0 else " " for v in values.tolist()]
    textview.draw(out, text, styles, marks, lambda start, stop: f"{values[start:stop].mean():+.2f}")
    if len(text) < view.score.chars + 1:
        _more(out, len(text), view.score.chars + 1)
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    out.print(f"\n{label}: from {lo:+.3f} to {hi:+.3f}")
    textview.legend(
        out,
        [(f"{v:+.2f}", activation_style(v, scale)) for v in (-scale, -scale / 2, 0.0, scale / 2, scale)],
        f"each line after its mean value; under it, + marks a value of {scale / 2:+.3f} or more, - one of {-scale / 2:+.3f} or less",
    )


def find_neurons(view, shown: int = 20) -> None:
    """Properties of the text (a FindNeuronsView) and the units that track them best, strongest first."""
    from rich.table import Table

    from charrnn.analysis.neurons import Unit

    out = console.console()
    found = view.search.to_dict()
    table = Table(
        title=f"units that track properties of the text ({found['chars']:,} characters)", title_justify="left"
    )
    table.add_column("property")
    table.add_column("best unit", justify="right")
    table.add_column("r", justify="right")
    table.add_column("runners-up")

    def name(u: dict[str, Any]) -> str:
        return str(Unit(u["layer"], u["unit"], u["state"]))

    for prop in found["properties"][:shown]:
        best, *rest = prop["units"]
        table.add_row(
            prop["property"], name(best), f"{best['r']:+.2f}", ", ".join(f"{name(u)} {u['r']:+.2f}" for u in rest)
        )
    out.print(table)
    if found["constant_properties"]:
        out.print("not in this text: " + ", ".join(found["constant_properties"]))
    if found["properties"]:
        best = found["properties"][0]["units"][0]
        flag = " --cell-state" if best["state"] == "c" else ""
        out.print("r is the correlation over the text; to see the strongest unit along it:")
        out.print(f"  charrnn inspect neurons TEXT --unit {best['layer']}:{best['unit']}{flag}")


def gradients(view, floor: float = 1e-8) -> None:
    """Gradient norm against steps back (a GradientsView), one curve per checkpoint, on a log scale."""
    import math

    from rich import box
    from rich.table import Table

    out = console.console()
    models = view.to_dict()["models"]
    threshold = models[0]["threshold"]
    table = Table(
        title=f"gradient of the loss w.r.t. the input k steps back, mean of {models[0]['positions']} positions",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("model", no_wrap=True)  # with the plot's marker, which the checkpoints below repeat
    marks = [k for k in (1, 10, 50) if k < models[0]["span"]]
    for k in marks:
        table.add_column(f"k={k}", justify="right", no_wrap=True)
    table.add_column(f"k at {threshold:.0%}", justify="right", no_wrap=True)
    table.add_column("far/step", justify="right", no_wrap=True)
    for marker, m in zip("*o+x", models):
        below, far = m["k_below_threshold"], m["far_factor_per_step"]
        table.add_row(
            f"{marker} {m['model']}",
            *(f"{m['relative'][k]:.1e}" for k in marks),
            f"> {m['span'] - 1}" if below is None else str(below),
            "-" if far is None else f"x {far:.3f}",
        )
    out.print(table)
    for marker, m in zip("*o+x", models):  # below the table, where a long path cannot squeeze the figures
        out.print(f"{marker} {m['checkpoint']}", soft_wrap=True)
    out.print(
        f"k at {threshold:.0%}: the first k where the gradient is below {threshold:.0%} of its size at k = 0; "
        f"far/step: how much it shrinks per step over k >= {models[0]['span'] // 2}"
    )
    series = {m["checkpoint"]: [(k, math.log10(max(r, floor))) for k, r in enumerate(m["relative"])] for m in models}
    out.print(f"\nrelative gradient norm by steps back k (log scale, 1 at k = 0, floor {floor:.0e})")
    for line in line_plot(series, y_label=lambda y: f"{10**y:6.0e}"):
        out.print(line)


def compare(view) -> None:
    """Checkpoints ranked (a CompareView) by bits per character on the characters all of them could score."""
    from rich.table import Table

    from charrnn.vocab import list_chars, show_char

    out = console.console()
    ranking = view.ranking.to_dict()
    table = Table(
        title=f"which model finds the text least surprising ({ranking['comparable_chars']:,} of "
        f"{ranking['chars']:,} characters comparable)",
        title_justify="left",
    )
    for name, justify in (
        ("rank", "right"),
        ("checkpoint", "left"),
        ("bits/char", "right"),
        ("own bits/char", "right"),
        ("scored", "right"),
        ("skipped", "right"),
    ):
        table.add_column(name, justify=justify)
    for m in ranking["models"]:
        table.add_row(
            str(m["rank"]),
            m["name"],
            f"{m['bits_per_char']:.4f}",
            f"{m['own_bits_per_char']:.4f}",
            f"{m['scored_chars']:,}",
            f"{m['skipped_chars']:,}",
        )
    out.print(table)
    for m in ranking["models"]:
        if m["skipped_chars"]:
            out.print(
                f"{m['name']} never saw {list_chars(m['missing'], show=show_char, sep=' ')}: it read the text without those "
                f"{m['skipped_chars']:,} characters and was not scored on them"
            )
    out.print("bits/char: over the characters every model scored (the ranking); own: over all it scored")


def novelty(view) -> None:
    """The text (a NoveltyView) with its copied spans highlighted, then the longest span and the share."""
    from rich.text import Text

    out, n = console.console(), view.novelty
    rendered = Text()
    for ch, copied in zip(view.shown, n.copied.tolist()):
        rendered.append(ch, style="black on yellow" if copied else None)
    out.print(rendered)
    corpus = view.corpus.get("name", "the corpus")
    if n.longest:
        out.print(
            f"\nlongest span found in {corpus}: {n.longest:,} characters, at {n.longest_at:,} in the text; "
            f"in the corpus at character {n.corpus_at:,} (line {n.corpus_line:,}), {n.occurrences:,} time"
            f"{'s' if n.occurrences != 1 else ''}: {n.span!r}"
        )
    else:
        out.print(f"\nno character of the text occurs in {corpus}")
    out.print(
        f"copied: {n.copied_chars:,} of {n.chars:,} characters ({n.copied_share:.1%}) lie in spans of at least "
        f"{n.min_copy} characters that {corpus} has (highlighted)"
    )
