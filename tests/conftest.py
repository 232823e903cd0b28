"""Shared fixtures.  The suite runs offline and never downloads anything."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from qllm.model.loader import load_tokenizer

    return load_tokenizer("qllm-tiny")
