"""The long fuzz run, for before a release: minutes, not the seconds CI gives it.

    python tests/fuzz_long.py                # the fuzz tests with 20,000 examples each (hypothesis)
    python tests/fuzz_long.py --atheris 300  # and 300 s of coverage-guided fuzzing of the wire gate

The second needs `pip install atheris` (a libFuzzer build for CPython; where it does not build, the
hypothesis run is the whole of it). Every crash it finds goes into bench/hostile.py's SEEDS, for
good.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--atheris",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also fuzz the wire gate under atheris for this long",
    )
    args = parser.parse_args()
    env = {**os.environ, "SWARMSCOPE_FUZZ": "long"}
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", str(HERE / "test_fuzz.py")], env=env, cwd=HERE.parent
    )
    if args.atheris and code == 0:
        code = subprocess.call(
            [sys.executable, __file__, "--_atheris", f"-max_total_time={args.atheris}"]
        )
    return code


def atheris_gate(argv: list[str]) -> None:
    """libFuzzer's loop over the gate: any exception but a refusal is a crash, kept by libFuzzer."""
    import atheris

    with atheris.instrument_imports():
        from test_fuzz import agree

        from swarmscope.bench.hostile import SEEDS

    corpus = Path(os.environ.get("TMPDIR", "/tmp")) / "swarmscope-fuzz-corpus"
    corpus.mkdir(exist_ok=True)
    for name, frames in SEEDS.items():
        (corpus / f"seed-{abs(hash(name))}").write_bytes(frames[-1])
    atheris.Setup([argv[0], str(corpus), *argv[1:]], agree)
    atheris.Fuzz()


if __name__ == "__main__":
    if "--_atheris" in sys.argv:
        atheris_gate([a for a in sys.argv if a != "--_atheris"])
    else:
        sys.exit(main())
