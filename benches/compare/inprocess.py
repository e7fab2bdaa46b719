"""The Python package in-process against Polars in the same process, on the
same tables already in memory (issue 17): a national run of synthetic
Denmark from a pyarrow Table.

    pip install ./python polars
    python3 benches/compare/inprocess.py [--scale 1] [--seed 1] [--runs 5] [--threads N]

fordeling is timed from `fordeling.run(population=<pyarrow.Table>, ...)` to
its clinic table as a pyarrow Table; Polars is timed from DataFrames made
of the same Arrow buffers (made before the clock starts) to its clinic
table (`peer_polars.clinic_table`, the expert's query on the streaming
engine). Both are timed best of `--runs`, alternating, and their minimum
patient counts must agree for every clinic."""
import argparse
import os
import sys
import tempfile
import time

import polars as pl
import pyarrow.csv as pa_csv

import fordeling

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model_terms import load  # noqa: E402
from peer_polars import clinic_table  # noqa: E402

MODEL = os.path.join(HERE, "..", "..", "models", "reference-2027.toml")


def best(work, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - started)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    population, clinics, geography = fordeling.synth(scale=args.scale, seed=args.seed)
    model = fordeling.Model.load(MODEL)
    with tempfile.TemporaryDirectory() as scratch:
        geography_csv = os.path.join(scratch, "geography.csv")
        pa_csv.write_csv(geography, geography_csv)
        terms = load(MODEL, geography_csv, 2027)
    people, places = pl.from_arrow(population), pl.from_arrow(clinics)

    def engine():
        result = fordeling.run(
            population=population, clinics=clinics, geography=geography,
            model=model, threads=args.threads,
        )
        return result.clinics

    def peer():
        return clinic_table(people.lazy(), places.lazy(), terms)

    ours, theirs = [], []
    for _ in range(args.runs):
        t, ours_table = best(engine, 1)
        ours.append(t)
        t, theirs_table = best(peer, 1)
        theirs.append(t)
    a = dict(zip(ours_table.column("clinic_id").to_pylist(), ours_table.column("min_patients").to_pylist()))
    b = dict(zip(theirs_table["clinic_id"].to_list(), theirs_table["min_patients"].to_list()))
    disagree = [k for k in a if a[k] != b.get(k)]
    print(f"persons {population.num_rows:,}, clinics {clinics.num_rows:,}, "
          f"best of {args.runs}, threads {args.threads or os.cpu_count()}")
    print("| in one process | seconds (best) | all runs |")
    print("|---|---:|---|")
    print(f"| fordeling.run (pyarrow Table) | {min(ours):.3f} | {', '.join(f'{t:.3f}' for t in ours)} |")
    print(f"| Polars (DataFrame, streaming) | {min(theirs):.3f} | {', '.join(f'{t:.3f}' for t in theirs)} |")
    print(f"ratio Polars / fordeling: {min(theirs) / min(ours):.2f}x")
    print(f"counts agree: {len(a) - len(disagree)} of {len(a)} clinics")
    if disagree:
        print(f"first disagreements: {[(k, a[k], b.get(k)) for k in disagree[:5]]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
