"""The Python API page's examples (docs/python.md) run as written, on a small model trained
where they expect it, and what they compute is what the command line shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .cli_helpers import invoke, train, write

PAGE = Path(__file__).resolve().parent.parent / "docs" / "python.md"
# every character the examples' strings use, in lines of a made-up play
CORPUS = "ROMEO:\nWhat news, my lord? Speak it plainly.\nKING:\nKing. Is it so? Then speak, and be brief.\n" * 30


def python_examples() -> list[str]:
    """The indented code blocks of docs/python.md."""
    section = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"(?:^|\n\n)((?: {4}.*\n|\n)+)", section)
    return [re.sub(r"^ {4}", "", block, flags=re.M).strip() + "\n" for block in blocks if block.strip()]


def test_the_python_api_examples_run_and_agree_with_inspect(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples name charrnn.npz, and its corpus where it was
    train(write(tmp_path / "corpus.txt", CORPUS), Path("charrnn.npz"), "--max-steps", "20")
    examples = python_examples()
    assert len(examples) == 3 and all("charrnn.load(" in code for code in examples)
    printed = []
    for code in examples:
        capsys.readouterr()
        exec(compile(code, "docs/python.md", "exec"), {})
        printed.append(capsys.readouterr().out)
    assert all(out.strip() for out in printed)  # each example prints what it found
    text = re.search(r'^text = "(.*)"$', examples[2], flags=re.M)[1].encode().decode("unicode_escape")
    scored = invoke(["inspect", "score", write(tmp_path / "text.txt", text), "-c", "charrnn.npz", "--json"])
    assert scored.exit_code == 0, scored.stderr
    bits = json.loads(scored.stdout)["score"]["bits_per_char"]
    assert printed[2].splitlines()[0] == f"{bits:.4f} bits/char"
