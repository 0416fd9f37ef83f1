"""The HTML page: its content as a string, and the page as a real headless browser renders it.

The browser test runs Debian's chromium (`.ci/run` installs it). Where there is none it skips
and says why, except under CI (the CI environment variable set), where a missing browser fails.
"""

from __future__ import annotations

import html as stdlib_html
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.analysis.scoring import Predictions
from charrnn.web import text_page as pages

from .colours import bluish, from_css, lightness, reddish
from .test_analysis import counting_rnn

TEXT = 'if (a < b) & c:\n    print("x")\n'
HISTORY = [
    {"step": 0, "elapsed": 0.0, "train_bits": 4.1, "val_bits": 4.2},
    {"step": 250, "elapsed": 9.0, "train_bits": 2.6, "val_bits": 2.9},
    {"step": 500, "elapsed": 18.0, "train_bits": 2.0, "val_bits": 2.4},
]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def made_up_predictions(text: str, chars: list[str], k: int = 3) -> Predictions:
    """Predictions with known numbers: character i was given probability 2**-(i % 9), and the
    model's favourite was always chars[0], with 1/2, then chars[1] with 1/4, ..."""
    n = len(text) - 1
    bits = np.arange(1, n + 1) % 9.0
    k = min(k, len(chars))
    top_ids = np.tile(np.arange(k), (n, 1))
    top_logp = np.log(np.tile(0.5 ** np.arange(1, k + 1), (n, 1)))
    return Predictions(-bits * np.log(2), top_ids, top_logp)


def spans(page: str) -> list[str]:
    return re.findall(r'<span class="ch[ "][^>]*>.*?</span>', page, flags=re.S)  # "ch on": the one shown


@pytest.fixture
def page() -> str:
    chars = sorted(set(TEXT))
    return pages.page(
        TEXT, made_up_predictions(TEXT, chars), chars, title="a <test>", facts=[("model", "RNN & co")], history=HISTORY
    )


def test_every_character_is_one_span_and_the_text_survives_escaping(page):
    found = spans(page)
    assert len(found) == len(TEXT)
    inner = "".join(re.sub(r"^<span[^>]*>|</span>$", "", s) for s in found)
    assert stdlib_html.unescape(inner) == TEXT
    assert "<test>" not in page and "a &lt;test&gt;" in page and "RNN &amp; co" in page


def test_hover_text_gives_probability_bits_and_alternatives(page):
    tips = [stdlib_html.unescape(m) for m in re.findall(r'title="([^"]*)"', page)]
    assert tips[0].startswith("the first character")
    # character 1 ('f') was given 2**-1, character 9 2**-0 = 1
    shown, expected = tips[1].split("\n")
    assert re.fullmatch(r"«f»\s+p = 0\.5000\s+1\.00 bits", shown), shown
    # the likeliest characters, likeliest first, each with its probability; a newline and a space shown
    assert expected.startswith("expected:"), expected
    assert re.findall(r"«(.+?)» (\d\.\d+)", expected) == [("\\n", "0.500"), ("␠", "0.250"), ('"', "0.125")]
    assert tips[9].startswith("«)»   p = 1.0000   0.00 bits")


def test_surprisal_colours_run_from_pale_to_red_and_neurons_from_blue_to_red():
    light = [lightness(pages.surprisal_colour(b)) for b in (0, 2, 4, 8, 20)]
    assert light == sorted(light, reverse=True) and light[-2] == light[-1]
    assert reddish(pages.surprisal_colour(8))
    assert reddish(pages.activation_colour(0.9, 1.0)) and bluish(pages.activation_colour(-0.9, 1.0))
    assert from_css(pages.activation_colour(0.0, 1.0)) == pytest.approx((1.0, 1.0, 1.0))  # white


def test_a_neuron_page_colours_by_activation_and_shows_it_on_hover():
    text = "ab(ab)\n"
    m = counting_rnn(text)
    preds = scoring.predictions(m, text)
    values = np.array([0, 0, 1, 1, 1, 0, 0], dtype=float)
    page = pages.page(
        text, preds, m.vocab.chars, title="t", neuron=pages.NeuronColouring("layer 0, unit 2, hidden state", values)
    )
    found = spans(page)
    backgrounds = [re.search(r"background:\s*([^;\"]+)", s)[1] for s in found]
    assert [reddish(b) for b in backgrounds] == [bool(v) for v in values]  # red where the unit is on
    assert all(from_css(b) == pytest.approx((1.0, 1.0, 1.0)) for b, v in zip(backgrounds, values) if not v)
    assert "layer 0, unit 2, hidden state = +1.000" in stdlib_html.unescape(found[3])


def test_the_learning_curve_is_an_inline_svg_with_both_series(page):
    svg = re.search(r"<svg.*?</svg>", page, flags=re.S)[0]
    for series in ("train", "val"):
        points = re.search(rf'<polyline class="{series}" points="([^"]*)"', svg)[1].split()
        assert len(points) == len(HISTORY)
    xs = [float(p.split(",")[0]) for p in re.search(r'<polyline class="train" points="([^"]*)"', svg)[1].split()]
    assert xs == sorted(xs)
    assert pages.learning_curve_svg([]).startswith("<p")  # no validations: a note, no empty plot


