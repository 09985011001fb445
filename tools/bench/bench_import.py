"""Import time of ``modelwire`` vs ``openai``, each in fresh interpreter processes, side by side.

    python tools/bench/bench_import.py [--runs 15]

Prints the median wall time of ``python -c "import X"`` minus that of ``python -c "pass"`` (the
interpreter's own start-up), and the ratio modelwire / openai (target ≤ 0.15).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"pass": [], "import modelwire": [], "import openai": []}
    for _ in range(args.runs):  # interleaved so drift affects all three alike
        for code in samples:
            samples[code].append(_once(code))
    base = statistics.median(samples["pass"])
    mw = statistics.median(samples["import modelwire"]) - base
    oa = statistics.median(samples["import openai"]) - base
    print(f"interpreter start-up     {base * 1000:8.1f} ms (subtracted)")
    print(f"import modelwire         {mw * 1000:8.1f} ms")
    print(f"import openai            {oa * 1000:8.1f} ms")
    print(f"ratio modelwire/openai   {mw / oa:8.3f}   (target <= 0.15)")


if __name__ == "__main__":
    main()
