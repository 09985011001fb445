"""Import time of ``modelwire`` vs ``openai``, each in fresh interpreter processes, side by side.

    python tools/bench/bench_import.py [--runs 15]

Each sample is a fresh interpreter that times its own ``import X`` with ``perf_counter`` (so the
interpreter's start-up is not part of it); the two modules alternate. Prints the medians and the
ratio modelwire / openai (target ≤ 0.15).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys


def _once(module: str) -> float:
    code = (
        "import time; t = time.perf_counter(); import " + module + "; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"modelwire": [], "openai": []}
    for _ in range(args.runs):  # interleaved so drift affects both alike
        for module in samples:
            samples[module].append(_once(module))
    mw = statistics.median(samples["modelwire"])
    oa = statistics.median(samples["openai"])
    print(f"import modelwire         {mw * 1000:8.2f} ms")
    print(f"import openai            {oa * 1000:8.2f} ms")
    print(f"ratio modelwire/openai   {mw / oa:8.4f}   (target <= 0.15)")


if __name__ == "__main__":
    main()
