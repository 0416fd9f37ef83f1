"""Training: the event stream, when it stops, what it validates on, the best/last weights it keeps,
exact resumption from a checkpoint, seeding, and divergence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from charrnn import checkpoint
from charrnn.analysis import scoring
from charrnn.cli.errors import message
from charrnn.data.corpus import Corpus
from charrnn.errors import CharRNNError, CheckpointError, DataError, NotResumable, TrainingDiverged
from charrnn.language_model import LanguageModel
from charrnn.training.trainer import EvalEvent, StepEvent, Trainer
from tests.conftest import PATTERN, TINY_TEXT, tiny_model_config, tiny_train_config


def run(trainer: Trainer, **kwargs) -> list[StepEvent | EvalEvent]:
    return list(trainer.run(**kwargs))


def assert_same_arrays(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].tobytes() == b[k].tobytes(), k


# -- events and stopping -------------------------------------------------------------------------


def test_run_yields_step_events_and_eval_events(tiny_corpus):
    cfg = tiny_train_config(max_steps=5, eval_every=2, lr_schedule="step")  # a constant rate, for 5 steps
    trainer = Trainer(tiny_corpus, tiny_model_config(), cfg)
    events = run(trainer)
    kinds = [(type(e).__name__, e.step) for e in events]
    assert kinds == [
        ("StepEvent", 1),
        ("StepEvent", 2),
        ("EvalEvent", 2),
        ("StepEvent", 3),
        ("StepEvent", 4),
        ("EvalEvent", 4),
        ("StepEvent", 5),
        ("EvalEvent", 5),  # a last validation at the end
    ]
    steps = [e for e in events if isinstance(e, StepEvent)]
    n_windows = trainer.windows.n_windows
    for e in steps:
        assert np.isfinite(e.loss) and np.isfinite(e.smooth_loss)
        assert e.grad_norm > 0 and e.lr == 1e-2 and e.chars_per_sec > 0
        assert e.epoch == pytest.approx(e.step / n_windows)
    assert steps[0].loss == pytest.approx(np.log(len(tiny_corpus.vocab)), abs=0.1)
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert evals[0].best  # the first validation is always the best so far
    assert all(np.isfinite(e.val_loss) for e in evals)
    assert evals[0].val_bits == pytest.approx(evals[0].val_loss / np.log(2))
    assert [h["step"] for h in trainer.history] == [2, 4, 5]
    assert trainer.step == 5


def test_no_extra_validation_when_the_last_step_just_had_one(tiny_corpus):
    events = run(Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(max_steps=4, eval_every=2)))
    assert [e.step for e in events if isinstance(e, EvalEvent)] == [2, 4]


def test_stops_after_whole_and_fractional_epochs(tiny_corpus):
    trainer = Trainer(tiny_corpus, tiny_model_config("rnn"), tiny_train_config(max_steps=None, epochs=2))
    n = trainer.windows.n_windows
    assert n > 1
    steps = [e for e in run(trainer) if isinstance(e, StepEvent)]
    assert len(steps) == trainer.step == 2 * n
    assert steps[-1].epoch == 2.0
    half = Trainer(tiny_corpus, tiny_model_config("rnn"), tiny_train_config(max_steps=None, epochs=0.5))
    run(half)
    assert half.step == int(np.ceil(n / 2))


def test_max_steps_wins_over_epochs(tiny_corpus):
    trainer = Trainer(tiny_corpus, tiny_model_config("rnn"), tiny_train_config(max_steps=3, epochs=10))
    run(trainer)
    assert trainer.step == 3


def test_stop_requested_ends_the_run(tiny_corpus):
    trainer = Trainer(tiny_corpus, tiny_model_config("rnn"), tiny_train_config(max_steps=50))
    events = run(trainer, stop_requested=lambda: trainer.step >= 3)
    assert trainer.step == 3
    assert [e.step for e in events if isinstance(e, StepEvent)] == [1, 2, 3]


def test_learning_rate_decays_in_steps(tiny_corpus):
    cfg = tiny_train_config(max_steps=7, lr=0.01, lr_schedule="step", lr_decay=0.5, lr_decay_every=3)
    lrs = [e.lr for e in run(Trainer(tiny_corpus, tiny_model_config("rnn"), cfg)) if isinstance(e, StepEvent)]
    assert lrs == pytest.approx([0.01] * 3 + [0.005] * 3 + [0.0025])


def test_too_short_corpus_is_a_data_error():
    with pytest.raises(DataError, match="at least"):
        Trainer(Corpus.from_text("hello"), tiny_model_config(), tiny_train_config())


# -- validation ----------------------------------------------------------------------------------

HEAD = PATTERN * 36  # 432 characters to train on
TAIL = "world hello\n" * 4 + "h"  # 49 held-out characters, the same letters in another order


def trained(trainer: Trainer) -> LanguageModel:
    """The model as the trainer holds it now: its latest weights."""
    return LanguageModel(trainer.params, trainer.model_cfg, trainer.corpus.vocab)


def held_out_corpus() -> Corpus:
    return Corpus.from_text(HEAD + TAIL)


def held_out_config(**overrides):
    return tiny_train_config(val_fraction=len(TAIL) / len(HEAD + TAIL) + 1e-6, **overrides)


def test_validation_scores_exactly_the_held_out_tail():
    """With one stream and windows that tile it, validation is the tail's mean loss from a blank state."""
    corpus = held_out_corpus()
    trainer = Trainer(corpus, tiny_model_config(), held_out_config(max_steps=150, batch_size=1, seq_len=16))
    assert corpus.vocab.decode(trainer.val_ids) == TAIL  # 48 = 3 * 16 predictions
    run(trainer)
    expected = -scoring.log_probs(trained(trainer), TAIL).mean()
    assert trainer.evaluate() == pytest.approx(expected, rel=1e-5)
    # the training text is learned, the differently ordered tail is not: validation is not on the head
    head_loss = -scoring.log_probs(trained(trainer), HEAD[:49]).mean()
    assert head_loss < 0.5 * trainer.evaluate()


