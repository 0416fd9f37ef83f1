"""The terminal views: one module per result charrnn draws, each with one `render(result, out)`
that draws the result on the rich console `out` and computes nothing the result already holds.

- facts.py: what a checkpoint holds (`charrnn inspect` alone);
- score.py, neurons.py, find_neurons.py, gradients.py, compare.py, novelty.py: the `inspect` views;
- baselines.py: the baselines line that the facts and `train` both show;
- drawing.py: what they share: a text drawn character by character (with and without colour),
  its legend, a small line plot.

rich is imported inside the functions that use it, so `charrnn --help` stays fast.
"""
