// charrnn in the browser: the stacked RNN / LSTM / GRU step of charrnn/nn/cells, in PyTorch's
// gate order, and a page that writes with it. The weights and the vocabulary are in the page, in
// the JSON block #charrnn-model; nothing is fetched. Arithmetic is in float64 (JavaScript's
// numbers); charrnn computes in float32, which moves a probability by about one part in 10^6.
//
// API, on window.charrnn:
//   generate(prime, length, {temperature, topK, argmax, seed}) -> the text written after prime
//   logProb(text) -> {nats, bits, chars}: the total log-probability of text[1:] after text[0]
//   distribution(prime, {temperature, topK}) -> probabilities of the character after prime
(function () {
  "use strict";

  const M = JSON.parse(document.getElementById("charrnn-model").textContent);
  const H = M.hidden_size, L = M.num_layers, V = M.vocab.length;
  const G = { rnn: 1, lstm: 4, gru: 3 }[M.cell];
  const index = new Map(M.vocab.map((ch, i) => [ch, i]));

  function halfToFloat(u) {
    const sign = u & 0x8000 ? -1 : 1, exp = (u >> 10) & 0x1f, frac = u & 0x3ff;
    if (exp === 0) return sign * frac * 2 ** -24;
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }

  function decode(name) {
    const bin = atob(M.weights[name]);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const view = new DataView(bytes.buffer);
    const size = M.dtype === "float16" ? 2 : 4;
    const out = new Float64Array(bytes.length / size);
    for (let i = 0; i < out.length; i++) {
      out[i] = size === 2 ? halfToFloat(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
    }
    return out;
  }

  // PyTorch's shapes, row-major: weight_ih (G*H, In), weight_hh (G*H, H), decoder (V, H)
  const layers = [];
  for (let l = 0; l < L; l++) {
    const w = n => decode(`rnn.${n}_l${l}`);
    layers.push({ Wih: w("weight_ih"), Whh: w("weight_hh"), bih: w("bias_ih"), bhh: w("bias_hh"), In: l ? H : V });
  }
  const Wd = decode("decoder.weight"), bd = decode("decoder.bias");

  const sigmoid = a => 1 / (1 + Math.exp(-a));
  const act = M.nonlinearity === "relu" ? a => Math.max(a, 0) : Math.tanh;

  // gi = W_ih x + b_ih (x one-hot for layer 0: a column of W_ih), gh = W_hh h + b_hh
  function affine(W, b, x, cols, out) {
    for (let r = 0; r < out.length; r++) {
      let s = b[r];
      const row = r * cols;
      for (let j = 0; j < cols; j++) s += W[row + j] * x[j];
      out[r] = s;
    }
  }

  class Model {
    constructor() {
      this.h = Array.from({ length: L }, () => new Float64Array(H));
      this.c = Array.from({ length: L }, () => new Float64Array(H));
      this.gi = new Float64Array(G * H);
      this.gh = new Float64Array(G * H);
      this.logits = new Float64Array(V);
    }

    // read one character id; returns the logits of the next character
    step(id) {
      const { gi, gh } = this;
      let x = null;
      for (let l = 0; l < L; l++) {
        const w = layers[l], h = this.h[l], c = this.c[l];
        if (l === 0) for (let r = 0; r < G * H; r++) gi[r] = w.Wih[r * V + id] + w.bih[r];
        else affine(w.Wih, w.bih, x, H, gi);
        affine(w.Whh, w.bhh, h, H, gh);
        if (M.cell === "rnn") {
          for (let k = 0; k < H; k++) h[k] = act(gi[k] + gh[k]);
        } else if (M.cell === "lstm") {  // gates i, f, g, o
          for (let k = 0; k < H; k++) {
            const i = sigmoid(gi[k] + gh[k]), f = sigmoid(gi[H + k] + gh[H + k]);
            const g = Math.tanh(gi[2 * H + k] + gh[2 * H + k]), o = sigmoid(gi[3 * H + k] + gh[3 * H + k]);
            c[k] = f * c[k] + i * g;
            h[k] = o * Math.tanh(c[k]);
          }
        } else {  // GRU, gates r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn))
          for (let k = 0; k < H; k++) {
            const r = sigmoid(gi[k] + gh[k]), z = sigmoid(gi[H + k] + gh[H + k]);
            const n = Math.tanh(gi[2 * H + k] + r * gh[2 * H + k]);
            h[k] = (1 - z) * n + z * h[k];
          }
        }
        x = h;
      }
      affine(Wd, bd, x, H, this.logits);
      return this.logits;
    }
  }

  function ids(text) {
    const unknown = [...new Set([...text].filter(ch => !index.has(ch)))];
    if (unknown.length) throw new Error(`characters the model never saw: ${JSON.stringify(unknown.join(""))}`);
    return [...text].map(ch => index.get(ch));
  }

  function logSoftmax(z) {
    let m = -Infinity;
    for (const v of z) m = Math.max(m, v);
    let s = 0;
    for (const v of z) s += Math.exp(v - m);
    const lse = m + Math.log(s);
    return Array.from(z, v => v - lse);
  }

  function argmax(z) {
    let best = 0;
    for (let i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
    return best;
  }

  // softmax(logits / T) over the topK likeliest (0: all), as charrnn's sampling filters them
  function filtered(logits, { temperature = 1, topK = 0 } = {}) {
    const T = Math.max(temperature, 1e-6);
    const z = Array.from(logits, v => v / T);
    if (topK > 0 && topK < V) {
      const kth = [...z].sort((a, b) => b - a)[topK - 1];
      for (let i = 0; i < V; i++) if (z[i] < kth) z[i] = -Infinity;
    }
    return logSoftmax(z).map(Math.exp);
  }

  function mulberry32(seed) {  // a small seeded generator, for repeatable samples
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function choose(logits, opts, random) {
    if (opts.argmax || opts.temperature === 0) return argmax(logits);
    const p = filtered(logits, opts);
    let u = random(), i = 0;
    for (; i < V - 1; i++) if ((u -= p[i]) < 0) break;
    return p[i] > 0 ? i : argmax(p);
  }

  // the model after reading the prime but its last character, and that character: as charrnn's
  // sampling starts (no prime: a newline, or a random character if the model has none)
  function warmUp(prime, random) {
    if (!prime) prime = index.has("\n") ? "\n" : M.vocab[Math.floor(random() * V)];
    const seq = ids(prime), model = new Model();
    for (const id of seq.slice(0, -1)) model.step(id);
    return { model, last: seq[seq.length - 1] };
  }

  function* writer(prime, length, opts = {}) {
    const random = opts.seed === undefined ? Math.random : mulberry32(opts.seed);
    let { model, last } = warmUp(prime, random);
    for (let t = 0; t < length; t++) {
      const logits = model.step(last);
      last = choose(logits, opts, random);
      yield { ch: M.vocab[last], logits };
    }
  }

  function generate(prime, length, opts = {}) {
    let text = "";
    for (const { ch } of writer(prime, length, opts)) text += ch;
    return text;
  }

  function logProb(text) {
    const seq = ids(text), model = new Model();
    let nats = 0;
    for (let t = 0; t + 1 < seq.length; t++) nats += logSoftmax(model.step(seq[t]))[seq[t + 1]];
    return { nats, bits: nats / Math.LN2, chars: Math.max(seq.length - 1, 0) };
  }

  function distribution(prime, opts = {}) {
    const { model, last } = warmUp(prime, Math.random);
    return filtered(model.step(last), opts);
  }

  window.charrnn = { vocab: M.vocab, config: { cell: M.cell, hidden_size: H, num_layers: L }, generate, logProb, distribution };

  // -- the page ---------------------------------------------------------------------------------
  const $ = id => document.getElementById(id);
  const shown = ch => ({ "\n": "\\n", " ": "sp", "\t": "\\t" })[ch] || ch;  // fonts without ␠ show a box
  let running = null, lastLogits = null;

  function options() {
    return { temperature: Number($("temp").value), topK: Number($("topk").value) || 0, argmax: $("argmax").checked };
  }

  function drawBars() {
    const box = $("bars");
    box.textContent = "";
    if (!lastLogits) return;
    const opts = options();
    const p = opts.argmax ? Array.from(lastLogits, (_, i) => (i === argmax(lastLogits) ? 1 : 0)) : filtered(lastLogits, opts);
    const top = p.map((q, i) => [q, i]).sort((a, b) => b[0] - a[0]).slice(0, 12);
    for (const [q, i] of top) {
      const row = document.createElement("div");
      row.className = "bar";
      row.innerHTML = '<span class="ch"></span><span class="fill"></span><span class="p"></span>';
      row.children[0].textContent = shown(M.vocab[i]);
      row.children[1].style.width = `${(100 * q).toFixed(1)}%`;
      row.children[2].textContent = q.toFixed(3);
      box.appendChild(row);
    }
  }

  function showTemp() {
    $("temp-value").textContent = Number($("temp").value).toFixed(2);
    drawBars();
  }

  function preview() {
    try {
      const { model, last } = warmUp($("prime").value, Math.random);
      lastLogits = Float64Array.from(model.step(last));
      $("status").textContent = "";
    } catch (e) {
      lastLogits = null;
      $("status").textContent = e.message;
    }
    drawBars();
  }

  function start() {
    stop();
    const out = $("out"), prime = $("prime").value;
    let gen;
    try {
      gen = writer(prime, Number($("length").value), options());
    } catch (e) {
      $("status").textContent = e.message;
      return;
    }
    out.textContent = prime;
    const written = document.createElement("span");
    written.className = "new";
    out.appendChild(written);
    const run = { stopped: false };
    running = run;
    const tick = () => {
      if (run.stopped) return;
      const t0 = performance.now();
      while (performance.now() - t0 < 15) {  // a few characters per frame
        const { value, done } = gen.next();
        if (done) return stop();
        lastLogits = Float64Array.from(value.logits);
        written.textContent += value.ch;
      }
      drawBars();
      setTimeout(tick, 0);
    };
    $("status").textContent = "writing…";
    tick();
  }

  function stop() {
    if (running) running.stopped = true;
    running = null;
    $("status").textContent = "";
    drawBars();
  }

  $("write").addEventListener("click", start);
  $("stop").addEventListener("click", stop);
  $("temp").addEventListener("input", showTemp);
  $("topk").addEventListener("input", drawBars);
  $("argmax").addEventListener("change", drawBars);
  $("prime").addEventListener("input", preview);
  showTemp();
  preview();
})();