def test_validation_reads_at_most_eval_chars():
    corpus = held_out_corpus()
    trainer = Trainer(corpus, tiny_model_config(), held_out_config(max_steps=5, batch_size=1, eval_chars=33))
    assert corpus.vocab.decode(trainer.val_ids) == TAIL[:33]
    run(trainer)
    expected = -scoring.log_probs(trained(trainer), TAIL[:33]).mean()
    assert trainer.evaluate() == pytest.approx(expected, rel=1e-5)


def test_checkpoint_keeps_the_best_weights_and_the_latest_as_last(tmp_path):
    """Trained on the head, the model overfits: validation improves, then worsens (the same
    windows every epoch, which overfit sooner, steps enough for the LSTM's uniform start, and a
    rate that stays high: the default cosine's, falling by the end, overfits later)."""
    corpus = held_out_corpus()
    cfg = held_out_config(max_steps=120, eval_every=5, patience=None, epoch_offsets="fixed", lr_schedule="step")
    trainer = Trainer(corpus, tiny_model_config(), cfg)
    snapshots = {}
    evals = []
    for e in trainer.run():
        if isinstance(e, EvalEvent):
            evals.append(e)
            snapshots[e.step] = {k: p.copy() for k, p in trainer.params.items()}
    val = [e.val_loss for e in evals]
    best = evals[int(np.argmin(val))]
    assert best.step < evals[-1].step - 20 and val[-1] > min(val) + 0.2  # the precondition: it overfits
    assert [e.best for e in evals] == [v == min(val[: i + 1]) and v not in val[:i] for i, v in enumerate(val)]
    path = tmp_path / "c.npz"
    checkpoint.save(trainer.checkpoint(), path)
    loaded = checkpoint.load(path)
    assert_same_arrays(loaded.params, snapshots[best.step])  # under rnn.* / decoder.*
    last = {k.removeprefix("last."): v for k, v in loaded.resume.items() if k.startswith("last.")}
    assert_same_arrays(last, trainer.params)
    assert loaded.progress["best_step"] == best.step
    assert loaded.progress["best_val_loss"] == best.val_loss
    assert loaded.progress["step"] == 120
    assert [h["val_loss"] for h in loaded.progress["history"]] == val


