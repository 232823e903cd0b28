"""A small multiple-choice benchmark in the MMLU / CMMLU / C-Eval layout, written by the project.

    python -m qllm.bundled.sample_benchmark        # rewrites evaluation/sample/

It stands in for the real benchmarks when they are not installed (see the README), so
that evaluation runs offline end to end.  Layout, the same as for the real files:

    <task>/mapping.json                      subject -> {"name": ..., "category": ...}
    <task>/{dev,val,test}/<subject>.csv      question,A,B,C,D,answer
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from qllm.bundled.synthetic import ANIMALS, COLORS
from qllm.paths import SAMPLE_BENCHMARK_DIR

SPLIT_SIZES = {"dev": 5, "val": 5, "test": 12}

Question = tuple[str, str, list[str]]  # question, correct answer, wrong answers


def _arithmetic(rng: random.Random, zh: bool) -> Question:
    a, b = rng.randint(2, 40), rng.randint(2, 40)
    right = a + b
    wrong = rng.sample([v for v in range(right - 9, right + 10) if v != right], 3)
    text = f"{a} 加 {b} 等于多少？" if zh else f"What is {a} + {b}?"
    return text, str(right), [str(w) for w in wrong]


def _units(rng: random.Random, zh: bool) -> Question:
    value = rng.randint(2, 90)
    units = [("km", "m", 1000, "千米", "米"), ("kg", "g", 1000, "千克", "克"), ("m", "cm", 100, "米", "厘米")]
    big, small, factor, big_zh, small_zh = rng.choice(units)
    right = value * factor
    wrong = [right // 10, right * 10, right + factor]
    text = f"{value} {big_zh}等于多少{small_zh}？" if zh else f"How many {small} are in {value} {big}?"
    return text, str(right), [str(w) for w in wrong]


def _comparison(rng: random.Random, zh: bool) -> Question:
    values = rng.sample(range(1, 100), 4)
    text = "下列哪个数最大？" if zh else "Which number is the largest?"
    return text, str(max(values)), [str(v) for v in values if v != max(values)]


FACTS_EN = [
    ("What color is the sky on a clear day?", "blue", ["green", "red", "black"]),
    ("Which animal says meow?", "cat", ["dog", "horse", "owl"]),
    ("How many legs does a horse have?", "four", ["two", "six", "eight"]),
    ("Where do fish live?", "in water", ["in trees", "in the desert", "in the sky"]),
    ("What is the opposite of hot?", "cold", ["warm", "big", "loud"]),
    ("Which season is the coldest?", "winter", ["summer", "spring", "autumn"]),
    ("What do bees make?", "honey", ["milk", "silk", "wool"]),
    ("Which planet do we live on?", "Earth", ["Mars", "Venus", "Jupiter"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "glass"]),
    ("How many days are in a week?", "seven", ["five", "ten", "twelve"]),
    ("Which is a fruit?", "apple", ["carrot", "potato", "onion"]),
    ("What does a thermometer measure?", "temperature", ["weight", "length", "time"]),
    ("Which animal can fly?", "eagle", ["wolf", "bear", "mouse"]),
    ("What color is grass?", "green", ["blue", "purple", "white"]),
    ("What shape has three sides?", "triangle", ["square", "circle", "hexagon"]),
    ("Which gas do people breathe in to live?", "oxygen", ["helium", "neon", "argon"]),
    ("What is the capital of France?", "Paris", ["Rome", "Berlin", "Madrid"]),
    ("Who wrote with a quill in old times?", "scribes", ["robots", "pilots", "drivers"]),
    ("Which instrument has black and white keys?", "piano", ["drum", "flute", "violin"]),
    ("How many hours are in a day?", "24", ["12", "36", "48"]),
    ("What do plants need from the sun?", "light", ["sound", "salt", "metal"]),
    ("Which is the largest ocean?", "the Pacific", ["the Atlantic", "the Indian", "the Arctic"]),
]
FACTS_ZH = [
    ("晴天的天空是什么颜色？", "蓝色", ["绿色", "红色", "黑色"]),
    ("哪种动物会喵喵叫？", "猫", ["狗", "马", "猫头鹰"]),
    ("一匹马有几条腿？", "四条", ["两条", "六条", "八条"]),
    ("鱼生活在哪里？", "水里", ["树上", "沙漠", "天上"]),
    ("热的反义词是什么？", "冷", ["暖", "大", "响"]),
    ("哪个季节最冷？", "冬天", ["夏天", "春天", "秋天"]),
    ("蜜蜂酿造什么？", "蜂蜜", ["牛奶", "丝绸", "羊毛"]),
    ("我们生活在哪颗行星上？", "地球", ["火星", "金星", "木星"]),
    ("冻住的水叫什么？", "冰", ["蒸汽", "沙子", "玻璃"]),
    ("一周有几天？", "七天", ["五天", "十天", "十二天"]),
    ("下列哪个是水果？", "苹果", ["胡萝卜", "土豆", "洋葱"]),
    ("温度计测量什么？", "温度", ["重量", "长度", "时间"]),
    ("哪种动物会飞？", "老鹰", ["狼", "熊", "老鼠"]),
    ("草是什么颜色？", "绿色", ["蓝色", "紫色", "白色"]),
    ("有三条边的图形是什么？", "三角形", ["正方形", "圆形", "六边形"]),
    ("人呼吸需要哪种气体？", "氧气", ["氦气", "氖气", "氩气"]),
    ("中国的首都是哪里？", "北京", ["上海", "广州", "深圳"]),
    ("一天有多少小时？", "24", ["12", "36", "48"]),
    ("植物需要太阳的什么？", "光", ["声音", "盐", "金属"]),
    ("最大的海洋是哪一个？", "太平洋", ["大西洋", "印度洋", "北冰洋"]),
    ("哪种乐器有黑白键？", "钢琴", ["鼓", "笛子", "小提琴"]),
    ("一年有几个月？", "十二个", ["十个", "十一个", "十三个"]),
]


def _colors(rng: random.Random, zh: bool) -> Question:
    animal = rng.choice(ANIMALS)
    color = rng.choice(COLORS)
    others = rng.sample([c for c in COLORS if c != color], 3)
    if zh:
        return f"句子“这只{animal}是{color}的”中，{animal}是什么颜色？", color, others
    return f"In the sentence 'The {animal} is {color}.', what color is the {animal}?", color, others


SUBJECTS = {  # task -> subject -> (display name, category, question maker or fixed list, Chinese?)
    "mmlu": {
        "elementary_mathematics": ("elementary mathematics", "STEM", _arithmetic, False),
        "units_and_measures": ("units and measures", "STEM", _units, False),
        "reading_comprehension": ("reading comprehension", "Humanities", _colors, False),
        "everyday_knowledge": ("everyday knowledge", "Other", FACTS_EN, False),
        "number_sense": ("number sense", "Social Sciences", _comparison, False),
    },
    "cmmlu": {
        "elementary_mathematics": ("初等数学", "STEM", _arithmetic, True),
        "units_and_measures": ("计量单位", "STEM", _units, True),
        "common_sense": ("常识", "Other", FACTS_ZH, True),
        "number_sense": ("数感", "Social Sciences", _comparison, True),
    },
    "ceval": {
        "middle_school_mathematics": ("初中数学", "STEM", _arithmetic, True),
        "basic_knowledge": ("基础知识", "Humanities", FACTS_ZH, True),
        "measurement": ("计量", "Other", _units, True),
    },
}


def _rows(maker, zh: bool, count: int, rng: random.Random) -> list[list[str]]:
    questions = list(maker) if isinstance(maker, list) else [maker(rng, zh) for _ in range(count)]
    rng.shuffle(questions)
    rows = []
    for question, right, wrong in questions[:count]:
        options = [right, *wrong[:3]]
        rng.shuffle(options)
        rows.append([question, *options, "ABCD"[options.index(right)]])
    return rows


def write_sample(root: Path = SAMPLE_BENCHMARK_DIR, seed: int = 0) -> None:
    rng = random.Random(seed)
    total = sum(SPLIT_SIZES.values())
    for task, subjects in SUBJECTS.items():
        mapping = {}
        for subject, (name, category, maker, zh) in subjects.items():
            mapping[subject] = {"name": name, "category": category}
            rows = _rows(maker, zh, total, rng)
            start = 0
            for split, size in SPLIT_SIZES.items():
                path = root / task / split / f"{subject}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["question", "A", "B", "C", "D", "answer"])
                    writer.writerows(rows[start : start + size])
                start += size
        (root / task / "mapping.json").write_text(
            json.dumps(mapping, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    write_sample()
