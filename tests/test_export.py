"""The conversion-time int8 check: keep the first setting that agrees, else the float model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from embeddings import export
from embeddings.export import MIN_AGREEMENT, QUANTIZATIONS, Quantization, quantize_checked


class FakeQuantizer:
    """Writes the setting's name as the "model" and scores each setting as told."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.tried: list[str] = []

    def quantize(self, source: Path, out: Path, setting: Quantization) -> None:
        assert source.read_bytes() == b"float model"
        self.tried.append(setting.name)
        out.write_bytes(setting.name.encode())

    def agreement(self, model_dir: Path, float_path: Path, candidate: Path) -> float:
        return self.scores[candidate.read_bytes().decode()]


def convert(tmp_path: Path, fake: FakeQuantizer) -> tuple[Quantization | None, bytes]:
    float_path = tmp_path / "model.onnx"
    float_path.write_bytes(b"float model")
    target = tmp_path / "model-int8.onnx"
    kept = quantize_checked(
        tmp_path, float_path, target, tmp_path / ".1", fake.quantize, fake.agreement
    )
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["model-int8.onnx", "model.onnx"]  # no temp files stay behind
    return kept, target.read_bytes()


def test_the_first_setting_that_agrees_is_kept(tmp_path: Path) -> None:
    first, second = (s.name for s in QUANTIZATIONS)
    fake = FakeQuantizer({first: MIN_AGREEMENT + 0.005, second: 0.999})
    kept, written = convert(tmp_path, fake)
    assert kept == QUANTIZATIONS[0] and written == first.encode()
    assert fake.tried == [first]


def test_a_setting_below_the_threshold_falls_back_to_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = (s.name for s in QUANTIZATIONS)
    fake = FakeQuantizer({first: 0.976, second: 0.995})  # 0.976: the AVX2 figure of issue 14
    with caplog.at_level(logging.INFO, logger="article_qa"):
        kept, written = convert(tmp_path, fake)
    assert kept == QUANTIZATIONS[1] and written == second.encode()
    assert fake.tried == [first, second]
    assert "0.9760" in caplog.text


def test_float_model_with_a_notice_when_no_setting_agrees(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeQuantizer(dict.fromkeys((s.name for s in QUANTIZATIONS), 0.9))
    with caplog.at_level(logging.WARNING, logger="article_qa"):
        kept, written = convert(tmp_path, fake)
    assert kept is None and written == b"float model"
    assert "float32 ONNX model" in caplog.text


def test_settings_are_immune_to_avx2_saturation() -> None:
    # vpmaddubsw adds two uint8 x int8 products in 16 bits; 7-bit signed weights (|w| <= 64)
    # keep that sum within int16, unsigned weights take a kernel without that step.
    for setting in QUANTIZATIONS:
        assert setting.reduce_range or setting.weight_type == "QUInt8", setting
    assert 2 * 255 * 64 <= 2**15 - 1 < 2 * 255 * 127
    assert export.RECIPE != "1"  # caches of the saturating recipe are not reused
