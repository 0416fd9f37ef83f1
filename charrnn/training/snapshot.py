"""What a checkpoint holds of a run, and a run restored from one.

The file's members are checkpoint.py's (resume_arrays); here is what the Trainer puts in them and
in the counters of `progress`, and how a resumed Trainer takes them back, so that it continues
exactly. A run resumed on another text is fine-tuning: what was judged on the old text starts afresh.
"""

from __future__ import annotations

import numpy as np

from charrnn.checkpoint import Checkpoint, from_resume, resume_arrays
from charrnn.data.streams import CHUNK_BYTES
from charrnn.errors import NotResumable
from charrnn.training.resume import check_resumable, other_corpus
from charrnn.training.schedules import Schedule

# what a checkpoint's record must hold for a run to continue from it
CONTINUED_BY = ("rng", "step", "elapsed", "smooth_loss", "best_step", "history")
LEAD_IN = 64  # characters kept to reach the start-of-document state (generation/documents.py)


def to_checkpoint(trainer) -> Checkpoint | None:
    """Everything needed to continue exactly. Under several workers every worker must call it
    (the carried state is gathered from all of them); rank 0 gets the checkpoint, others None."""
    states = trainer.comm.gather(trainer.state)
    if trainer.comm.rank:
        return None
    carried = states[0] if len(states) == 1 else np.concatenate(states, axis=2)
    arrays = resume_arrays(trainer.params, trainer.opt_state, carried)
    best = trainer.best_params if trainer.best_params is not None else trainer.params
    return Checkpoint(trainer.model_cfg, trainer.cfg, trainer.corpus.vocab, best, progress(trainer), arrays)


def progress(trainer) -> dict:
    """The counters, history, corpus and random state a checkpoint's metadata records."""
    t = trainer
    return {
        "step": t.step,
        "epoch": t.epoch,
        "elapsed": t.elapsed,
        "smooth_loss": t.smooth_loss,
        "best_val_loss": t.best_val if np.isfinite(t.best_val) else None,
        "best_step": t.best_step,
        "history": t.history,
        "corpus": t.corpus.meta(),
        "rng": t.rng.bit_generator.state,
        "schedule": t.schedule.state,
        "baselines": t.baselines.to_dict() if t.baselines else None,
        "init_from": t.init_from,
        "lead_in": lead_in(t.corpus, t.train_ids),
        "eval_chars": len(t.val_ids),  # the count measured (validation.plan), so that a resumed run keeps its set
    }


def restore(trainer, ckpt: Checkpoint) -> int | None:
    """Continue `ckpt` in `trainer`, a new Trainer of the same settings (check_resumable). Returns
    the validation characters the run read (None in a checkpoint written before they were recorded)."""
    t = trainer
    check_resumable(ckpt, t.model_cfg, t.cfg, t.corpus.vocab)
    r = ckpt.record
    try:
        t.params, t.opt_state, state = from_resume(ckpt.resume, t.params, t.opt_state)
        missing = [name for name in CONTINUED_BY if name in r.absent]
        if missing:
            raise KeyError(missing[0])
        t.rng.bit_generator.state = r.rng
        t.step, t.elapsed, t.smooth_loss = r.step, r.elapsed, float(r.smooth_loss)
        t.best_step, t.history = r.best_step, [h.to_dict() for h in r.history]
        t.schedule = Schedule(t.cfg, t.windows.n_windows, r.schedule)
        t.baselines = r.baselines
        recorded = _count(r.eval_chars)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise NotResumable(str(e)) from None
    L, S, _, H = t.state.shape
    if state.shape == (L, S, t.cfg.batch_size, H):
        t.state = np.ascontiguousarray(state[:, :, t.rows])
    t.best_val = r.best_val_loss if r.best_val_loss is not None else float("inf")
    t.best_params = dict(ckpt.params)
    t.init_from = None if r.init_from is None else r.init_from.to_dict()
    t.trained_on = other_corpus(ckpt, t.corpus)
    if t.trained_on is not None:
        start_afresh(t)
    return recorded


def _count(n) -> int | None:
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 2):
        raise ValueError("the validation's count of characters is damaged")
    return n


def start_afresh(trainer) -> None:
    """Fine-tuning on another text: what was judged on the old one cannot carry over."""
    t = trainer
    t.best_val, t.best_step, t.best_params, t.history = float("inf"), t.step, None, []
    t.baselines = None
    t.schedule.state.update(best=None, bad=0)  # the plateau's best loss was on the old text too
    t.init_from = {"corpus": t.trained_on, "steps": t.step}


def lead_in(corpus, train_ids: np.ndarray, n: int = LEAD_IN) -> str | None:
    """The last n characters of the training text before its last boundary: how a document
    start was reached in training (see generation/documents.py); None without boundaries."""
    B = corpus.boundary
    if B is None:
        return None
    tail = np.asarray(train_ids[-CHUNK_BYTES:])
    at = np.flatnonzero(tail == corpus.vocab.encode(B)[0])
    end = at[-1] if len(at) and at[-1] > 0 else len(tail)
    return corpus.vocab.decode(tail[max(0, end - n) : end].tolist())
