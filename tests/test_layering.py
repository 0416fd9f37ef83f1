"""The library layer stays free of the command line's dependencies (click, rich, tqdm).

Checked in a fresh interpreter, since this test session itself may have imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI_PACKAGES = ("click", "rich", "tqdm")
CORE = [
    "charrnn",
    "charrnn.train",
    "charrnn.sample",
    "charrnn.checkpoint",
    "charrnn.score",
    "charrnn.data",
    "charrnn.model",
    "charrnn.optim",
    "charrnn.cells",
    "charrnn.config",
    "charrnn.vocab",
    "charrnn.functional",
    "charrnn.errors",
    "charrnn.workspace",
    "charrnn.analysis",
    "charrnn.neurons",
    "charrnn.memory",
    "charrnn.compare",
    "charrnn.html",
]

PROBE = f"""
import json, sys
import {", ".join(CORE)}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {UI_PACKAGES!r})
print(json.dumps(loaded))
"""


def probe(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_core_imports_leave_click_rich_and_tqdm_unloaded():
    assert probe(PROBE) == []


def test_the_probe_would_notice_a_ui_import():
    """The same probe, with click imported on purpose, reports it: the test above can fail."""
    assert "click" in probe(PROBE.replace("import json, sys", "import json, sys, click"))
