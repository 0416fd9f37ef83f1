"""Time to quality: charrnn's defaults against a plain PyTorch loop, at equal wall time.

For each text and each budget (2, 5 and 10 minutes unless told) it runs, one after the other and
each in a process of its own, the order turning every time:
- charrnn as a user runs it, `charrnn train TEXT` with only the model's shape given
  (--hidden-size 256 --layers 2 --batch-size 32 --seq-len 64 --val-fraction 0.1 --max-time Ns),
  its curve read from its --log; everything else is charrnn's default;
- the conventional PyTorch loop (reference.TorchLoop: one-hot, nn.LSTM, nn.Linear, cross-entropy,
  clip 5, Adam at a constant 2e-3, 32 contiguous streams with the state carried and detached),
  trained on the same first 90 % and validated every 250 steps on the held-out tail; the time
  of its validations is not counted in its budget (charrnn's are counted in its own).

Both are validated on the same characters: those charrnn's Trainer holds out with these
settings (the first --eval-chars, its default, of the last 10 %), which the script checks are
the very characters the loop reads before it runs anything, read in 32 streams of windows of 64
with the state carried, in bits per character. It prints each contender's best validation bits/char and steps, their curves at
fixed steps and at fixed seconds (linear between the validations either side), `uptime`
before each run, and a summary table at the end.

The texts: ../shared/corpora/tinyshakespeare.txt (skipped with a line when absent) and the
shipped corpora/shakespeare.txt; `--text` (repeatable) runs only the texts named: a path,
`tinyshakespeare`, `shakespeare`, `pydoc` (English prose: the help topics of Python's
pydoc_data, joined, written to a temporary file) or `docstrings` (the first 900,000 characters
of the docstrings of Python's standard library, the text no setting was tuned on). An hour and more with the
defaults: a benchmark, not a test. `--quick-start` runs the README's quick start (`charrnn train
corpora/shakespeare.txt`, every default: 10 minutes, 5 % held out) alone, before the rest or
instead of it, and says whether it reaches 1.95 bits/char.

    python benchmarks/time_to_quality.py --quick                 # 20 s on 100,000 characters
    python benchmarks/time_to_quality.py --seconds 300 --text pydoc --text tinyshakespeare
    python benchmarks/time_to_quality.py --seconds 600 --text shakespeare
    python benchmarks/time_to_quality.py --clean-blas-env        # OPENBLAS_CORETYPE/L2_SIZE unset too
    python benchmarks/time_to_quality.py --quick-start           # the quick start's 10 minutes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolated  # noqa: E402
import reference  # noqa: E402

# The model's shape, the one thing given to charrnn; the loop takes the same.
CELL, HIDDEN, LAYERS, BATCH, SEQ, VAL_FRACTION = "lstm", 256, 2, 32, 64, 0.1
SHAPE = ["--hidden-size", str(HIDDEN), "--layers", str(LAYERS), "--batch-size", str(BATCH), "--seq-len", str(SEQ)]
SHAPE += ["--val-fraction", str(VAL_FRACTION)]
LOOP_EVAL_EVERY = 250  # steps between the loop's validations (charrnn's default cadence when written)
QUICK_SECONDS, QUICK_CHARS, QUICK_EVAL_EVERY = 20, 100_000, 50
QUICK_START_GOAL = 1.95  # bits/char the README's quick start should reach in its 10 minutes (issue 19)
SHIPPED = reference.REPO_ROOT / "corpora" / "shakespeare.txt"


# -- the texts ------------------------------------------------------------------------------------


def texts(names: list[str], folder: Path, quick: bool) -> list[tuple[str, Path | None]]:
    """(name, path) of each text to run; a path of None is a text that is not there."""
    if not names:
        names = ["shakespeare-head"] if quick else ["tinyshakespeare", "shakespeare"]
    chosen = []
    for name in names:
        if name == "tinyshakespeare":
            path = reference.default_corpus_path()
            chosen.append(("tinyshakespeare.txt", path if path.is_file() else None))
        elif name == "shakespeare":
            chosen.append(("shakespeare.txt", SHIPPED))
        elif name == "shakespeare-head":
            path = folder / "shakespeare-head.txt"
            path.write_text(SHIPPED.read_text(encoding="utf-8")[:QUICK_CHARS], encoding="utf-8")
            chosen.append((f"shakespeare.txt's first {QUICK_CHARS:,} characters", path))
        elif name == "pydoc":
            from pydoc_data.topics import topics

            path = folder / "pydoc_topics.txt"
            path.write_text("\n".join(topics.values()), encoding="utf-8")
            chosen.append((f"pydoc_data.topics (Python {platform.python_version()})", path))
        elif name == "docstrings":
            path = folder / "stdlib_docstrings.txt"
            path.write_text(stdlib_docstrings(DOCSTRING_CHARS), encoding="utf-8")
            chosen.append((f"Python {platform.python_version()}'s standard library docstrings", path))
        else:
            path = Path(name)
            chosen.append((path.name, path if path.is_file() else None))
    return chosen


DOCSTRING_CHARS = 900_000  # about the size of the prose the issue measured on


def stdlib_docstrings(limit: int) -> str:
    """The docstrings of the standard library's modules, classes and functions (English prose,
    some of it code), in the order of their files' paths, up to `limit` characters: a text that no
    setting of charrnn was tuned on."""
    import ast
    import sysconfig

    parts, size = [], 0
    for file in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and size < limit:
                    parts.append(doc)
                    size += len(doc) + 2
    return "\n\n".join(parts)[:limit]


def loop_split(n: int) -> int:
    """Where the loop's held-out tail starts in a text of n characters: the last 10 %, as charrnn
    splits a single text."""
    return n - int(n * VAL_FRACTION)


def check_same_validation(path: Path) -> tuple[int, str]:
    """How many held-out characters charrnn validates on (the loop validates on as many), and
    which they are; SystemExit unless they are the very characters the loop reads."""
    from charrnn.config import ModelConfig, TrainConfig
    from charrnn.data.corpus import read_corpus
    from charrnn.training.trainer import Trainer

    corpus = read_corpus(str(path))
    small = ModelConfig(hidden_size=8, num_layers=1)  # what is held out does not depend on the model
    trainer = Trainer(corpus, small, TrainConfig(batch_size=BATCH, seq_len=SEQ, val_fraction=VAL_FRACTION))
    theirs = corpus.vocab.decode(trainer.val_ids)
    text = path.read_text(encoding="utf-8")  # as reference.load_corpus_ids reads it
    start = loop_split(len(text))
    ours = text[start : start + len(theirs)]
    if theirs != ours:
        raise SystemExit(
            f"charrnn validates on {len(theirs):,} characters of {path}, not the {len(ours):,} from character "
            f"{start:,} that the loop validates on: the comparison would not be fair"
        )
    B = min(BATCH, len(ours) - 1)
    L = (len(ours) - 1) // B
    scored = B * (L // min(SEQ, L)) * min(SEQ, L)
    return len(ours), (
        f"{len(text):,} characters; both validate on the same {len(ours):,} of the held-out tail (from character "
        f"{start:,}), {scored:,} of them scored ({B} streams, state carried)"
    )


# -- the contenders -------------------------------------------------------------------------------


def loop_curve(path: str, seconds: float, eval_every: int, eval_chars: int, threads: int | None = None) -> dict:
    """Run in a process of its own: the PyTorch loop for `seconds` of training (its validations
    not counted), validated every `eval_every` steps and at the end; on PyTorch's default
    number of threads unless told."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    ids, vocab = reference.load_corpus_ids(path)
    start = loop_split(len(ids))
    val = ids[start : start + eval_chars]
    loop = reference.TorchLoop(CELL, HIDDEN, LAYERS, BATCH, SEQ, ids[:start], vocab)
    curve, trained, validating, step = [], 0.0, 0.0, 0
    while trained < seconds:
        t = time.perf_counter()
        loop.step()
        trained += time.perf_counter() - t
        step += 1
        if step % eval_every == 0 or trained >= seconds:
            t = time.perf_counter()
            curve.append({"step": step, "seconds": round(trained, 3), "bits": loop.validation_bits(val)})
            validating += time.perf_counter() - t
    return {"curve": curve, "validation_seconds": validating}


