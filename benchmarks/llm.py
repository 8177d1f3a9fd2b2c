"""Time to first token and the sentence check's overhead of generative answers (issue 16).

Starts SmolLM2-135M in-process (xllamacpp, the llm-test extra; 1 thread) unless --llm names a
server, asks each question of a questions file (corpus/questions.json by default) and reports
the median time to first token, total time, the check's own time per answer (the checks of
each sentence as it streams plus the final one), and what the check did: the figures of
``qa eval --llm`` (qa/eval/generative.py, one implementation for both).

    PYTHONPATH=. python benchmarks/llm.py --index index [--llm URL] [--limit 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from qa.assistant import Assistant
from qa.eval.evaluation import Question
from qa.eval.generative import markdown_generative, run_generative, summarise_generative
from qa.llm import LLMConfig
from qa.llm import check as check_module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default="corpus/questions.json")
    parser.add_argument("--llm", help="an OpenAI-compatible API base; default: SmolLM2 in-process")
    parser.add_argument("--llm-context", type=int, default=2048)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    server = None
    url = args.llm
    if url is None:
        from qa.llm.local import LocalServer

        server = LocalServer(context=args.llm_context)
        url = server.url
    config = LLMConfig(url, context=args.llm_context)
    items = json.loads(Path(args.questions).read_text())[: args.limit]
    # No gold spans in questions.json: the gold-span citation precision is left out, and every
    # question counts as in-corpus (the demo questions are about the demo articles).
    questions = [
        Question(str(n), item["question"], tuple(item.get("answers", [])), "", "", (), n)
        for n, item in enumerate(items)
    ]
    check_seconds: list[float] = []
    real_check = check_module.SupportChecker.check

    def timed_check(self: check_module.SupportChecker, *a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return real_check(self, *a, **kw)
        finally:
            check_seconds.append(time.perf_counter() - start)

    check_module.SupportChecker.check = timed_check  # type: ignore[method-assign]
    per_answer: list[float] = []

    def progress(done: int, total: int) -> None:
        per_answer.append(sum(check_seconds))
        check_seconds.clear()

    with Assistant.open(args.index) as assistant:
        assistant.ask("warm up the embedder")
        check_seconds.clear()
        results = run_generative(assistant, questions, config, progress)
    if server is not None:
        server.stop()
    summary = summarise_generative(results)
    print(markdown_generative(summary, None))
    checked = [s for s, r in zip(per_answer, results, strict=True) if r.asked]
    if checked:
        median = 1000 * statistics.median(checked)
        print(f"check per answer (as it streamed, and the final one): median {median:.0f} ms")


if __name__ == "__main__":
    main()
