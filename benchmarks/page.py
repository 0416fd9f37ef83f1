"""The exported page: its size with float32 and float16 weights, and what float16 costs in bits/char.

The page computes with the weights it holds; with float16 those are the checkpoint's rounded to
half precision. Scoring a held-out text with the rounded weights (in charrnn, the same numbers
the page's JavaScript uses) against the checkpoint's own gives the cost. The text is the last
--chars characters of the checkpoint's training corpus (inside its validation tail, 5 % by
default), or --text.

    python benchmarks/page.py -c shakespeare.npz
    python benchmarks/page.py -c code.npz --text held_out.py
"""

from __future__ import annotations

import argparse

import numpy as np

from charrnn import checkpoint
from charrnn.analysis import novelty, scoring
from charrnn.data.corpus import read_text
from charrnn.language_model import LanguageModel
from charrnn.web import page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--checkpoint", default="charrnn.npz")
    ap.add_argument("--text", help="held-out text to score (default: the corpus's tail)")
    ap.add_argument("--chars", type=int, default=20_000)
    args = ap.parse_args()
    ckpt = checkpoint.load(args.checkpoint)
    if args.text:
        text = read_text(args.text, None)[-args.chars :]
    else:
        corpus = novelty.training_corpus(ckpt.record.corpus)
        text = corpus.vocab.decode(corpus.ids[-args.chars :].tolist())
    model, m = LanguageModel.of(ckpt), ckpt.model
    print(f"{args.checkpoint}: {m.num_layers} x {m.hidden_size} {m.cell.upper()}, {len(ckpt.vocab)} characters")
    full = None
    for dtype in page.WEIGHT_DTYPES:
        size = len(page.page(model, "t", dtype=dtype).encode("utf-8"))
        as_on_the_page = model._replace(params=page.rounded(model.params, dtype))
        bpc = float(-scoring.log_probs(as_on_the_page, text).mean() / np.log(2))
        full = full if full is not None else bpc
        print(
            f"  {dtype}: page {size / 1e6:6.2f} MB, {bpc:.5f} bits/char on {len(text):,} held-out characters ({bpc - full:+.5f})"
        )


if __name__ == "__main__":
    main()
