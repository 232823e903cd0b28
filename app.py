"""`python app.py [--host H] [--port P] [--share]` serves the QLLM board; the same as `qllm webui`."""

from qllm.webui.interface import main

main()
