"""Fine-tuning from a trained model: weights matched by character, never by index."""

from __future__ import annotations

import numpy as np

from charrnn import checkpoint
from charrnn.data.corpus import Corpus
from charrnn.nn import model
from charrnn.training import finetune
from charrnn.training.trainer import Trainer
from tests.conftest import TINY_TEXT, tiny_model_config, tiny_train_config


def old_model(tmp_path) -> checkpoint.Checkpoint:
    trainer = Trainer(Corpus.from_text(TINY_TEXT), tiny_model_config(), tiny_train_config(max_steps=60))
    for _ in trainer.run():
        pass
    checkpoint.save(trainer.checkpoint(), tmp_path / "old.npz")
    return checkpoint.load(tmp_path / "old.npz")


def fine_tuned(old, text: str, **train) -> Trainer:
    """A new run on `text` from the old model, before any step."""
    vocab, _ = finetune.joint_vocab(old.vocab, sorted(set(text)))
    return Trainer(Corpus.from_text(text, vocab=vocab), old.model, tiny_train_config(**train), init_from=old)


def logits(params, cfg, text_ids) -> np.ndarray:
    """(T, V) logits after each character of the text, from a zero state."""
    state = model.zero_state(cfg, 1)
    return np.concatenate([lg for _, lg, _, _ in model.read(params, cfg, text_ids[None, :], state)])


def test_zero_steps_on_a_text_in_the_old_characters_gives_exactly_the_old_probabilities(tmp_path):
    old = old_model(tmp_path)
    trainer = fine_tuned(old, "low howl\n" * 60)  # some of the old characters, none new
    assert trainer.corpus.vocab == old.vocab and trainer.step == 0
    for k, p in old.params.items():
        assert np.array_equal(trainer.params[k], p), k
    ids = old.vocab.encode("hello world\nhello").astype(np.intp)
    assert np.array_equal(logits(trainer.params, old.model, ids), logits(old.params, old.model, ids))


def test_new_characters_get_new_rows_and_old_characters_keep_their_meaning(tmp_path):
    old = old_model(tmp_path)
    text = "Hello World, Zoe!\n" * 40  # H, W, Z, ',' and '!' sort before the old lower-case letters
    trainer = fine_tuned(old, text, seed=3)
    vocab = trainer.corpus.vocab
    new = finetune.joint_vocab(old.vocab, sorted(set(text)))[1]
    assert new == ["!", ",", "H", "W", "Z"]
    assert vocab.chars == sorted(old.vocab.chars + new)
    assert vocab.encode("h")[0] != old.vocab.encode("h")[0]  # so matching by index would garble it
    # each new character's rows are those of a new model with the run's seed
    fresh = model.init_params(old.model, len(vocab), np.random.default_rng(3))
    at_new = vocab.encode("".join(new)).astype(np.intp)
    assert np.array_equal(trainer.params["rnn.weight_ih_l0"][:, at_new], fresh["rnn.weight_ih_l0"][:, at_new])
    assert np.array_equal(trainer.params["decoder.weight"][at_new], fresh["decoder.weight"][at_new])
    # each old character keeps its weights, so on an old text the old characters' logits are the old ones
    at_old = vocab.encode("".join(old.vocab.chars)).astype(np.intp)
    old_text = "hello world\nhello"
    mine = logits(trainer.params, old.model, vocab.encode(old_text).astype(np.intp))
    theirs = logits(old.params, old.model, old.vocab.encode(old_text).astype(np.intp))
    np.testing.assert_allclose(mine[:, at_old], theirs, rtol=1e-6, atol=1e-6)

    # and the probabilities among the old characters are the old model's
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    np.testing.assert_allclose(softmax(mine[:, at_old]), softmax(theirs), rtol=1e-5, atol=1e-7)


def test_fine_tuning_is_a_new_run(tmp_path):
    old = old_model(tmp_path)
    trainer = fine_tuned(old, "hello there world\n" * 30, max_steps=5)
    assert (trainer.step, trainer.history, trainer.opt_state["t"]) == (0, [], 0)
    assert all(not v.any() for k, v in trainer.opt_state.items() if k != "t")
    for _ in trainer.run():
        pass
    saved = trainer.checkpoint()
    assert saved.progress["step"] == 5 and len(saved.progress["history"]) == 1
    assert saved.progress["init_from"]["steps"] == 60
    assert saved.progress["init_from"]["corpus"]["sha256"] == old.progress["corpus"]["sha256"]