def test_the_page_is_self_contained(page):
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|\bhref=|@import|url\(", page, flags=re.I)
    assert set(re.findall(r"https?://[^\s\"']+", page)) <= {"http://www.w3.org/2000/svg"}  # a namespace, never fetched


def test_a_long_text_is_cut_and_says_so():
    text = "ab" * 50
    chars = ["a", "b"]
    page = pages.page(text, made_up_predictions(text, chars), chars, title="t", max_chars=30)
    assert len(spans(page)) == 30 and "the first 30 of 100 characters" in page


def test_control_characters_are_shown_not_emitted():
    text = "a\x00b"
    chars = sorted(set(text))
    page = pages.page(text, made_up_predictions(text, chars), chars, title="t")
    assert "\x00" not in page and "\\x00" in page


# -- in a real browser --------------------------------------------------------------------------


def chromium_or_skip() -> str:
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        reason = "chromium is not installed (apt-get install chromium), so the page was not checked in a browser"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}; .ci/run should have installed it")
        pytest.skip(reason)
    return path


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)


def test_a_headless_browser_renders_the_coloured_text_and_the_plot(tmp_path, page):
    browser = chromium_or_skip()
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    dom = run_chromium(browser, tmp_path / "profile", "--dump-dom", path.as_uri()).stdout
    found = spans(dom)
    assert len(found) == len(TEXT)
    coloured = [s for s in found if re.search(r'style="background:\s*(hsl|rgb)', s)]
    assert len(coloured) == len(TEXT) - 1  # all but the unpredicted first character
    assert all("data-tip=" in s and "title=" not in s for s in found)  # the page's script ran
    assert re.search(r'id="tip"[^>]*>[^<]*p = ', dom)  # and filled the panel with a character's numbers
    assert len([s for s in found if s.startswith('<span class="ch on"')]) == 1
    assert len(re.findall(r"<polyline", dom)) == 2 and len(re.findall(r"<circle", dom)) == 2 * len(HISTORY)
    shot = tmp_path / "page.png"
    run_chromium(browser, tmp_path / "profile", "--window-size=800,600", f"--screenshot={shot}", path.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000


MEASURE = """<script>(function(){
  var tip=document.getElementById('tip'), pre=document.querySelector('pre.text'), hint=document.querySelector('.hint');
  var spans=pre.querySelectorAll('.ch'), broken=[], word=[];
  function end(){
    for(var j=1;j<word.length;j++)
      if(Math.abs(word[j].getBoundingClientRect().top-word[0].getBoundingClientRect().top)>1){
        broken.push(word.map(function(s){return s.textContent;}).join(''));break;}
    word=[];
  }
  for(var i=0;i<spans.length;i++){if(/\\s/.test(spans[i].textContent))end();else word.push(spans[i]);}
  end();
  var out={page:document.documentElement.scrollWidth, view:document.documentElement.clientWidth,
    tip:tip.scrollWidth, tipBox:tip.clientWidth, broken:broken, hint:hint&&hint.textContent,
    hintHeight:hint?hint.offsetHeight:0, tipText:tip.textContent, drawnSpaces:tip.querySelectorAll('.sp').length};
  var m=document.createElement('pre');m.id='measured';m.textContent=JSON.stringify(out);document.body.appendChild(m);
})();</script>"""


def test_at_600_pixels_the_page_keeps_its_hint_its_words_and_its_width(tmp_path):
    import json

    browser = chromium_or_skip()
    text = "The quick brown fox jumps over the lazy dog, notwithstanding extraordinarily long words. " * 12
    chars = ["\x01", "\x02", "\t", "\n", *sorted(set(text))]  # alternatives shown escaped: the widest details
    facts = [("checkpoint", "/a/rather/long/path/to/a/checkpoint/directory/with/a/long/name.npz")]
    preds = made_up_predictions(text, chars, k=5)
    page = pages.page(text, preds, chars, title="t", facts=facts, history=HISTORY)
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = run_chromium(browser, tmp_path / "profile", "--window-size=600,900", "--dump-dom", path.as_uri()).stdout
    found = json.loads(stdlib_html.unescape(re.search(r'<pre id="measured">(.*?)</pre>', dom, flags=re.S)[1]))
    assert found["page"] <= found["view"] <= 600  # nothing scrolls sideways
    assert found["tip"] <= found["tipBox"]
    assert found["broken"] == []  # every word on one line
    assert found["hint"].startswith("Hover over a character") and found["hintHeight"] > 0
    assert "the most surprising character" in found["tipText"] and "p = " in found["tipText"]
    assert found["drawnSpaces"] >= 1 and "\u2420" not in found["tipText"]  # the space drawn, not a glyph
