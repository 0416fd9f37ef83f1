"""`charrnn export`'s page, run in headless Chromium: its greedy text is charrnn's, character for
character; its log-probability of a text is charrnn's; its controls work; it connects nowhere."""

from __future__ import annotations

import html
import json
import re
import socket
import threading

import numpy as np
import pytest

from charrnn.analysis import scoring
from charrnn.config import SampleConfig
from charrnn.generation.sampling import generate
from charrnn.web import page as web

from .cli_helpers import NON_ASCII, TEXT, assert_clean_error, checkpoint_arrays, checkpoint_meta, invoke, train, write
from .conftest import CELLS, PATTERN, train_tiny
from .test_html import chromium_or_skip, run_chromium

PRIME = "hel"
SCORED = PATTERN * 3 + "hello wo"


def run_in_page(tmp_path, page: str, script: str, *flags: str) -> dict:
    """Open the page with `script` run after its own, and return what the script left in #result."""
    probe = f'<pre id="result"></pre><script>\n{script}\n</script>\n</body>'
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", probe), encoding="utf-8")
    browser = chromium_or_skip()
    dom = run_chromium(browser, tmp_path / "profile", "--virtual-time-budget=3000", *flags, "--dump-dom", path.as_uri())
    found = re.search(r'<pre id="result">(.*?)</pre>', dom.stdout, flags=re.S)
    assert found and found[1], dom.stdout[-2000:]
    return json.loads(html.unescape(found[1]))


def report(expression: str) -> str:
    return f"""const r = {{}};
try {{ {expression} }} catch (e) {{ r.error = String(e); }}
document.getElementById("result").textContent = JSON.stringify(r);"""


@pytest.fixture(scope="module")
def models():
    return {
        "rnn": train_tiny("rnn", num_layers=2),
        "lstm": train_tiny("lstm", num_layers=2),
        "gru": train_tiny("gru"),
    }


@pytest.mark.parametrize("cell", CELLS)
def test_greedy_text_and_log_probability_are_charrnns(tmp_path, models, cell):
    m = models[cell]
    page = web.page(m, title="t")
    got = run_in_page(
        tmp_path,
        page,
        report(
            f"r.greedy = charrnn.generate({json.dumps(PRIME)}, 240, {{argmax: true}});"
            f"r.cold = charrnn.generate({json.dumps(PRIME)}, 240, {{temperature: 0}});"
            f"r.lp = charrnn.logProb({json.dumps(SCORED)});"
        ),
    )
    assert "error" not in got, got["error"]
    greedy = "".join(c[0] for c in generate(m, SampleConfig(length=240, argmax=True), PRIME))
    assert got["greedy"] == greedy and got["cold"] == greedy
    assert len(set(greedy)) > 3  # the model writes its pattern, not one character over and over
    total_bits = float(scoring.log_probs(m, SCORED).sum() / np.log(2))
    assert got["lp"]["chars"] == len(SCORED) - 1
    assert abs(got["lp"]["bits"] - total_bits) < 1e-3


def test_sampling_follows_the_temperature_and_unknown_characters_are_an_error(tmp_path, models):
    m = models["lstm"]
    page = web.page(m, title="t")
    got = run_in_page(
        tmp_path,
        page,
        report(
            "r.same = charrnn.generate('h', 100, {seed: 3}) === charrnn.generate('h', 100, {seed: 3});"
            "r.hot = charrnn.generate('h', 300, {temperature: 5, seed: 1});"
            "r.top1 = charrnn.generate('h', 100, {topK: 1, seed: 1});"
            "r.greedy = charrnn.generate('h', 100, {argmax: true});"
            "try { charrnn.generate('hé', 5); } catch (e) { r.unknown = e.message; }"
        ),
    )
    assert got["same"] and got["top1"] == got["greedy"]
    assert got["hot"].count("hello") < got["greedy"].count("hello") / 3  # a hot sample strays from the pattern
    assert "never saw" in got["unknown"] and "é" in got["unknown"]


def test_the_page_streams_text_and_its_bars_follow_the_temperature(tmp_path, models):
    m = models["lstm"]
    page = web.page(m, title="t", prime="hello")
    got = run_in_page(
        tmp_path,
        page,
        """const $ = id => document.getElementById(id);
const widths = () => [...document.querySelectorAll("#bars .fill")].map(b => parseFloat(b.style.width));
const at = t => { $("temp").value = t; $("temp").dispatchEvent(new Event("input")); return widths(); };
const r = {cold: at(0.2), hot: at(2)};
$("length").value = 80;
$("write").click();
setTimeout(() => {
  r.out = $("out").textContent;
  r.bars = widths().length;
  document.getElementById("result").textContent = JSON.stringify(r);
}, 2000);""",
    )
    assert got["cold"][0] > got["hot"][0] > 0  # the likeliest character: surer when colder
    assert len(got["cold"]) == min(12, len(m.vocab)) and got["bars"] == len(got["cold"])
    assert got["out"].startswith("hello") and len(got["out"]) == len("hello") + 80


