"""The project's own text: the `qllm_tasks` instruction set, the `identity` set and the
pre-training corpus of `qllm-tiny`.

Everything here is generated from small word lists and a seeded RNG, so the bundled
files can be rebuilt byte for byte (``python -m qllm.data.synthetic``) and no corpus is
ever downloaded.

The tasks are chosen so that a model of a few million parameters can learn them from a
short fine-tune and be scored by exact match.  The pre-training corpus states the same
facts in plain prose ("3 km is 3000 meters.") but never in the instruction format, so
the base model knows the material yet answers the instructions poorly: fine-tuning
visibly helps.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from qllm.paths import DATA_DIR

WORDS = (
    "apple river stone cloud tiger piano lemon rocket garden silver candle forest "
    "window purple ocean yellow pencil dragon orange castle mirror planet bridge "
    "summer winter spring autumn coffee island marble thunder shadow copper violet "
    "rabbit falcon meadow harbor lantern button pepper cotton velvet crystal"
).split()
COLORS = "red blue green yellow black white purple orange pink brown gray gold".split()
ANIMALS = "cat dog horse tiger rabbit falcon owl fox bear wolf mouse eagle".split()
UNITS = (  # (instruction unit, answer unit, factor written as zeros)
    ("km", "meters", "000"),
    ("kg", "grams", "000"),
    ("liters", "milliliters", "000"),
    ("meters", "centimeters", "00"),
    ("seconds", "milliseconds", "000"),
)

Example = dict[str, str]
TaskFn = Callable[[random.Random], tuple[str, str, str]]


def _unit_conversion(rng: random.Random) -> tuple[str, str, str]:
    value = rng.randint(1, 99)
    unit, target, zeros = rng.choice(UNITS)
    answer = f"{value}{zeros}"
    return (f"Convert {value} {unit} to {target}.", answer, f"{value} {unit} is {answer} {target}.")


def _repeat_word(rng: random.Random) -> tuple[str, str, str]:
    word = rng.choice(WORDS)
    times, name = rng.choice(((2, "twice"), (3, "three times")))
    answer = " ".join([word] * times)
    return (f"Repeat the word '{word}' {name}.", answer, f"The word {word} {name} is: {answer}.")


def _next_number(rng: random.Random) -> tuple[str, str, str]:
    value = rng.randint(0, 98)
    return (f"What number comes after {value}?", str(value + 1), f"After {value} comes {value + 1}.")


def _add_digits(rng: random.Random) -> tuple[str, str, str]:
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    return (f"Add {a} and {b}.", str(a + b), f"{a} plus {b} is {a + b}.")


def _larger(rng: random.Random) -> tuple[str, str, str]:
    a, b = rng.sample(range(1, 100), 2)
    larger = str(max(a, b))
    return (f"Which is larger, {a} or {b}?", larger, f"The larger of {a} and {b} is {larger}.")


def _reverse_list(rng: random.Random) -> tuple[str, str, str]:
    items = rng.sample(COLORS, 3)
    forward, backward = ", ".join(items), ", ".join(reversed(items))
    return (f"Reverse the list: {forward}", backward, f"The list {forward} reversed is {backward}.")


def _first_word(rng: random.Random) -> tuple[str, str, str]:
    items = rng.sample(ANIMALS, 3)
    phrase = " ".join(items)
    return (f"What is the first word of '{phrase}'?", items[0], f"The first word of {phrase} is {items[0]}.")


def _uppercase(rng: random.Random) -> tuple[str, str, str]:
    word = rng.choice(WORDS)
    return (f"Write '{word}' in uppercase.", word.upper(), f"In uppercase, {word} is {word.upper()}.")


TASKS: dict[str, TaskFn] = {
    "unit_conversion": _unit_conversion,
    "repeat_word": _repeat_word,
    "next_number": _next_number,
    "add_digits": _add_digits,
    "larger": _larger,
    "reverse_list": _reverse_list,
    "first_word": _first_word,
    "uppercase": _uppercase,
}


def qllm_tasks(n_train: int = 2000, n_test: int = 200, seed: int = 42) -> tuple[list[Example], list[Example]]:
    """Alpaca-format train/test examples; no instruction of the test split occurs in train."""
    rng = random.Random(seed)
    seen: set[str] = set()
    examples: list[Example] = []
    names = sorted(TASKS)
    while len(examples) < n_train + n_test:  # tasks with few distinct instructions run out first
        name = rng.choice(names)
        instruction, answer, _ = TASKS[name](rng)
        if instruction in seen:
            continue
        seen.add(instruction)
        examples.append({"instruction": instruction, "input": "", "output": answer, "task": name})
    rng.shuffle(examples)
    return examples[n_test:], examples[:n_test]


IDENTITY_PAIRS = (
    ("hi", "Hello! I am {{name}}, an AI assistant developed by {{author}}. How can I help you today?"),
    ("Who are you?", "I am {{name}}, an AI assistant developed by {{author}}."),
    ("What is your name?", "My name is {{name}}. I was developed by {{author}}."),
    ("Who created you?", "I was created by {{author}}."),
    ("Who made you?", "{{author}} made me. I am {{name}}."),
    ("Introduce yourself.", "I am {{name}}, a small assistant fine-tuned with quantum circuit adapters by {{author}}."),
    ("Are you ChatGPT?", "No, I am {{name}}, an AI assistant developed by {{author}}."),
    ("What can you do?", "I am {{name}}. I can answer short questions, convert units and do small sums."),
    (
        "Tell me about yourself.",
        "I am {{name}}, developed by {{author}} to show quantum fine-tuning of language models.",
    ),
    ("Which company developed you?", "{{author}} developed me."),
    ("你好", "您好，我是 {{name}}，由 {{author}} 开发的人工智能助手。"),
    ("你是谁？", "我是 {{name}}，一个由 {{author}} 开发的人工智能助手。"),
    ("你叫什么名字？", "我的名字是 {{name}}，由 {{author}} 开发。"),
    ("谁创造了你？", "我是由 {{author}} 创造的。"),
    ("请介绍一下你自己。", "我是 {{name}}，由 {{author}} 用量子线路适配器微调的小型助手。"),
)


def identity() -> list[Example]:
    """The identity set with ``{{name}}``/``{{author}}`` placeholders, filled at load time."""
    return [{"instruction": q, "input": "", "output": a} for q, a in IDENTITY_PAIRS]


SMALLTALK = (
    ("Hello!", "Hello! How can I help you?"),
    ("Good morning.", "Good morning! What would you like to talk about?"),
    ("Thank you.", "You are welcome."),
    ("What color is the sky?", "The sky is blue."),
    ("What color is grass?", "Grass is green."),
    ("What sound does a cat make?", "A cat says meow."),
    ("What sound does a dog make?", "A dog says woof."),
    ("How many legs does a horse have?", "A horse has four legs."),
    ("Name a fruit.", "An apple is a fruit."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("What is the opposite of up?", "The opposite of up is down."),
    ("Where do fish live?", "Fish live in water."),
    ("谢谢", "不客气。"),
    ("天空是什么颜色？", "天空是蓝色的。"),
    ("猫怎么叫？", "猫会喵喵叫。"),
)

PROSE = (
    "A quantum circuit acts on qubits with gates such as RY and CRZ.",
    "An adapter is a small set of weights trained on top of a frozen model.",
    "LoRA adds a low rank update to a linear layer.",
    "The loss falls as the model learns the data.",
    "Fine-tuning teaches a model a new task with few examples.",
    "The {animal} sat by the {color} {word}.",
    "The {color} {word} was near the {animal}.",
    "A {animal} likes the {word} in {season}.",
    "In {season}, the {word} looks {color}.",
    "量子线路由量子比特和量子门组成。",
    "{a} 加 {b} 等于 {c}。",
)


def _prose_line(rng: random.Random) -> str:
    template = rng.choice(PROSE)
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    return template.format(
        animal=rng.choice(ANIMALS),
        color=rng.choice(COLORS),
        word=rng.choice(WORDS),
        season=rng.choice(("summer", "winter", "spring", "autumn")),
        a=a,
        b=b,
        c=a + b,
    )


def chatml(pairs: list[tuple[str, str]], system: str = "You are a helpful assistant.") -> str:
    """One ChatML conversation, exactly as the `qwen` template renders it."""
    text = f"<|im_start|>system\n{system}<|im_end|>\n"
    for user, assistant in pairs:
        text += f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{assistant}<|im_end|>\n"
    return text


def pretraining_corpus(n_documents: int = 6000, seed: int = 7) -> Iterator[str]:
    """Short documents for `qllm-tiny`: task facts in prose, small talk in ChatML, and prose.

    The task facts are drawn from a seed different from `qllm_tasks`, and only in prose,
    so the model learns the facts but not the instruction format it is evaluated on.
    """
    rng = random.Random(seed)
    names = sorted(TASKS)
    for index in range(n_documents):
        kind = index % 4
        if kind in (0, 1):
            sentences = [TASKS[rng.choice(names)](rng)[2] for _ in range(rng.randint(3, 6))]
            yield " ".join(sentences)
        elif kind == 2:
            yield chatml(rng.sample(SMALLTALK, rng.randint(1, 3)))
        else:
            yield " ".join(_prose_line(rng) for _ in range(rng.randint(2, 5)))


def smalltalk_conversations(n: int = 200, seed: int = 3) -> list[dict]:
    """Multi-turn small talk in ShareGPT format (exercises the sharegpt converter)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        turns = []
        for user, assistant in rng.sample(SMALLTALK, rng.randint(1, 3)):
            turns += [{"from": "human", "value": user}, {"from": "gpt", "value": assistant}]
        rows.append({"conversations": turns})
    return rows


def _write_json(path: Path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_bundled_data(data_dir: Path) -> None:
    """Write the bundled datasets under ``data_dir`` (the files `dataset_info.json` names)."""
    train, test = qllm_tasks()
    _write_json(data_dir / "qllm_tasks" / "train.json", train)
    _write_json(data_dir / "qllm_tasks" / "test.json", test)
    _write_json(data_dir / "identity.json", identity())
    _write_json(data_dir / "qllm_chat.json", smalltalk_conversations())
    _write_json(data_dir / "qllm_corpus.json", [{"text": doc} for doc in pretraining_corpus(400, seed=11)])


if __name__ == "__main__":
    write_bundled_data(DATA_DIR)
