"""One self-contained HTML page showing how a model read a text.

The page is a single file with no network access and no external assets: inline CSS, an
inline SVG learning curve and a few lines of inline JavaScript. Each character of the text is
coloured by its surprisal (or by one neuron's activation); hovering over it shows its
probability and the model's top alternatives. Without JavaScript the same facts show as the
browser's own tooltips. `page` returns the HTML as a string; writing it is the caller's job.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from charrnn.analysis.scoring import Predictions
from charrnn.chars import show_char
from charrnn.files import display
from charrnn.web import colours
from charrnn.web.colours import SURPRISE_FULL

MAX_CHARS = 20_000  # characters shown; a page of more is slow to open and no easier to read


@dataclass
class NeuronColouring:
    label: str  # e.g. "layer 0, unit 42, cell state"
    values: np.ndarray  # (N,) activation after each character


def visible(ch: str) -> str:
    """A character as it can be read in a tooltip: in «», whitespace and controls escaped."""
    return f"«{show_char(ch)}»"


def surprisal_colour(bits: float) -> str:
    return colours.css(colours.surprisal(bits))


def activation_colour(value: float, scale: float) -> str:
    return colours.css(colours.activation(value, scale))


def text_colour(background: colours.HSL) -> str:
    return colours.hex_code(colours.text_on(colours.rgb(background)))


def _tips(text: str, preds: Predictions, chars: Sequence[str], neuron: NeuronColouring | None, n: int) -> list[str]:
    """What hovering over each of the first n characters shows."""
    tips = ["the first character: nothing before it, so not predicted"][: preds.first_scored]
    surprisal = preds.bits
    for i in range(preds.first_scored, n):
        j = i - preds.first_scored  # its row of preds
        p = math.exp(preds.logp[j])
        alts = "   ".join(
            f"{visible(chars[c])} {math.exp(lp):.3f}" for c, lp in zip(preds.top_ids[j], preds.top_logp[j])
        )
        shown = f"{p:.4f}" if p >= 1e-3 else f"{p:.1e}"
        tips.append(f"{visible(text[i])}   p = {shown}   {surprisal[j]:.2f} bits\nexpected: {alts}")
    if neuron is not None:
        tips = [f"{tip}\n{neuron.label} = {neuron.values[i]:+.3f}" for i, tip in enumerate(tips)]
    return tips


def _text_block(text: str, preds: Predictions, tips: Sequence[str], neuron: NeuronColouring | None, n: int) -> str:
    scale = float(np.abs(neuron.values[:n]).max()) if neuron is not None and n else 1.0
    surprisal = preds.bits
    spans = []
    for i in range(n):
        ch = text[i]
        shown = (
            html.escape(ch) if ch.isprintable() or ch in "\n\t" else f'<i class="ctl">{html.escape(show_char(ch))}</i>'
        )
        if neuron is not None:
            colour = colours.activation(float(neuron.values[i]), scale)
        elif i < preds.first_scored:
            colour = None
        else:
            colour = colours.surprisal(surprisal[i - preds.first_scored])
        style = "" if colour is None else f' style="background:{colours.css(colour)};color:{text_colour(colour)}"'
        spans.append(f'<span class="ch" data-i="{i}"{style} title="{html.escape(tips[i])}">{shown}</span>')
    return "".join(spans)


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten apart) spanning [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


@dataclass(frozen=True)
class _Plot:
    """Where a learning curve is drawn: the SVG's size, its margins, and the steps and bits it spans."""

    width: int
    height: int
    x0: float
    x1: float
    y0: float
    y1: float
    left, right, top, bottom = 56, 16, 14, 38

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.width - self.left - self.right)

    def py(self, y: float) -> float:
        return self.top + (self.y1 - y) / (self.y1 - self.y0) * (self.height - self.top - self.bottom)


def learning_curve_svg(history: Sequence[dict], width: int = 420, height: int = 190) -> str:
    """Training and validation bits per character by step, as an inline SVG."""
    if not history:
        return '<p class="note">No learning curve: this checkpoint recorded no validations.</p>'
    steps = [h["step"] for h in history]
    ys = [h[k] for h in history for k in ("train_bits", "val_bits")]
    x0, x1 = min(steps), max(steps)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    y0, y1 = min(ys), max(ys)
    pad = 0.05 * (y1 - y0) or 0.5
    plot = _Plot(width, height, x0, x1, y0 - pad, y1 + pad)
    opening = (
        f'<svg id="curve" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="learning curve: bits per character by step">'
    )
    return "".join([opening, *_axes(plot), *_curves(plot, history), _labels(plot)])