# -- resuming ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,layers,dropout,optimizer",
    [("lstm", 2, 0.3, "adam"), ("gru", 1, 0.0, "rmsprop"), ("rnn", 2, 0.5, "sgd"), ("lstm", 1, 0.0, "adagrad")],
)
def test_resume_continues_exactly(tmp_path, tiny_corpus, cell, layers, dropout, optimizer):
    """2k steps in one go == k steps, save, load, k more steps: byte for byte (the dropout masks
    come from the saved rng state, so they must continue too). An epoch boundary falls in the second half.
    The step limit is raised on resuming, so the schedule is one that does not go by it (step decay)."""
    k = 5
    mcfg = tiny_model_config(cell, num_layers=layers, dropout=dropout, hidden_size=8)
    cfg = tiny_train_config(max_steps=2 * k, eval_every=3, optimizer=optimizer, lr=3e-3, lr_schedule="step")
    full = Trainer(tiny_corpus, mcfg, cfg)
    assert k < full.windows.n_windows < 2 * k
    full_events = run(full)

    first = Trainer(tiny_corpus, mcfg, dataclasses.replace(cfg, max_steps=k))
    first_events = run(first)
    path = tmp_path / "resume.npz"
    checkpoint.save(first.checkpoint(), path)
    ckpt = checkpoint.load(path)
    second = Trainer(tiny_corpus, ckpt.model, dataclasses.replace(ckpt.train, max_steps=2 * k), resume=ckpt)
    assert second.step == k
    second_events = run(second)

    assert_same_arrays(second.params, full.params)
    assert_same_arrays(second.opt_state, full.opt_state)
    np.testing.assert_array_equal(second.state, full.state)
    assert_same_arrays(second.checkpoint().params, full.checkpoint().params)  # best weights too
    losses = [(e.step, e.loss) for e in first_events + second_events if isinstance(e, StepEvent)]
    assert losses == [(e.step, e.loss) for e in full_events if isinstance(e, StepEvent)]
    assert second.smooth_loss == full.smooth_loss
    assert [h["val_loss"] for h in second.history if h["step"] % 3 == 0] == [
        h["val_loss"] for h in full.history if h["step"] % 3 == 0
    ]


def test_each_epoch_reads_the_streams_from_another_offset_and_a_resumed_run_reads_the_same(tmp_path, tiny_corpus):
    """Random offsets (the default): epoch 2's first window is not epoch 0's, and a run saved
    in the middle of its third epoch continues with the windows, and weights, of one that was not
    (at a rate that does not depend on the step limit, which the two runs set differently)."""
    mcfg = tiny_model_config(hidden_size=8)
    full = Trainer(tiny_corpus, mcfg, tiny_train_config())
    n = full.windows.n_windows
    steps = 3 * n + 2
    full = Trainer(tiny_corpus, mcfg, tiny_train_config(max_steps=steps, lr_schedule="step"))
    assert full.cfg.epoch_offsets == "random"
    firsts = [full.windows.window(0, epoch=e)[0] for e in range(3)]
    assert not np.array_equal(firsts[0], firsts[1]) and not np.array_equal(firsts[1], firsts[2])
    seen = []
    full_steps = [e.loss for e in run(full) if isinstance(e, StepEvent)]
    first = Trainer(tiny_corpus, mcfg, tiny_train_config(max_steps=2 * n + 1, lr_schedule="step"))
    run(first)
    path = tmp_path / "resume.npz"
    checkpoint.save(first.checkpoint(), path)
    ckpt = checkpoint.load(path)
    assert ckpt.train.epoch_offsets == "random"
    second = Trainer(tiny_corpus, ckpt.model, dataclasses.replace(ckpt.train, max_steps=steps), resume=ckpt)
    read = second.windows.window
    second.windows.window = lambda k, rows, epoch: seen.append((k, epoch)) or read(k, rows, epoch)
    second_steps = [e.loss for e in run(second) if isinstance(e, StepEvent)]
    assert second_steps == full_steps[2 * n + 1 :]
    assert seen[0] == (1, 2) and seen[-1] == (1, 3)
    assert_same_arrays(second.params, full.params)