def charrnn_curve(path: Path, options: list[str], seconds: float, folder: Path, env: dict) -> dict:
    """`charrnn train` as a user runs it, with `options` (no more), for about `seconds`; its
    --log's curve."""
    log, checkpoint = folder / "charrnn.jsonl", folder / "charrnn.npz"
    for stale in (log, checkpoint):
        stale.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "charrnn", "train", str(path), *options]
    cmd += ["--log", str(log), "-c", str(checkpoint), "-q"]  # where it writes; nothing it learns by
    env = {**env, "PYTHONPATH": os.pathsep.join([str(reference.REPO_ROOT), env.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3 * seconds + 600)
    if done.returncode != 0:
        raise SystemExit(f"charrnn train failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return {"curve": parse_log(log.read_text(encoding="utf-8"))}


def timed(run) -> tuple[dict, float]:
    t = time.perf_counter()
    figures = run()
    return figures, time.perf_counter() - t


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the figures (pure) ---------------------------------------------------------------------------


def parse_log(text: str) -> list[dict]:
    """charrnn's --log (one JSON object per validation) as the curve [{step, seconds, bits}]."""
    curve = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            curve.append({"step": int(entry["step"]), "seconds": float(entry["elapsed"]), "bits": entry["val_bits"]})
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"line {number} of the log is no validation record: {line[:80]!r} ({e})") from None
    return curve


def value_at(curve: list[dict], key: str, x: float) -> float | None:
    """Bits per character at `x` (a step or a second, by `key`), linear between the validations
    either side; None outside the validated range."""
    for before, after in zip(curve, curve[1:]):
        if before[key] <= x <= after[key]:
            share = (x - before[key]) / (after[key] - before[key]) if after[key] > before[key] else 0.0
            return before["bits"] + share * (after["bits"] - before["bits"])
    if curve and curve[-1][key] == x:
        return curve[-1]["bits"]
    return None


def step_marks(limit: int, count: int = 4) -> list[int]:
    """Round steps to show a curve at: multiples of 1, 2 or 5 times a power of ten, about
    `count` of them up to `limit`."""
    if limit < 1:
        return []
    raw = max(1.0, limit / count)
    power = 10 ** math.floor(math.log10(raw))
    unit = max(m * power for m in (1, 2, 5) if m * power <= raw)
    return [unit * k for k in range(1, limit // unit + 1)]


def second_marks(budget: float, count: int = 5) -> list[float]:
    return [budget * k / count for k in range(1, count + 1)]


def best(curve: list[dict]) -> dict:
    return min(curve, key=lambda point: point["bits"])


def curve_table(curves: dict[str, list[dict]], budget: float) -> list[str]:
    """Bits/char of each curve at round steps and at fifths of the budget, as aligned lines."""
    steps = step_marks(max(c[-1]["step"] for c in curves.values()))
    lines = []
    for key, marks, shown in (
        ("step", steps, [f"{m:,}" for m in steps]),
        ("seconds", second_marks(budget), [f"{m:g} s" for m in second_marks(budget)]),
    ):
        rows = [[f"bits/char at {key.rstrip('s')}", *shown]]
        for name, curve in curves.items():
            values = (value_at(curve, key, m) for m in marks)
            rows.append([name, *("-" if v is None else f"{v:.3f}" for v in values)])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += ["  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
    return lines


def summary_table(results: list[dict]) -> list[str]:
    """One markdown row per text and budget: each contender's steps and best bits/char."""
    lines = [
        "| text | budget | charrnn steps | charrnn best bits/char | PyTorch steps | PyTorch best bits/char "
        "| charrnn - PyTorch |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, theirs = r["charrnn"]["curve"], r["PyTorch"]["curve"]
        gap = best(ours)["bits"] - best(theirs)["bits"]
        lines.append(
            f"| {r['text']} | {r['seconds']:g} s | {ours[-1]['step']:,} | {best(ours)['bits']:.3f} | "
            f"{theirs[-1]['step']:,} | {best(theirs)['bits']:.3f} | {gap:+.3f} |"
        )
    return lines


# -- the parent -----------------------------------------------------------------------------------


def describe(name: str, figures: dict, wall: float) -> str:
    curve = figures["curve"]
    top = best(curve)
    line = (
        f"  {name}: {curve[-1]['step']:,} steps, best {top['bits']:.3f} bits/char (step {top['step']:,}, "
        f"{top['seconds']:.0f} s), last {curve[-1]['bits']:.3f}; {curve[-1]['step'] / curve[-1]['seconds']:.1f} "
        f"steps/s; {len(curve)} validations"
    )
    if "validation_seconds" in figures:
        line += f" ({figures['validation_seconds']:.0f} s, not counted)"
    return line + f"; the process {wall:.0f} s in all"


def compare(name: str, path: Path, eval_chars: int, seconds: float, args, env: dict, folder: Path, turn: int) -> dict:
    contenders = {
        "charrnn": lambda: charrnn_curve(path, [*SHAPE, "--max-time", f"{seconds:g}s"], seconds, folder, env),
        "PyTorch": lambda: isolated.run(
            "time_to_quality:loop_curve",
            {
                "path": str(path),
                "seconds": seconds,
                "eval_every": args.loop_eval_every,
                "eval_chars": eval_chars,
                "threads": args.torch_threads,
            },
            env,
            timeout=3 * seconds + 600,
        ),
    }
    order = list(contenders) if turn % 2 == 0 else list(contenders)[::-1]  # who goes first turns
    result = {"text": name, "seconds": seconds}
    print(f"\n{name}, {seconds:g} s:", flush=True)
    for who in order:
        print(f"  uptime before {who}: {uptime()}", flush=True)
        figures, wall = timed(contenders[who])
        result[who] = figures
        print(describe(who, figures, wall), flush=True)
    gap = best(result["charrnn"]["curve"])["bits"] - best(result["PyTorch"]["curve"])["bits"]
    print(f"  best bits/char, charrnn - PyTorch: {gap:+.3f} (below zero: charrnn better)")
    print("\n".join(curve_table({w: result[w]["curve"] for w in contenders}, seconds)), flush=True)
    return result


def cpu_name() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, platform.processor() or "unknown CPU")


def quick_start(folder: Path, env: dict) -> None:
    """The quick start as the README gives it, `charrnn train corpora/shakespeare.txt` with
    every default (its 10 minutes, its held-out share), and whether it reaches QUICK_START_GOAL."""
    from charrnn.config import TrainConfig

    seconds = TrainConfig().max_time
    print(f"\nthe quick start, charrnn train {SHIPPED.relative_to(reference.REPO_ROOT)} (every default):", flush=True)
    print(f"  uptime before charrnn: {uptime()}", flush=True)
    figures, wall = timed(lambda: charrnn_curve(SHIPPED, [], seconds, folder, env))
    print(describe("charrnn", figures, wall))
    top = best(figures["curve"])["bits"]
    verdict = "at most" if top <= QUICK_START_GOAL else "above"
    print(f"  best {top:.3f} bits/char: {verdict} the quick start's goal of {QUICK_START_GOAL} bits/char")
    print("\n".join(curve_table({"charrnn": figures["curve"]}, seconds)), flush=True)


def environment_note(envs: dict, torch_threads: int | None) -> list[str]:
    cpu = cpu_name()
    info = reference.thread_info()
    blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in info["numpy_blas"]) or "?"
    commit = subprocess.run(
        ["git", "-C", str(reference.REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    asis = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in reference.BLAS_ENV_VARS)
    return [
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; charrnn {commit or '?'}; {os.cpu_count()} x {cpu}; "
        f"Python {platform.python_version()}, numpy {info['numpy']} ({blas}), torch {info.get('torch', 'absent')} "
        f"on {torch_threads or info.get('torch_threads')} threads{'' if torch_threads else ' (its default)'}",
        f"environment as it is: {asis}; the contenders run with: {', '.join(envs)}",
    ]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", default=None, help="budgets, comma-separated (default 120,300,600; --quick 20)")
    ap.add_argument(
        "--text", action="append", default=[], help="a path, tinyshakespeare, shakespeare, pydoc or docstrings"
    )
    ap.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK_SECONDS} s on a small text")
    ap.add_argument("--loop-eval-every", type=int, default=None, help=f"default {LOOP_EVAL_EVERY} (--quick 50)")
    ap.add_argument("--torch-threads", type=int, default=None, help="the loop's threads (default: PyTorch's)")
    ap.add_argument("--clean-blas-env", action="store_true", help="also with OPENBLAS_CORETYPE/L2_SIZE unset")
    ap.add_argument("--quick-start", action="store_true", help="also the README's quick start, charrnn alone")
    ap.add_argument("--save", default=None, help="write every curve to this JSON file")
    args = ap.parse_args(argv)
    try:
        budgets = [float(s) for s in (args.seconds or ("20" if args.quick else "120,300,600")).split(",")]
    except ValueError:
        ap.error(f"--seconds takes numbers separated by commas, not {args.seconds!r}")
    if not all(0 < b < 10**6 for b in budgets):
        ap.error("every budget must be a positive number of seconds")
    args.loop_eval_every = args.loop_eval_every or (QUICK_EVAL_EVERY if args.quick else LOOP_EVAL_EVERY)
    if not reference.torch_available():
        sys.exit("time_to_quality: PyTorch is not installed (pip install torch)")
    envs = {"the environment as it is": dict(os.environ)}
    if args.clean_blas_env:
        if any(k in os.environ for k in reference.BLAS_ENV_VARS):
            envs["OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"] = reference.clean_blas_env()
        else:
            print("--clean-blas-env: neither variable is set here, so the environment as it is is the clean one")
    print("\n".join(environment_note(envs, args.torch_threads)), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="time_to_quality.") as tmp:
        folder = Path(tmp)
        if args.quick_start:
            quick_start(folder, envs["the environment as it is"])
            if not args.text and args.seconds is None:
                return
        for name, path in texts(args.text, folder, args.quick):
            if path is None:
                print(f"\nskipping {name}: not found", flush=True)
                continue
            eval_chars, said = check_same_validation(path)
            print(f"\n{name}: {said}", flush=True)
            for seconds in budgets:
                for label, env in envs.items():
                    shown = name if len(envs) == 1 else f"{name}, {label}"
                    results.append(compare(shown, path, eval_chars, seconds, args, env, folder, len(results)))
    if not results:
        sys.exit("time_to_quality: none of the texts was there")
    print("\n" + "\n".join(summary_table(results)))
    print(f"\nuptime at the end: {uptime()}")
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
