"""Load test: many ``gradio_client`` clients asking questions of one ``qa serve`` at once.

    python benchmarks/load.py                      # 20 clients, 200 questions, real model
    python benchmarks/load.py --index index --clients 20 --questions 200

Starts ``qa serve`` on 127.0.0.1 (a free port; nothing leaves this machine) over ``--index``
(default: an index of corpus/articles built once with the bundled model in
benchmarks/results/load-index), waits until it answers, then ``--clients`` threads, each with
its own ``gradio_client.Client``, share ``--warmup`` questions and then ``--questions`` more
(corpus/questions.json, in turn) through the ``/ask`` API. Every request has a timeout. Prints
errors, latency p50/p95 and throughput of the measured questions, and the server's resident
memory (RSS): after its first answer, after the warm-up (threads and buffers of concurrent use
settle), its peak during the measured run (sampled every ``--sample-s`` seconds) and after it.
Flat memory means after ≈ after the warm-up. ``run_load()`` is what tests/test_load.py calls.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.sentence import go_offline  # noqa: E402
from qa import Assistant  # noqa: E402

DEFAULT_INDEX = ROOT / "benchmarks" / "results" / "load-index"
QUESTIONS = ROOT / "corpus" / "questions.json"


@dataclass(frozen=True)
class LoadResult:
    clients: int
    questions: int
    warmup: int
    answered: int
    errors: int
    first_error: str | None
    p50_ms: float
    p95_ms: float
    seconds: float
    questions_per_s: float
    rss_start_mb: float
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float

    def lines(self) -> list[str]:
        return [
            f"clients            {self.clients}",
            f"questions          {self.questions} ({self.answered} answered, {self.errors} errors"
            f", after {self.warmup} to warm up)",
            f"latency p50 / p95  {self.p50_ms:.0f} / {self.p95_ms:.0f} ms",
            f"throughput         {self.questions_per_s:.1f} questions/s ({self.seconds:.1f} s)",
            f"server RSS         {self.rss_start_mb:.0f} MB after 1 question; after the warm-up "
            f"{self.rss_before_mb:.0f} MB, peak {self.rss_peak_mb:.0f} MB, after "
            f"{self.rss_after_mb:.0f} MB",
        ] + ([f"first error        {self.first_error}"] if self.first_error else [])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (psutil when installed, else /proc)."""
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def build_index(index: Path, model: str | None) -> None:
    with Assistant.open(index, model=model) as assistant:
        report = assistant.ingest([ROOT / "corpus" / "articles"])
    print(f"built {index}: {report.summary()}", file=sys.stderr)


def start_server(index: Path, startup_s: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return server, url
        except OSError:
            if server.poll() is not None:
                stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
                raise RuntimeError(f"qa serve exited early: {stderr[-2000:]}") from None
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"qa serve did not answer within {startup_s:.0f} s")


class Sampler(threading.Thread):
    """Samples a process's RSS every ``interval`` seconds until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self.done.wait(self.interval)


def ask_all(
    url: str, questions: list[str], clients: int, timeout_s: float
) -> tuple[list[float], list[str]]:
    """``clients`` threads, each with its own Client, share ``questions``; return the latencies
    (s) of the answered ones and one line per error."""
    from gradio_client import Client

    # Client builds Hugging Face headers, which fetch an agent registry from the Hub unless
    # huggingface_hub is offline (CI's proxy trap caught this benchmark's clients doing it).
    go_offline()
    todo: queue.Queue[str] = queue.Queue()
    for question in questions:
        todo.put(question)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop() -> None:
        try:
            client = Client(url, verbose=False, analytics_enabled=False)
        except Exception as error:
            with lock:
                errors.append(f"connect: {error!r}")
            return
        while True:
            try:
                question = todo.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                reply = client.submit(question, 5, api_name="/ask").result(timeout=timeout_s)
                if not isinstance(reply, dict) or not reply.get("text"):
                    raise ValueError(f"unexpected reply {reply!r:.200}")
            except Exception as error:
                with lock:
                    errors.append(f"{question!r}: {error!r}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s * max(1, len(questions)))
    unanswered = len(questions) - len(latencies) - sum(not e.startswith("connect:") for e in errors)
    if unanswered > 0:
        errors.append(f"{unanswered} questions unanswered (clients stuck or never connected)")
    return latencies, errors


def run_load(
    index: Path,
    clients: int = 20,
    questions: int = 200,
    warmup: int = 40,
    timeout_s: float = 120,
    startup_s: float = 300,
    sample_s: float = 0.1,
) -> LoadResult:
    """Serve ``index``; ask ``warmup`` questions from ``clients`` clients at once (the server's
    memory settles: threads, buffers), then ``questions`` more, measured."""
    asked = [item["question"] for item in json.loads(QUESTIONS.read_text(encoding="utf-8"))]
    server, url = start_server(index, startup_s)
    try:
        ask_all(url, asked[:1], 1, timeout_s)  # the server answers at all
        start = rss_mb(server.pid)
        warm_latencies, warm_errors = ask_all(
            url, [asked[n % len(asked)] for n in range(warmup)], clients, timeout_s
        )
        before = rss_mb(server.pid)
        sampler = Sampler(server.pid, sample_s)
        sampler.start()
        started = time.perf_counter()
        latencies, errors = ask_all(
            url, [asked[(warmup + n) % len(asked)] for n in range(questions)], clients, timeout_s
        )
        seconds = time.perf_counter() - started
        time.sleep(max(sample_s * 2, 0.2))
        after = rss_mb(server.pid)
        sampler.done.set()
        sampler.join()
        errors = warm_errors + errors
        return LoadResult(
            clients=clients,
            questions=questions,
            warmup=warmup,
            answered=len(latencies),
            errors=(warmup - len(warm_latencies)) + (questions - len(latencies)),
            first_error=errors[0] if errors else None,
            p50_ms=percentile(latencies, 0.50) * 1000,
            p95_ms=percentile(latencies, 0.95) * 1000,
            seconds=seconds,
            questions_per_s=len(latencies) / seconds if seconds else 0.0,
            rss_start_mb=start,
            rss_before_mb=before,
            rss_peak_mb=max(sampler.peak, before, after),
            rss_after_mb=after,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help=f"index to serve (default: {DEFAULT_INDEX})")
    parser.add_argument("--model", help="model for building the default index (default: bundled)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=40, help="questions before measuring")
    parser.add_argument("--timeout-s", type=float, default=120, help="per question")
    parser.add_argument("--sample-s", type=float, default=0.1, help="RSS sampling interval")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    index = args.index
    if index is None:
        index = DEFAULT_INDEX
        if not (index / "index.sqlite").exists():
            build_index(index, args.model)
    result = run_load(
        index,
        args.clients,
        args.questions,
        args.warmup,
        timeout_s=args.timeout_s,
        sample_s=args.sample_s,
    )
    print(json.dumps(asdict(result), indent=2) if args.json else "\n".join(result.lines()))
    sys.exit(1 if result.errors else 0)


if __name__ == "__main__":
    main()