def test_fixed_offsets_read_the_same_windows_every_epoch(tiny_corpus):
    trainer = Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(epoch_offsets="fixed"))
    w = trainer.windows
    for e in range(1, 4):
        np.testing.assert_array_equal(w.window(2, epoch=e)[0], w.window(2, epoch=0)[0])


def test_resume_needs_training_state(tiny_corpus, tmp_path):
    trainer = Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(max_steps=2))
    run(trainer)
    ckpt = trainer.checkpoint()
    ckpt.resume = {}  # weights only, e.g. converted from PyTorch
    with pytest.raises(CheckpointError, match="resumed") as e:  # the checkpoint's fault, not the corpus's
        Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(max_steps=4), resume=ckpt)
    assert isinstance(e.value, NotResumable) and "last." in e.value.missing
    assert "--force" in message(e.value)  # the command line says what to do


def test_resume_on_a_corpus_with_another_vocabulary_is_refused(tiny_corpus):
    trainer = Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(max_steps=2))
    run(trainer)
    other = Corpus.from_text(TINY_TEXT.replace("h", "j"))  # same size, different characters
    with pytest.raises(CharRNNError, match="vocabulary"):
        Trainer(other, tiny_model_config(), tiny_train_config(max_steps=4), resume=trainer.checkpoint())


@pytest.mark.parametrize("change", ["hidden_size", "optimizer"])
def test_resume_with_another_model_or_optimizer_is_refused(tiny_corpus, change):
    trainer = Trainer(tiny_corpus, tiny_model_config(), tiny_train_config(max_steps=2))
    run(trainer)
    mcfg = tiny_model_config(hidden_size=8) if change == "hidden_size" else tiny_model_config()
    tcfg = tiny_train_config(max_steps=4, optimizer="sgd" if change == "optimizer" else "adam")
    with pytest.raises(CharRNNError):
        run(Trainer(tiny_corpus, mcfg, tcfg, resume=trainer.checkpoint()))


# -- seeding and divergence ----------------------------------------------------------------------


def test_same_seed_same_weights_other_seed_other_weights(tiny_corpus):
    mcfg = tiny_model_config("lstm", num_layers=2, dropout=0.2, hidden_size=8)
    a, b, c = (Trainer(tiny_corpus, mcfg, tiny_train_config(max_steps=6, seed=s)) for s in (7, 7, 8))
    for t in (a, b, c):
        run(t)
    assert_same_arrays(a.params, b.params)
    assert not np.array_equal(a.params["decoder.weight"], c.params["decoder.weight"])


def test_huge_learning_rate_raises_training_diverged(tiny_corpus):
    """A ReLU RNN blows up to inf/NaN at once."""
    cfg = tiny_train_config(max_steps=20, lr=1e4, grad_clip=0.0, optimizer="sgd")
    trainer = Trainer(tiny_corpus, tiny_model_config("rnn", nonlinearity="relu"), cfg)
    with pytest.raises(TrainingDiverged) as e:
        run(trainer)
    assert trainer.step < 20
    assert f"step {trainer.step + 1}" in str(e.value)
    assert (e.value.step, e.value.settings) == (trainer.step + 1, {"lr": 1e4, "grad_clip": 0.0})
    assert "lower --lr (now 10000)" in message(e.value)  # the advice, in flags, is the command line's


def test_huge_learning_rate_diverges_for_a_saturating_cell(tiny_corpus):
    cfg = tiny_train_config(max_steps=30, lr=1e4, grad_clip=0.0, optimizer="sgd")
    with pytest.raises(TrainingDiverged):
        run(Trainer(tiny_corpus, tiny_model_config("lstm", hidden_size=8), cfg))
