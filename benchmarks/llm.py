"""Time to first token and the sentence check's overhead of generative answers (issue 16).

Starts SmolLM2-135M in-process (xllamacpp, the llm-test extra; 1 thread) unless --llm names a
server, asks each question of a questions file (corpus/questions.json by default) and reports
the median time to first token, total time, the check's own time per answer, and what the check
did (answers kept generative, sentences dropped, fallbacks).

    PYTHONPATH=. python benchmarks/llm.py --index index [--llm URL] [--limit 10]
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from pathlib import Path

from qa.assistant import Assistant
from qa.llm import LLMConfig, Token
from qa.types import Answer


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
    generate_module = importlib.import_module("qa.llm.generative")
    check_seconds: list[float] = []
    real_check = generate_module.checked_answer

    def timed_check(*a: object, **kw: object) -> Answer:
        start = time.perf_counter()
        try:
            return real_check(*a, **kw)  # type: ignore[arg-type]
        finally:
            check_seconds.append(time.perf_counter() - start)

    generate_module.checked_answer = timed_check  # type: ignore[assignment]
    first: list[float] = []
    total: list[float] = []
    modes = {"generative": 0, "extractive": 0, "abstained": 0}
    sentences = dropped = hits = own = citing = 0
    with Assistant.open(args.index) as assistant:
        assistant.ask("warm up the embedder")
        for item in items:
            question = item["question"]
            start = time.perf_counter()
            seen_first = None
            reply = None
            for event in assistant.ask_stream(question, llm=config):
                if isinstance(event, Token) and seen_first is None:
                    seen_first = time.perf_counter() - start
                elif isinstance(event, Answer):
                    reply = event
            total.append(time.perf_counter() - start)
            assert reply is not None
            if not reply.found:
                modes["abstained"] += 1
                continue
            if seen_first is not None:
                first.append(seen_first)
            modes[reply.mode] += 1
            hits += any(a.lower() in reply.text.lower() for a in item.get("answers", []))
            sentences += len(reply.sentences)
            dropped += sum(not s.supported for s in reply.sentences)
            # ALCE-style, judged by our support check instead of an NLI model: recall = the
            # model's sentences that a passage they cite supports; precision = of the sentences
            # that cite something, those whose citation was right (not re-attributed).
            own += sum(
                s.supported and not s.reattributed and bool(s.cited) for s in reply.sentences
            )
            citing += sum(bool(s.cited) for s in reply.sentences)
    if server is not None:
        server.stop()
    print(f"questions {len(items)}: {modes}; answer hit {hits}/{len(items)}")
    if first:
        print(f"time to first token: median {statistics.median(first):.2f} s")
    print(f"total per question: median {statistics.median(total):.2f} s")
    if check_seconds:
        print(f"check per answer: median {1000 * statistics.median(check_seconds):.0f} ms")
    if sentences:
        print(f"sentences {sentences}, dropped {dropped} ({100 * dropped / sentences:.0f}%)")
        print(
            f"citation recall {own}/{sentences}; citation precision {own}/{citing} "
            "(by our support check; sentences the model cited nothing for count against recall)"
        )
    answered = modes["generative"] + modes["extractive"]
    if answered:
        print(f"fallback rate {modes['extractive']}/{answered} (to the quoted answer)")


if __name__ == "__main__":
    main()
