"""Make docs/writer.png: `charrnn export`'s page after it has written a few hundred characters.

Exports the checkpoint's page with a prime, opens a copy of it in headless Chromium with one
line of script that presses Write, lets it run, and saves a screenshot.

    python docs/page_screenshot.py -c gru.npz --prime "HAMLET." docs/writer.png
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from charrnn.language_model import LanguageModel
from charrnn.web import page

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-c", "--checkpoint", default="charrnn.npz")
    ap.add_argument("--prime", default="")
    ap.add_argument("--length", type=int, default=400)
    ap.add_argument("--temperature", type=float, default=0.8)
    args = ap.parse_args()
    model = LanguageModel.load(args.checkpoint)
    text = page.page(model, f"charrnn: {Path(args.checkpoint).name}", args.prime)
    press = (
        f'<script>document.getElementById("length").value = {args.length};'
        f'document.getElementById("temp").value = {args.temperature};'
        'document.getElementById("temp").dispatchEvent(new Event("input"));'
        'document.getElementById("write").click();</script></body>'
    )
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "page.html"
        html.write_text(text.replace("</body>", press), encoding="utf-8")
        cmd = ["chromium", *FLAGS, f"--user-data-dir={tmp}/profile", "--window-size=1100,760"]
        cmd += ["--virtual-time-budget=20000", f"--screenshot={args.out.resolve()}", html.as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
