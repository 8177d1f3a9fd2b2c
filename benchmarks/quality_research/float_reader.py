"""What does int8 cost the trained models? (issues 23 and 24, probe 2026-12-06.) Writes a
training run's weights (``WORK/final.pt``) as a float ONNX file (the export of
``embeddings.reader_training.export`` without its quantization step: 90 MB, never committed),
to be measured beside the int8 file the same run exported:

    python benchmarks/quality_research/float_reader.py WORK/final.pt OUT_DIR [reader.onnx|verifier.onnx]
    python benchmarks/reader_calibrate.py --reader-dir OUT_DIR          # a reader
    cp OUT_DIR/verifier.onnx embeddings/trained/verifier-float.onnx     # a verifier (delete after)
    python benchmarks/verifier_eval.py --side calibration --file verifier-float.onnx

2026-12-06, the two runs at twice the learning rate (model card, "Tried, not shipped"; their
int8 files were measured the same day), calibration articles and titles:
- reader, int8 against float: score .6660 against .6670; answer hit .871 / .686 / .413 against
  .874 / .689 / .414 (SQuAD / NYT / Amazon), citation precision .868 / .726 / .432 against
  .869 / .726 / .430, correct abstention .883 / .743 / .150 against .872 / .736 / .159;
- verifier, int8 against float: VitaminC accuracy as check.py decides .758 against .763 (the
  model alone .713 against .713), true claims kept .947 against .952, refuting paraphrases
  dropped .949 against .949.
Int8 costs at most .001 of the reader's score and .005 of VitaminC: the models' gaps to their
targets are not in the export.
"""

import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from embeddings.export import optimize_graph, quietly
from embeddings.reader_training import build_model
from embeddings.sentence import default_model_path


def main() -> None:
    weights, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    name = sys.argv[3] if len(sys.argv) > 3 else "reader.onnx"
    model_dir = default_model_path()
    model = build_model(model_dir)
    state = torch.load(weights, weights_only=True)
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("span.")})
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / ".float.export.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes |= {"answer": {0: "batch"}, "verify": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(
            model, sample, str(raw), input_names=names, output_names=["answer", "verify"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip
    quietly(optimize_graph, model_dir, raw, out_dir / name)
    raw.unlink()
    shutil.copyfile(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    print(f"wrote {out_dir / name} ({(out_dir / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