# Chromium's own services (a clock, component updates), which it asks whatever page it shows
BROWSER_HOSTS = re.compile(r"^[A-Z]+ (http://)?[\w.-]*\.(google\.com|googleapis\.com|gstatic\.com)[:/]")


class Listener:
    """A proxy that answers nothing and keeps the first line of each request made to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def page_requests(self) -> list[str]:
        return [r for r in self.requests if not BROWSER_HOSTS.match(r)]

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.requests.append(conn.recv(200).decode("latin-1").split("\r\n")[0])
            except OSError:
                self.requests.append("?")
            conn.close()


def test_the_page_makes_no_network_request(tmp_path, models):
    m = models["gru"]
    page = web.page(m, title="t")
    proxy = Listener()
    flags = (f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>")
    attempt = """const r = {violations: []};
document.addEventListener("securitypolicyviolation", e => r.violations.push(e.effectiveDirective));
document.getElementById("write").click();
fetch("http://example.com/leak").catch(() => {});
new Image().src = "http://example.com/pixel.png";
setTimeout(() => { document.getElementById("result").textContent = JSON.stringify(r); }, 1500);"""
    try:
        got = run_in_page(tmp_path, page, attempt, *flags)
        assert proxy.page_requests() == []
        assert {"connect-src", "img-src"} <= set(got["violations"])  # refused by the page's policy
        # the same requests from a page without that policy do reach the proxy: the check can fail
        run_in_page(tmp_path, re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page), attempt, *flags)
        assert proxy.page_requests()
    finally:
        proxy.sock.close()


def test_the_page_is_one_file_and_float16_halves_its_weights(models):
    m = models["lstm"]
    full, half = (web.page(m, title="t", dtype=d) for d in ("float32", "float16"))
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|\bhref=|@import|url\(", full, flags=re.I)
    assert "connect-src 'none'" in full and "default-src 'none'" in full
    weights = [sum(len(w) for w in web.encode_weights(m.params, d).values()) for d in ("float32", "float16")]
    assert abs(weights[1] / weights[0] - 0.5) < 0.01 and len(half) < len(full)
    block = re.search(r'<script type="application/json" id="charrnn-model">(.*?)</script>', full, flags=re.S)[1]
    model = json.loads(block)
    assert model["vocab"] == m.vocab.chars and model["cell"] == "lstm" and model["num_layers"] == 2


def test_export_writes_the_page_and_refuses_a_prime_the_model_cannot_read(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    out = tmp_path / "page.html"
    result = invoke(["export", "-c", ckpt, out, "--prime", "the ", "--float16"])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr and "float16" in result.stderr and result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert '"dtype":"float16"' in page and ">the </textarea>" in page
    assert_clean_error(invoke(["export", "-c", ckpt, tmp_path / "x.html", "--prime", NON_ASCII]), 2, "--prime")
    assert not (tmp_path / "x.html").exists()
    assert_clean_error(invoke(["export", "-c", ckpt, ckpt]), 2, "OUT.html", "is the -c checkpoint itself")


def test_export_float16_refuses_a_weight_beyond_its_range_in_one_line_naming_it(tmp_path):
    corpus, ckpt = write(tmp_path / "c.txt", TEXT), tmp_path / "m.npz"
    train(corpus, ckpt)
    arrays, meta = checkpoint_arrays(ckpt), checkpoint_meta(ckpt)
    arrays["rnn.weight_hh_l0"][0, 1] = -1e5  # the largest: float16 ends at 65,504
    arrays["decoder.bias"][0] = 7e4
    big = tmp_path / "big.npz"
    np.savez(big, **arrays, meta=np.array(json.dumps(meta)))
    out = tmp_path / "page.html"
    refused = invoke(["export", "-c", big, out, "--float16"])  # a RuntimeWarning is an error here
    assert_clean_error(refused, 1, "the weight -100000 in rnn.weight_hh_l0 is beyond float16's range", "--float16")
    assert len(refused.stderr.splitlines()) == 1 and not out.exists()
    assert invoke(["export", "-c", big, out]).exit_code == 0  # float32 holds it
    arrays["rnn.weight_hh_l0"][0, 1], arrays["decoder.bias"][0] = 65519.0, -65519.0  # round to 65,504: finite
    np.savez(big, **arrays, meta=np.array(json.dumps(meta)))
    assert invoke(["export", "-c", big, out, "--float16"]).exit_code == 0
