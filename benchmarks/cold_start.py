"""Cold start: wall time of ``qa ask`` and ``qa --help`` as fresh processes, with a breakdown.

    python benchmarks/cold_start.py [--runs 5]

Uses an index of the demo corpus (corpus/articles) in benchmarks/results/demo-index, built on
first use with the default model and backend. Prints the median and best wall time of each
command over ``--runs`` fresh processes, then where the time of one ``ask`` goes (measured inside
a fresh process: imports, opening the index, loading the model, loading the vector index, the
search, the answer). The ONNX conversion is cached before timing (it runs once per model).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, ROOT

INDEX = RESULTS / "demo-index"
QUESTION = "Who introduced plague to Europe?"
QA = [sys.executable, "-m", "qa"]

# Runs inside a fresh interpreter: the stages of `qa ask`, timed one by one.
BREAKDOWN = """
import json, sys, time
t0 = time.perf_counter()
from qa.cli.commands import cli
from qa.assistant import Assistant
t1 = time.perf_counter()
assistant = Assistant.open(sys.argv[1], create=False)
t2 = time.perf_counter()
vector = assistant.embedder.embed([sys.argv[2]])[0]
t3 = time.perf_counter()
assistant.store.vector_index
t4 = time.perf_counter()
passages = assistant.retriever.search(sys.argv[2], 5, None, vector)
t5 = time.perf_counter()
from qa.pipeline.answer import answer
reply = answer(sys.argv[2], passages, assistant.embedder, vector, None)
t6 = time.perf_counter()
assert reply.found, reply.text
stages = {"imports": t1 - t0, "open index": t2 - t1, "load model + embed question": t3 - t2,
          "load vector index": t4 - t3, "search": t5 - t4,
          "answer (score sentences, cite)": t6 - t5}
print(json.dumps(stages))
"""


def wall(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (INDEX / "index.sqlite").exists():
        subprocess.run([*QA, "ingest", "corpus/articles", "--index", str(INDEX)], check=True)
    ask = [*QA, "ask", QUESTION, "--index", str(INDEX)]
    subprocess.run(ask, check=True, capture_output=True, cwd=ROOT)  # converts the model if needed
    print(f"| command (fresh process, {args.runs} runs) | median s | best s |\n|---|---|---|")
    for label, command in (
        (f'qa ask "{QUESTION}"', ask),
        ("qa --help", [*QA, "--help"]),
        ("qa list", [*QA, "list", "--index", str(INDEX)]),
    ):
        times = wall(command, args.runs)
        print(f"| `{label}` | {statistics.median(times):.2f} | {min(times):.2f} |")
    done = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, str(INDEX), QUESTION],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n| stage of one cold `qa ask` | ms |\n|---|---|")
    for stage, seconds in stages.items():
        print(f"| {stage} | {seconds * 1000:.0f} |")
    print(f"| total | {sum(stages.values()) * 1000:.0f} |")


if __name__ == "__main__":
    main()
