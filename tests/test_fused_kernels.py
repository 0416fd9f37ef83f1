"""numba's fused kernels give NumPy's numbers in float32, up to rounding: a training step's loss,
every gradient, the state carried on, a validation, and Adam's updates.

In float64 both kinds are checked against the plain equations (tests/test_cells.py, which also
runs the fused ones); here the float32 that training runs. All of it skips where numba is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from charrnn.errors import KernelError
from charrnn.nn import kernels, model, optim
from tests.cli_helpers import TEXT, assert_clean_error, invoke, tiny, write
from tests.conftest import CELL_KINDS, tiny_model_config

NEEDS_NUMBA = pytest.mark.skipif(kernels.numba_error() is not None, reason="numba is not installed (the fast extra)")

V, B, T = 11, 5, 9


def close(got, want, scale_tol=1e-5):
    """Equal up to float32 rounding, relative to the array's own scale (a gradient's small entries
    carry the rounding of its large ones)."""
    scale = float(np.abs(want).max()) or 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=scale_tol * scale)


@NEEDS_NUMBA
@pytest.mark.parametrize("cell,act", CELL_KINDS)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_a_training_step_is_numpys_up_to_rounding(cell, act, dropout):
    cfg = tiny_model_config(cell, nonlinearity=act, num_layers=2, dropout=dropout)
    params = model.init_params(cfg, V, np.random.default_rng(0))
    data = np.random.default_rng(1)
    x, y = data.integers(0, V, (B, T)), data.integers(0, V, (B, T))
    state = (data.standard_normal(model.zero_state_shape(cfg, B)) * 0.5).astype(np.float32)

    def step(kernels):
        rng = np.random.default_rng(2) if dropout else None
        return model.loss_and_grads(params, cfg, x, y, state, rng, kernels=kernels)

    loss, grads, new_state = step("numba")
    want_loss, want_grads, want_state = step("numpy")
    assert loss == pytest.approx(want_loss, rel=1e-6)
    close(new_state, want_state)
    assert grads.keys() == want_grads.keys()
    for name in grads:
        close(grads[name], want_grads[name])


@NEEDS_NUMBA
def test_training_and_validation_run_the_kernels_chosen(monkeypatch):
    """A Trainer takes the environment's choice once; a few steps and a validation with numba's
    kernels are NumPy's up to rounding."""
    from charrnn.data.corpus import Corpus
    from charrnn.training.trainer import Trainer
    from tests.conftest import TINY_TEXT, tiny_train_config

    runs = {}
    for name in ("numba", "numpy"):
        monkeypatch.setenv(kernels.VARIABLE, name)
        trainer = Trainer(Corpus.from_text(TINY_TEXT), tiny_model_config("lstm", dropout=0.2), tiny_train_config())
        monkeypatch.delenv(kernels.VARIABLE)  # chosen once, at the start
        assert trainer.kernels == name
        losses = [trainer.train_step().loss for _ in range(5)]
        runs[name] = losses, trainer.evaluate()
    np.testing.assert_allclose(runs["numba"][0], runs["numpy"][0], rtol=1e-5)
    assert runs["numba"][1] == pytest.approx(runs["numpy"][1], rel=1e-5)


@NEEDS_NUMBA
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-6), (np.float64, 1e-14)])
def test_adam_updates_are_numpys_up_to_rounding(dtype, tol):
    """Ten steps of every moment and parameter, one of them a view that is not contiguous (it
    takes NumPy's path), over a learning rate that changes."""
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((7, 13)).astype(dtype), "b": rng.standard_normal(13).astype(dtype)}
    grads = [{k: rng.standard_normal(p.shape).astype(dtype) for k, p in start.items()} for _ in range(10)]

    def run(kernels):
        params = {k: p.copy() for k, p in start.items()}
        params["t"] = np.ones((13, 2), dtype)[:, 0]  # a strided view
        state = optim.init_state("adam", params)
        for i, g in enumerate(grads):
            g = {**{k: v.copy() for k, v in g.items()}, "t": np.full(13, 0.1 * i, dtype)}
            optim.step("adam", params, g, state, lr=0.01 / (1 + i), kernels=kernels)
        return params, state

    params, state = run("numba")
    want_params, want_state = run("numpy")
    for k in want_params:
        np.testing.assert_allclose(params[k], want_params[k], rtol=tol, atol=tol)
    for k in want_state:
        np.testing.assert_allclose(state[k], want_state[k], rtol=tol, atol=tol)


