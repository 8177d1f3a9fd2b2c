"""Does the product abstain as ``benchmarks/reader_calibrate.py`` simulates? (issue 23, 2026-12-06.)

The calibration script fits the abstention threshold offline, from the sentences it had the
reader read for each calibration question. This asks the same answerable questions (same seed,
same indexes, which that script must have built) through ``Assistant.ask`` with the shipped
constants and compares the share that abstains with the simulation's, from that script's cache
for the shipped reader.

    python benchmarks/reader_calibrate.py        # once: the indexes and the cached reads
    python benchmarks/quality_research/calibration_fidelity.py

2026-12-06, the shipped reader: false abstention .023 / .051 / .049 asked through the product
and .023 / .051 / .049 simulated (SQuAD 348 questions, NYT 408, Amazon 700). The simulation is
faithful; NYT's held-out false abstention (.073 on 1,500 questions) is above its calibration
figure because the threshold is set where the file that binds it (NYT, 408 answerable
calibration questions, standard error about .011) reaches .05.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.reader_calibrate import (
    RESULTS,
    calibration_questions,
    calibration_split,
    model_tag,
    read_asked,
    sure,
)
from qa import Assistant
from qa.pipeline import reader as reader_stage

QUESTIONS = 700  # reader_calibrate.py's default
SEED = 7


def main() -> None:
    work = RESULTS / "reader-calibration"
    cached = read_asked(work / f"read-{QUESTIONS}-{SEED}-{model_tag(None)}.json")
    for name in ("squad", "nyt", "amazon"):
        source = work / f"{name}-calibration.json"
        answerable = calibration_questions(calibration_split(name, SEED), source, QUESTIONS)[0]
        with Assistant.open(work / f"index-{name}-calibration", create=False) as assistant:
            abstained = sum(not assistant.ask(q.question).found for q in answerable)
        simulated = [a for a in cached if a.file == name and a.in_corpus]
        below = sum(sure(reader_stage.HEAD, a) < reader_stage.ABSTAIN_BELOW for a in simulated)
        print(
            f"{name}: false abstention asked {abstained / len(answerable):.3f}, "
            f"simulated {below / len(simulated):.3f} ({len(answerable)} questions)"
        )


if __name__ == "__main__":
    main()
