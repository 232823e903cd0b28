"""QLLM Board's library: data, training, adapters, evaluation and chat (no UI).

Importing `qllm` makes the quantum adapters `vqc`, `tq`, `quanTA` and `qpa` known to peft, so
`get_peft_model`, `PeftModel.from_pretrained` and friends handle them like LoRA.  The
registration runs as soon as peft is imported (at once if it already is): `import qllm`
itself stays light, because the board reads run files through `qllm` without loading
torch.
"""

from __future__ import annotations

import importlib.abc
import logging
import sys


def _register_adapters() -> None:
    from qllm.adapters.registry import register_methods

    register_methods()


class _RegisterAfterPeftImport(importlib.abc.MetaPathFinder):
    """Finds `peft` through the other finders and registers our methods once it has loaded.

    It stays installed until that load happens: `importlib.util.find_spec("peft")` (which
    transformers calls to see whether peft is installed) asks finders without loading.
    """

    def find_spec(self, fullname, path, target=None):
        if fullname != "peft":
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            load = spec.loader.exec_module

            def load_then_register(module) -> None:
                load(module)
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
                _register_adapters()

            spec.loader.exec_module = load_then_register
        return spec


# bitsandbytes (imported by peft) warns at import, on CPUs with AVX512-BF16, that it cannot fetch
# its repacked 4-bit inference kernel from the hub; that kernel is never used here
# (`qllm.model.quantization.keep_plain_layout`), so the line would only puzzle every command.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

if "peft" in sys.modules:
    _register_adapters()
elif not any(isinstance(finder, _RegisterAfterPeftImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterPeftImport())
