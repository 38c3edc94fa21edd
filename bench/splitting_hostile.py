"""Measure sentence splitting on hostile inputs, as a ratio to ordinary news text.

Run: PYTHONPATH=. python bench/splitting_hostile.py [megabytes]
Each input is split whole; the table gives MB/s and the slow-down against ordinary
sentences of the same size measured in the same run (the machine is shared).
"""

from __future__ import annotations

import sys
import time

from bot.ingest.splitting import split_paragraphs, split_sentences

INPUTS = {
    "ordinary sentences": "The envoy met officials in Seoul on Thursday. ",
    "dots": ".",
    "!?!?": "!?",
    "Mr. X Mr. Y": "Mr. X Mr. Y ",
    "initials": "A. B. ",
    "dotted acronyms": "U.S. ",
    "dots between letters": "a.",
    "closing quotes": '."',
    "no full stop": "word, ",
    "blank lines": "\n \n",
}


def main() -> None:
    """Print throughput per input and its ratio to ordinary text."""
    size = int(float(sys.argv[1]) * 1_000_000) if len(sys.argv) > 1 else 4_000_000
    rates: dict[str, float] = {}
    for name, unit in INPUTS.items():
        text = (unit * (size // len(unit) + 1))[:size]
        started = time.process_time()
        count = sum(len(split_sentences(p)) for p in split_paragraphs(text))
        seconds = max(time.process_time() - started, 1e-9)
        rates[name] = size / 1e6 / seconds
        ratio = rates["ordinary sentences"] / rates[name]
        print(f"{name:22} {rates[name]:7.1f} MB/s  {ratio:5.2f}x ordinary  {count} sentences")


if __name__ == "__main__":
    main()
