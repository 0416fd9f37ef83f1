"""`inspect novelty`: the text with its copied spans highlighted, the longest span and the share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

    from charrnn.cli.views import NoveltyView


def render(view: NoveltyView, out: Console) -> None:
    """The text (a NoveltyView) with its copied spans highlighted, then the longest span and the share."""
    n = view.novelty
    rendered = Text()
    for ch, copied in zip(view.shown, n.copied.tolist()):
        rendered.append(ch, style="black on yellow" if copied else None)
    out.print(rendered)
    corpus = view.corpus.get("name", "the corpus")
    if n.longest:
        out.print(
            f"\nlongest span found in {corpus}: {'at least ' * n.longest_at_least}{n.longest:,} characters, "
            f"at {n.longest_at:,} in the text; "
            f"in the corpus at character {n.corpus_at:,} (line {n.corpus_line:,}), {n.occurrences:,} time"
            f"{'s' if n.occurrences != 1 else ''}: {n.span!r}"
        )
    else:
        out.print(f"\nno character of the text occurs in {corpus}")
    out.print(
        f"copied: {n.copied_chars:,} of {n.chars:,} characters ({n.copied_share:.1%}) lie in spans of at least "
        f"{n.min_copy} characters that {corpus} has (highlighted)"
    )
