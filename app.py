"""`python app.py` starts the QLLM board on http://127.0.0.1:7860 (`--host`, `--port`, `--share`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    options = parser.parse_args(argv)

    os.chdir(Path(__file__).resolve().parent)  # relative paths in the board (data/, saves/) mean the project's
    from webui.interface import launch

    launch(host=options.host, port=options.port, share=options.share)


if __name__ == "__main__":
    main()
