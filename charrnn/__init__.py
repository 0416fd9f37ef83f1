"""charrnn: character-level RNN, LSTM and GRU language models written directly in NumPy.

The package is a library first; `charrnn.cli` is a thin command line over it:

    import charrnn
    model = charrnn.load("charrnn.npz")          # a LanguageModel: weights, config, vocabulary
    print(model.generate_text("ROMEO:", length=200, temperature=0.8))

Everything else takes that one model too: the analyses that `charrnn inspect` shows
(`charrnn.analysis.scoring`, `neurons`, `gradient_reach`, `ranking`), beam search and best of N
(`charrnn.generation.beam`, `best_of`) and the page that writes in the browser (`charrnn.web.page`).

Importing `charrnn` itself loads nothing but this file (the command line starts fast, and reads
`__version__` from here); `load` and `LanguageModel` bring in NumPy and the core on first use.
"""

__version__ = "0.1.0"
__all__ = ["LanguageModel", "load", "__version__"]


def __getattr__(name: str):
    if name in ("LanguageModel", "load"):
        from charrnn import language_model

        return getattr(language_model, name)
    raise AttributeError(f"module 'charrnn' has no attribute {name!r}")
