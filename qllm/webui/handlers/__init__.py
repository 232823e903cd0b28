"""The board's callbacks as plain functions: values in, ``{element name: update}`` out.

Each tab module (`qllm/webui/components/`) is layout and wiring only; what a click or a timer
tick does lives here, one module per tab, testable without a browser (`qllm.webui.wiring`).
"""
