"""CI-sized load test: 20 ``gradio_client`` clients against ``qa serve`` at once (loopback).

``benchmarks/load.py`` runs the full size (200 questions, real model) and prints the figures;
here the hash test model keeps it under a minute: zero errors, and the server's memory stays
flat across the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load import run_load
from qa import Assistant
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


def test_twenty_clients_at_once_get_answers_and_memory_stays_flat(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with Assistant.open(index, model="hash") as assistant:
        assert assistant.ingest([CORPUS]).ok
    result = run_load(index, clients=20, questions=40, warmup=20, timeout_s=300, startup_s=600)
    print("\n" + "\n".join(result.lines()))
    assert result.errors == 0, result.first_error
    assert result.answered == 40
    # Flat memory: the run adds little to the warmed-up server (sessions, queues), no leak.
    assert result.rss_after_mb - result.rss_before_mb < 60, result.lines()
    assert result.rss_peak_mb - result.rss_before_mb < 100, result.lines()