@NEEDS_NUMBA
def test_tanh_is_within_a_few_units_in_the_last_place():
    """The fused kernels' own tanh, against float64's, over the whole range and near zero; a NaN
    stays a NaN (divergence is caught from it) and infinities go to +-1."""
    from numba import njit

    from charrnn.nn import jit

    @njit
    def tanh_of(x, out):
        for i in range(x.size):
            out[i] = jit.tanh(x[i])

    grid = np.concatenate(
        [np.linspace(-30, 30, 200_001), np.geomspace(1e-30, 1, 2_001), -np.geomspace(1e-30, 1, 2_001)]
    )
    for dtype, most in [(np.float32, 3 * np.finfo(np.float32).eps), (np.float64, 8 * np.finfo(np.float64).eps)]:
        x = grid.astype(dtype)
        out = np.empty_like(x)
        tanh_of(x, out)
        exact = np.tanh(x.astype(np.float64))
        assert np.max(np.abs(out - exact) / np.maximum(np.abs(exact), np.finfo(dtype).tiny)) <= most
        special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype)
        out = np.empty_like(special)
        tanh_of(special, out)
        assert np.isnan(out[0]) and list(out[1:]) == [1, -1, 0, 0] and np.signbit(out[4])


@NEEDS_NUMBA
@pytest.mark.parametrize("cell,act", CELL_KINDS)
def test_a_nan_in_a_step_comes_out_a_nan(cell, act):
    """A NaN weight spreads to the loss, as in NumPy, so that training stops as diverged."""
    cfg = tiny_model_config(cell, nonlinearity=act)
    params = model.init_params(cfg, V, np.random.default_rng(0))
    params["rnn.weight_hh_l0"][0, 0] = np.nan
    x = np.random.default_rng(1).integers(0, V, (B, T))
    loss, grads, _ = model.loss_and_grads(params, cfg, x, x, model.zero_state(cfg, B), kernels="numba")
    assert np.isnan(loss) or not np.isfinite(optim.clip_grad_norm(grads, 0))


@NEEDS_NUMBA
def test_the_fused_kernels_run_where_numba_can_cache_nothing(tmp_path):
    """As from a read-only install: with no folder numba could write its cache to, the kernels
    are compiled in the process instead, and they work."""
    from numba.core import config

    if not hasattr(config, "CACHE_LOCATOR_CLASSES"):
        pytest.skip("this numba has no NUMBA_CACHE_LOCATOR_CLASSES to take every cache folder away")
    code = (
        "import numpy as np\n"
        "from charrnn.nn import jit\n"
        "assert jit.rnn_step._cache.__class__.__name__ == 'NullCache'\n"
        "h = np.array([[-1.0, 0.5]], np.float32)\n"
        "jit.rnn_step(h, False)\n"
        "print(h.tolist())\n"
    )
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator", "PYTHONPATH": os.getcwd()}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(eval(out.stdout), [np.tanh([-1.0, 0.5])], rtol=1e-6)


@NEEDS_NUMBA
def test_the_kernels_are_chosen_by_the_environment(monkeypatch):
    monkeypatch.setenv(kernels.VARIABLE, "numpy")
    assert kernels.kernels_in_use() == "numpy"
    monkeypatch.setenv(kernels.VARIABLE, "numba")
    assert kernels.kernels_in_use() == "numba"
    monkeypatch.delenv(kernels.VARIABLE)
    assert kernels.kernels_in_use() == "numba"  # installed: the default
    monkeypatch.setenv(kernels.VARIABLE, "fortran")
    with pytest.raises(KernelError, match="must be one of numba, numpy, not 'fortran'"):
        kernels.kernels_in_use()


def test_asking_for_numba_where_it_cannot_be_imported_says_why(monkeypatch):
    monkeypatch.setattr(kernels, "numba_error", lambda: "No module named 'numba'")
    monkeypatch.delenv(kernels.VARIABLE, raising=False)
    assert kernels.kernels_in_use() == "numpy"  # the default falls back
    monkeypatch.setenv(kernels.VARIABLE, "numba")
    with pytest.raises(KernelError, match="CHARRNN_KERNELS=numba, but numba cannot be imported: No module"):
        kernels.kernels_in_use()


@pytest.mark.parametrize("name,said", [("numpy", "NumPy kernels"), ("numba", "fused numba kernels")])
def test_train_says_which_kernels_run(name, said, tmp_path):
    if name == "numba" and kernels.numba_error() is not None:
        pytest.skip("numba is not installed (the fast extra)")
    corpus = write(tmp_path / "corpus.txt", TEXT)
    result = invoke(["train", str(corpus), "-c", str(tmp_path / "m.npz"), *tiny()], env={kernels.VARIABLE: name})
    assert result.exit_code == 0, result.stderr
    assert f"; {said}; stopping after" in result.stderr


def test_an_unknown_choice_of_kernels_is_one_clean_error(tmp_path):
    corpus = write(tmp_path / "corpus.txt", TEXT)
    ckpt = tmp_path / "m.npz"
    result = invoke(["train", str(corpus), "-c", str(ckpt), *tiny()], env={kernels.VARIABLE: "fortran"})
    assert_clean_error(result, 1, "CHARRNN_KERNELS must be one of numba, numpy, not 'fortran'")
    assert not ckpt.exists()
