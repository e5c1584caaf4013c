"""How fast the `tagger` command starts: `tagger --help` and `tagger tag one.txt`.

Each case runs in a fresh process (`python -m tagger.cli ...`) several times; the medians of its
wall time and of its CPU time (user + system, which other processes on the machine disturb
less) are printed next to those of a bare `python -c pass` (the interpreter's own start-up, the
baseline), with the ratio of CPU times. `--repo` times another checkout (for
a before/after comparison: `git worktree add /tmp/before <commit>`), with this interpreter.

    python bench/bench_startup.py
    python bench/bench_startup.py --repo /tmp/before --runs 15
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ARTICLE = (
    "Shares of Tilray Brands (NASDAQ: TLRY) rose 4% on Tuesday after the cannabis producer "
    "reported higher revenue; rival Canopy Growth Corp. (CGC) also gained.\n"
)


def median_seconds(
    command: list[str], runs: int, env: dict[str, str], cwd: Path
) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` runs of `command` (after one warm-up run)."""
    walls, cpus = [], []
    for attempt in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="checkout to time (default: this)")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(args.repo.resolve())}
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        (cwd / "one.txt").write_text(ARTICLE, encoding="utf-8")
        cli = [sys.executable, "-m", "tagger.cli"]
        cases = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "import tagger": [sys.executable, "-c", "import tagger"],
            "tagger --help": [*cli, "--help"],
            "tagger tag one.txt": [*cli, "tag", "one.txt"],
        }
        baseline = None
        print(f"{args.repo}  ({args.runs} runs each, medians)")
        print(f"{'':<28} {'wall':>8} {'cpu':>8}  cpu / baseline")
        for name, command in cases.items():
            wall, cpu = median_seconds(command, args.runs, env, cwd)
            baseline = baseline or cpu
            print(f"{name:<28} {wall:7.3f}s {cpu:7.3f}s  {cpu / baseline:5.1f}x")


if __name__ == "__main__":
    main()
