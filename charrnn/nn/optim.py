"""Optimizers over named-parameter dicts, gradient clipping and the learning-rate schedule.

Optimizer state is a flat dict of arrays keyed `<slot>.<param name>` plus a step count, so it is
saved in the checkpoint as it is and training resumes exactly. Updates are in place.
Hyper-parameters other than the learning rate are PyTorch's defaults.
"""

from __future__ import annotations

import numpy as np

from charrnn.config import TrainConfig
from charrnn.nn.model import Params
from charrnn.nn.workspace import Workspace, empty

SLOTS = {"adam": ("m", "v"), "rmsprop": ("v",), "adagrad": ("v",), "sgd": ("m",)}
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8
RMS_ALPHA, RMS_EPS = 0.99, 1e-8
ADAGRAD_EPS = 1e-10


def init_state(name: str, params: Params) -> dict[str, np.ndarray]:
    state = {f"{slot}.{k}": np.zeros_like(p) for slot in SLOTS[name] for k, p in params.items()}
    state["t"] = np.zeros((), np.int64)
    return state


def clip_grad_norm(grads: Params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm (0: no clip).

    Returns the norm before clipping (inf or nan when the gradients are not finite).
    """
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    if max_norm > 0 and norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= scale
    return norm


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Step decay: lr * lr_decay ** (step // lr_decay_every)."""
    return cfg.lr * cfg.lr_decay ** (step // cfg.lr_decay_every)


def step(
    name: str,
    params: Params,
    grads: Params,
    state: dict[str, np.ndarray],
    lr: float,
    momentum: float = 0.9,
    ws: Workspace | None = None,
    kernels: str = "numpy",
) -> None:
    """One in-place update of every parameter (grads are used as scratch and overwritten); Adam's
    in one compiled pass per parameter when `kernels` is "numba" (nn/kernels.py)."""
    state["t"] += 1
    update = _fused_adam if name == "adam" and kernels == "numba" else UPDATES[name]
    for k, p in params.items():
        slots = [state[f"{slot}.{k}"] for slot in SLOTS[name]]
        update(p, grads[k], empty(ws, k, p.shape, p.dtype), *slots, lr=lr, t=int(state["t"]), momentum=momentum)


def _adam(p, g, tmp, m, v, lr, t, momentum):
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr m_hat / (sqrt(v_hat) + eps)."""
    np.multiply(g, g, out=tmp)
    m *= BETA1
    g *= 1 - BETA1
    m += g
    v *= BETA2
    tmp *= 1 - BETA2
    v += tmp
    np.multiply(v, 1 / (1 - BETA2**t), out=tmp)  # v_hat
    np.sqrt(tmp, out=tmp)
    tmp += ADAM_EPS
    np.multiply(m, lr / (1 - BETA1**t), out=g)  # lr m_hat
    g /= tmp
    p -= g


def _fused_adam(p, g, tmp, m, v, lr, t, momentum):
    """_adam in one compiled pass over each parameter (charrnn/nn/jit.py), on flat views."""
    if not all(a.flags.c_contiguous for a in (p, g, m, v)):
        return _adam(p, g, tmp, m, v, lr, t, momentum)  # no flat view to update in place
    from charrnn.nn import jit

    flat = [a.reshape(-1) for a in (p, g, m, v)]
    x = p.dtype.type
    jit.adam(*flat, x(BETA1), x(BETA2), x(lr / (1 - BETA1**t)), x(1 / (1 - BETA2**t)), x(ADAM_EPS))


def _rmsprop(p, g, tmp, v, lr, t, momentum):
    """v = alpha v + (1-alpha) g^2;  p -= lr g / (sqrt(v) + eps)."""
    np.multiply(g, g, out=tmp)
    v *= RMS_ALPHA
    tmp *= 1 - RMS_ALPHA
    v += tmp
    _divide_by_root(p, g, tmp, v, lr, RMS_EPS)


def _adagrad(p, g, tmp, v, lr, t, momentum):
    """v += g^2;  p -= lr g / (sqrt(v) + eps)."""
    np.multiply(g, g, out=tmp)
    v += tmp
    _divide_by_root(p, g, tmp, v, lr, ADAGRAD_EPS)


def _divide_by_root(p, g, tmp, v, lr, eps):
    """p -= lr g / (sqrt(v) + eps), the step RMSProp and Adagrad share."""
    np.sqrt(v, out=tmp)
    tmp += eps
    g *= lr
    g /= tmp
    p -= g


def _sgd(p, g, tmp, m, lr, t, momentum):
    """As torch.optim.SGD with momentum: m = momentum m + g;  p -= lr m."""
    m *= momentum
    m += g
    np.multiply(m, lr, out=g)
    p -= g


UPDATES = {"adam": _adam, "rmsprop": _rmsprop, "adagrad": _adagrad, "sgd": _sgd}
