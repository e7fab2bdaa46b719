"""Alternating runs of two (or more) shell commands: median and minimum
wall time and median CPU time (user + system of the child) of each.

Usage: python3 benches/compare/alternate.py N 'command A' 'command B'

Each round runs every command once, in the order given, so that a
machine that slows down or speeds up during the sitting affects all of
them alike: the way to compare two builds of the engine on one file.
"""

import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    commands = sys.argv[2:]
    walls = {c: [] for c in commands}
    cpus = {c: [] for c in commands}
    for _ in range(rounds):
        for command in commands:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, shell=True, check=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            walls[command].append(wall * 1000)
            cpus[command].append(cpu * 1000)
    for command in commands:
        print(
            f"wall {statistics.median(walls[command]):7.1f} ms  "
            f"cpu {statistics.median(cpus[command]):7.1f} ms  "
            f"min wall {min(walls[command]):7.1f}  {command[:70]}"
        )


if __name__ == "__main__":
    main()
