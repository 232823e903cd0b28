"""A `qllm train` that kills itself (SIGKILL, no cleanup) at one chosen moment of a save.

    python tests/kill_worker.py POINT [qllm train flags...]

POINT is where the kill lands:
  between_steps      after step 3 has ended (checkpoint-2 complete, nothing being written)
  checkpoint_files   inside checkpoint-4's save: weights written, optimizer and trainer state not
  trainer_state      halfway through writing checkpoint-4/trainer_state.json
  final_staging      the final adapter written to its staging folder, nothing moved yet
  final_move         the first file of the final adapter moved into place, the rest not

The patches wrap the libraries' own functions in this process only; the product has no hook.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    import transformers
    from transformers.trainer_callback import CallbackHandler, TrainerState

    import qllm.train.workflow as workflow

    if point == "between_steps":
        on_step_end = CallbackHandler.on_step_end

        def step_end(self, args, state, control):
            result = on_step_end(self, args, state, control)
            if state.global_step == 3:
                die()
            return result

        CallbackHandler.on_step_end = step_end
    elif point == "checkpoint_files":
        save_optimizer = transformers.Trainer._save_optimizer_and_scheduler

        def optimizer_save(self, output_dir):
            if output_dir.endswith("checkpoint-4"):
                die()
            return save_optimizer(self, output_dir)

        transformers.Trainer._save_optimizer_and_scheduler = optimizer_save
    elif point == "trainer_state":
        save_to_json = TrainerState.save_to_json

        def half_written(self, json_path):
            if Path(json_path).parent.name == "checkpoint-4":
                save_to_json(self, json_path)
                text = Path(json_path).read_text()
                Path(json_path).write_text(text[: len(text) // 2])
                die()
            return save_to_json(self, json_path)

        TrainerState.save_to_json = half_written
    elif point == "final_staging":
        workflow.move_final_adapter = lambda staging, output_dir: die()
    elif point == "final_move":
        move_final_adapter, replace = workflow.move_final_adapter, os.replace

        def replace_once_then_die(source, target):
            replace(source, target)
            die()

        def move_then_die(staging: Path, output_dir: Path) -> None:
            os.replace = replace_once_then_die  # the product's own move, in its own order, cut after one file
            move_final_adapter(staging, output_dir)

        workflow.move_final_adapter = move_then_die
    else:
        raise SystemExit(f"unknown kill point {point}")


if __name__ == "__main__":
    install(sys.argv[1])
    from qllm.cli import main

    sys.exit(main(["train", *sys.argv[2:]]))
