"""Settings that cannot work well, found before training starts: each a `Caution` that states the
facts and names the config fields that would mend it (the command line turns those into flags)."""

from __future__ import annotations

from dataclasses import dataclass

from charrnn.nn import model

FEW_WINDOWS = 20  # windows per epoch below which an epoch says little
OVERSIZED = 10  # parameters per training character above which a model memorises
SMALL_VALIDATION = 5000  # validation characters below which bits/char is noisy


@dataclass(frozen=True)
class Caution:
    """A setting that cannot work well: `kind` names the case, `fields` the config fields that
    would mend it; str() states the facts."""

    kind: str  # few_windows | oversized | other_corpus | small_validation
    facts: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return self.facts


def cautions(trainer) -> list[Caution]:
    """What a Trainer about to start would do badly, in the order they are said."""
    found = (few_windows(trainer), oversized(trainer), other_corpus(trainer), small_validation(trainer))
    return [c for c in found if c is not None]


def few_windows(trainer) -> Caution | None:
    n, cfg = trainer.windows.n_windows, trainer.cfg
    if n >= FEW_WINDOWS:
        return None
    facts = (
        f"only {n} windows per epoch: the corpus is small for batch size "
        f"{cfg.batch_size} x sequence length {cfg.seq_len}"
    )
    return Caution("few_windows", facts, ("batch_size", "seq_len"))


def oversized(trainer) -> Caution | None:
    n_train, n_params = trainer.windows.x.size, model.num_params(trainer.params)
    if n_params <= OVERSIZED * n_train:
        return None
    facts = (
        f"the model has {n_params:,} parameters for {n_train:,} training characters: "
        "it will memorise rather than generalise"
    )
    return Caution("oversized", facts, ("hidden_size", "num_layers"))


def other_corpus(trainer) -> Caution | None:
    """A resumed run on another text than its checkpoint's: fine-tuning, said as such."""
    if trainer.trained_on is None:
        return None
    name, old = trainer.corpus.name, trainer.trained_on.get("name", "another text")
    facts = (
        f"{name} is not the text the checkpoint was trained on ({old}): training goes on from its weights, with the "
        f"validation set, the best weights and the learning curve started afresh on {name}"
    )
    return Caution("other_corpus", facts, ())


def small_validation(trainer) -> Caution | None:
    n = len(trainer.val_ids)
    if n >= SMALL_VALIDATION:
        return None
    facts = f"the validation text is only {n:,} characters: its bits/char will be noisy"
    return Caution("small_validation", facts, ("val_fraction",))
