"""`python app.py [--host H] [--port P] [--share] [--auth U:P]` serves the QLLM board; the same as `qllm webui`."""

import sys

from qllm.cli import main

sys.exit(main(["webui", *sys.argv[1:]]))