def _axes(plot: _Plot) -> list[str]:
    """The grid and ticks of bits per character, the ticks of steps, and the two axes."""
    left, right, width, bottom, height = plot.left, plot.right, plot.width, plot.bottom, plot.height
    parts = [
        f'<line class="grid" x1="{left}" x2="{width - right}" y1="{plot.py(t):.1f}" y2="{plot.py(t):.1f}"/>'
        f'<text class="tick" x="{left - 6}" y="{plot.py(t) + 4:.1f}" text-anchor="end">{t:g}</text>'
        for t in _nice_ticks(plot.y0, plot.y1)
    ]
    parts += [
        f'<text class="tick" x="{plot.px(t):.1f}" y="{height - bottom + 16}" text-anchor="middle">{t:g}</text>'
        for t in _nice_ticks(plot.x0, plot.x1)
    ]
    parts.append(
        f'<line class="axis" x1="{left}" x2="{left}" y1="{plot.top}" y2="{height - bottom}"/>'
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}"/>'
    )
    return parts


def _curves(plot: _Plot, history: Sequence[dict]) -> list[str]:
    """The training and the validation curve, each point with its figure on hover."""
    parts = []
    for key, name in (("train_bits", "train"), ("val_bits", "val")):
        points = " ".join(f"{plot.px(h['step']):.1f},{plot.py(h[key]):.1f}" for h in history)
        parts.append(f'<polyline class="{name}" points="{points}"/>')
        for h in history:
            parts.append(
                f'<circle class="{name}" cx="{plot.px(h["step"]):.1f}" cy="{plot.py(h[key]):.1f}" r="2.5">'
                f"<title>step {h['step']:,}: {name} {h[key]:.3f} bits/char</title></circle>"
            )
    return parts


def _labels(plot: _Plot) -> str:
    """The axes' names and the legend, and the SVG's end."""
    left, right, top, bottom, width, height = plot.left, plot.right, plot.top, plot.bottom, plot.width, plot.height
    lx = width - right - 150
    return (
        f'<text class="label" x="{(left + width - right) / 2:.0f}" y="{height - 4}" text-anchor="middle">step</text>'
        f'<text class="label" transform="rotate(-90)" x="{-(top + height - bottom) / 2:.0f}" y="14" '
        'text-anchor="middle">bits per character</text>'
        f'<line class="train" x1="{lx}" x2="{lx + 22}" y1="{top + 10}" y2="{top + 10}"/>'
        f'<text class="legend" x="{lx + 28}" y="{top + 14}">training</text>'
        f'<line class="val" x1="{lx}" x2="{lx + 22}" y1="{top + 28}" y2="{top + 28}"/>'
        f'<text class="legend" x="{lx + 28}" y="{top + 32}">validation</text></svg>'
    )


