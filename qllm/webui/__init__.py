"""The gradio board (`qllm webui`): layout, locales, charts and the process runner; no ML code."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is first imported
