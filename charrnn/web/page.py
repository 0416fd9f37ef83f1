"""A page that writes in the browser: one self-contained HTML file with the model in it.

The weights (base64 of little-endian float32, or float16 to halve the page) and the vocabulary
travel in a JSON block; writer.js, inlined beside it, runs the stacked RNN/LSTM/GRU step and the
page around it. A Content-Security-Policy forbids every connection and every external resource:
the page can only run its own inline script and style, so it works offline and can leak nothing.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from charrnn.errors import ConfigError, Unrepresentable
from charrnn.nn.model import Params, check_left_to_right, num_params
from charrnn.web.text_page import named

if TYPE_CHECKING:
    from charrnn.language_model import LanguageModel

WEIGHT_DTYPES = ("float32", "float16")
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'"
)
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } .facts { color: #666; margin: 0 0 1em; }
textarea { width: 100%; height: 4em; font: 14px ui-monospace, monospace; box-sizing: border-box; }
.controls { display: flex; flex-wrap: wrap; gap: .4em 1.4em; align-items: center; margin: .6em 0; }
.controls input[type=number] { width: 5em; } button { font-size: 1em; padding: .2em 1em; }
.main { display: grid; grid-template-columns: 1fr 16em; gap: 1.5em; }
#out { white-space: pre-wrap; font: 14px/1.4 ui-monospace, monospace; background: #f6f6f3;
       padding: .8em; min-height: 18em; margin: 0; border-radius: 4px; }
#out .new { color: #0b3d91; } #status { color: #a33; min-height: 1.3em; }
.bar { display: grid; grid-template-columns: 2.2em 1fr 3.4em; align-items: center; gap: .4em;
       font: 13px ui-monospace, monospace; margin: 2px 0; }
.bar .ch { text-align: center; background: #eee; border-radius: 3px; }
.bar .fill { background: #4a7fd4; height: .9em; border-radius: 2px; min-width: 1px; }
.bar .p { text-align: right; color: #555; } h2 { font-size: 1em; margin: 0 0 .4em; }
"""


def encode_weights(params: Params, dtype: str = "float32") -> dict[str, str]:
    """Each weight as base64 of its little-endian bytes, in PyTorch's shape, row-major."""
    if dtype not in WEIGHT_DTYPES:
        raise ConfigError(f"weights are stored as {' or '.join(WEIGHT_DTYPES)}, not {dtype}")
    kept = {name: p for name, p in params.items() if name.startswith(("rnn.", "decoder."))}
    _check_range(kept, dtype)
    return {
        name: base64.b64encode(np.ascontiguousarray(p, np.dtype(dtype).newbyteorder("<")).tobytes()).decode("ascii")
        for name, p in kept.items()
    }


def _check_range(params: Params, dtype: str) -> None:
    """Unrepresentable naming the largest weight if one would become infinite in `dtype` (a page
    computes with what it holds: an infinite weight makes every probability NaN)."""
    largest = float(np.finfo(dtype).max)
    name, p = max(params.items(), key=lambda item: float(np.abs(item[1]).max(initial=0.0)))
    value = float(p.flat[np.abs(p).argmax()]) if p.size else 0.0
    with np.errstate(over="ignore"):  # the overflow is the question asked, and said below
        beyond = np.isinf(np.float64(value).astype(dtype))  # rounding decides, not the largest value itself
    if beyond:
        raise Unrepresentable(name, value, dtype, largest)


def rounded(params: Params, dtype: str) -> Params:
    """The weights as the page holds them, back in float32: what a float16 page computes with."""
    return {name: p.astype(dtype).astype(np.float32) for name, p in params.items()}


def _script_json(data: dict) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")


def page(model: LanguageModel, title: str, prime: str = "", dtype: str = "float32") -> str:
    """The whole page, as text."""
    cfg, vocab = model.cfg, model.vocab
    check_left_to_right(cfg, "write text in a page")
    spec = {  # what writer.js reads
        "cell": cfg.cell,
        "nonlinearity": cfg.nonlinearity,
        "hidden_size": cfg.hidden_size,
        "num_layers": cfg.num_layers,
        "vocab": vocab.chars,
        "dtype": dtype,
        "weights": encode_weights(model.params, dtype),
    }
    script = resources.files("charrnn.web").joinpath("writer.js").read_text(encoding="utf-8")
    facts = (
        f"{cfg.describe(num_params(model.params))} ({dtype}), {len(vocab)} characters. "
        "Everything runs in this page; it makes no connection."
    )
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{named(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{named(title)}</h1>
<p class="facts">{e(facts)}</p>
<label for="prime">Prime: the text the model reads before it writes</label>
<textarea id="prime" spellcheck="false">{e(prime)}</textarea>
<div class="controls">
<label>temperature <input id="temp" type="range" min="0" max="2" step="0.05" value="0.8"> <span id="temp-value"></span></label>
<label>top-k <input id="topk" type="number" min="0" value="0" title="0: all characters"></label>
<label><input id="argmax" type="checkbox"> argmax</label>
<label>length <input id="length" type="number" min="1" value="500"></label>
<button id="write">Write</button> <button id="stop">Stop</button>
</div>
<div id="status"></div>
<div class="main">
<pre id="out"></pre>
<div><h2>Next character</h2><div id="bars"></div></div>
</div>
<script type="application/json" id="charrnn-model">{_script_json(spec)}</script>
<script>
{script}
</script>
</body>
</html>
"""