def _legend(neuron: NeuronColouring | None, n: int) -> str:
    if neuron is None:
        stops = ",".join(surprisal_colour(SURPRISE_FULL * t / 4) for t in range(5))
        return (
            f'<div class="legend"><span>0 bits (expected)</span><span class="bar" style="background:'
            f'linear-gradient(to right,{stops})"></span><span>{SURPRISE_FULL:g}+ bits (surprising)</span></div>'
        )
    scale = float(np.abs(neuron.values[:n]).max()) if n else 1.0
    stops = ",".join(activation_colour(scale * t / 4, scale) for t in range(-4, 5))
    return (
        f'<div class="legend"><span>{-scale:+.2f}</span><span class="bar" style="background:'
        f'linear-gradient(to right,{stops})"></span><span>{scale:+.2f}</span></div>'
    )


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#222;background:#fff}
h1{font-size:1.35rem;margin:.3rem 0}h2{font-size:1.05rem;margin:1rem 0 .4rem}
.top{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}figure{margin:0}figcaption{font-size:.85rem;font-weight:600;color:#555}
table.facts{border-collapse:collapse;font-size:.9rem}table.facts th{text-align:left;padding:1px 12px 1px 0;color:#555;font-weight:600}
.legend{display:flex;align-items:center;gap:.6rem;font-size:.8rem;color:#555;margin:.3rem 0}
.legend .bar{display:inline-block;width:14rem;height:.8rem;border:1px solid #ccc}
.hint{font-size:.85rem;color:#555;margin:.3rem 0 .2rem}
#tip{position:sticky;top:0;z-index:1;background:#f7f7f9;border:1px solid #ddd;border-radius:4px;padding:.35rem .6rem;
font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:break-word;min-height:2.8em}
#tip .what{display:block;font:600 .75rem system-ui,sans-serif;color:#555}
.sp{display:inline-block;width:.55em;height:.4em;border:1px solid currentColor;border-top:0;vertical-align:baseline}
pre.text{font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:break-word;border:1px solid #eee;padding:.6rem;margin:.4rem 0}
table.facts td{overflow-wrap:anywhere}
.ch{cursor:default}.ch:hover,.ch.on{outline:1px solid #333}.ctl{color:#999}
.note{color:#666;font-size:.85rem}
svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .tick,svg .legend{font-size:11px;fill:#555}svg .label{font-size:12px;fill:#333}
svg polyline{fill:none;stroke-width:2}svg line.train,svg polyline.train{stroke:#1f77b4}svg line.val,svg polyline.val{stroke:#e8590c}
svg line.train,svg line.val{stroke-width:2}svg circle.train{fill:#1f77b4}svg circle.val{fill:#e8590c}
"""

SCRIPT = """
(function(){
  var tip=document.getElementById('tip'), box=document.querySelector('pre.text'), on=null;
  var spans=box.querySelectorAll('.ch');
  for(var i=0;i<spans.length;i++){spans[i].setAttribute('data-tip',spans[i].title);spans[i].removeAttribute('title');}
  function fill(what,text){  // a space is drawn by CSS (.sp): not every font has a glyph for it
    tip.textContent='';var label=document.createElement('span');label.className='what';label.textContent=what;
    var parts=text.split(SPACE);
    for(var i=0;i<parts.length;i++){
      if(i){var sp=document.createElement('span');sp.className='sp';sp.title='space';tip.appendChild(sp);}
      tip.appendChild(document.createTextNode(parts[i]));
    }
    tip.appendChild(label);
  }
  function show(s,what){if(on)on.classList.remove('on');on=s;s.classList.add('on');
    fill(what||('character '+(+s.getAttribute('data-i')+1).toLocaleString('en')+' of '+TOTAL),s.getAttribute('data-tip'));}
  box.addEventListener('mouseover',function(e){var s=e.target.closest('.ch');if(s)show(s);});
  var first=box.querySelector('.ch[data-i="'+tip.getAttribute('data-start')+'"]');
  if(first)show(first,'the most surprising character, until you hover over another');
})();
"""


def named(text: str) -> str:
    """A line of the page that holds names from outside (the title, a fact): its control
    characters escaped as a terminal shows them (files.display), then made HTML."""
    return html.escape(display(text))


def page(
    text: str,
    preds: Predictions,
    chars: Sequence[str],
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    history: Sequence[dict] = (),
    neuron: NeuronColouring | None = None,
    max_chars: int = MAX_CHARS,
    length: int | None = None,
) -> str:
    """The whole page. preds: the model's predictions for `text`; chars: its vocabulary (ids -> chars).

    facts: (name, value) rows shown under the title; history: the checkpoint's learning curve
    (dicts with step, train_bits, val_bits); neuron: colour by this activation, not by surprisal;
    length: the whole text's, when `text` is only its first characters (read as it came).
    """
    length = len(text) if length is None else length
    n = min(len(text), max_chars)
    shown = "" if n == length else f' <span class="note">(the first {n:,} of {length:,} characters)</span>'
    what = "surprisal: how unexpected each character was" if neuron is None else f"{html.escape(neuron.label)}"
    scored = preds.logp[: n - preds.first_scored]
    start = int(np.argmax(-scored)) + preds.first_scored if len(scored) else 0  # the most surprising character
    rows = "".join(f"<tr><th>{named(k)}</th><td>{named(v)}</td></tr>" for k, v in facts)
    tips = _tips(text, preds, chars, neuron, n)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="charrnn"><title>{named(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{named(title)}</h1>
<div class="top"><table class="facts">{rows}</table>
<figure><figcaption>Learning curve</figcaption>{learning_curve_svg(history)}</figure></div>
<h2>The text, coloured by {what}{shown}</h2>
{_legend(neuron, n)}
<p class="hint">Hover over a character to see its probability and the model's top alternatives.</p>
<div id="tip" data-start="{start}" aria-live="polite">{html.escape(tips[start])}</div>
<pre class="text">{_text_block(text, preds, tips, neuron, n)}</pre>
<p class="note">Written by charrnn. This file is self-contained: it loads nothing from the network.</p>
<script>var SPACE={json.dumps(show_char(" "))}, TOTAL={json.dumps(f"{n:,}")};{SCRIPT}</script>
</body></html>
"""
