"""Times the engine beside Polars and DuckDB on the same synthetic national
file, end to end (process start to output written), after checking that
all three give the same clinic needs (1e-9 relative) and proposals.

Usage: python3 benches/compare/compare.py [--scale 1] [--runs 5] [--year 2027] [--writers [--before BIN]]
Needs: pip install polars duckdb (and pyarrow for --writers); /usr/bin/time (GNU time).

--writers also re-writes the engine's file with pyarrow (nullable, snappy),
Polars (nullable, zstd), DuckDB and as a row-shuffled copy, checks that the
engine gives byte-identical clinics.csv and areas.csv on every one, and
prints the engine against the Polars peer on each file.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENGINE = os.path.join(ROOT, "target", "release", "fordeling")
MODEL = os.path.join(ROOT, "models", "reference-2027.toml")
GEOGRAPHY = os.path.join(ROOT, "data", "geography-dk-2027.csv")


def timed(command):
    """Wall seconds and peak RSS (MB) of one run of `command`: the wall
    time by the clock around it (`/usr/bin/time`'s own gives hundredths of
    a second, a tenth of a 0.1 s run), the peak RSS by `/usr/bin/time`
    (a small process, so the RSS its child inherits before `exec` is
    small too; the kernel keeps the larger of that and the command's own)."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    rss = result.stderr.strip().splitlines()[-1]
    return wall, int(rss) / 1024


def national_data(args, rich=False):
    """Builds the engine and makes `synth --scale S --seed 1` (with
    `--rich`) once; returns the directory, population and clinics paths."""
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    data = os.path.join(args.work, f"{'rich-' if rich else ''}scale-{args.scale}")
    population = os.path.join(data, "population.parquet")
    if not os.path.exists(population):
        subprocess.run([ENGINE, "synth", "--scale", args.scale, "--seed", "1", "--out", data, "--quiet"]
                       + (["--rich"] if rich else []), check=True)
    return data, population, os.path.join(data, "clinics.parquet")


def read(path, id_column="clinic_id", need="need", count="min_patients"):
    with open(path, encoding="utf-8") as f:
        return {int(r[id_column]): (float(r[need]), r[count]) for r in csv.DictReader(f)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--year", default="2027")
    parser.add_argument("--work", default=os.path.join(ROOT, "target", "compare"))
    parser.add_argument("--writers", action="store_true")
    parser.add_argument("--before", help="with --writers: also time this (earlier) engine binary on each file")
    args = parser.parse_args()
    if args.writers:
        return writers(args)

    _, population, clinics = national_data(args)
    out = os.path.join(args.work, "out")
    os.makedirs(out, exist_ok=True)
    python = sys.executable
    tools = {
        "fordeling": [ENGINE, "run", "--population", population, "--clinics", clinics, "--model", MODEL,
                      "--year", args.year, "--out", os.path.join(out, "engine"), "--quiet"],
        "polars": [python, os.path.join(HERE, "peer_polars.py"), population, clinics, MODEL, GEOGRAPHY,
                   args.year, os.path.join(out, "polars.csv")],
        "duckdb": [python, os.path.join(HERE, "peer_duckdb.py"), population, clinics, MODEL, GEOGRAPHY,
                   args.year, os.path.join(out, "duckdb.csv")],
    }
    # Fairness first: one run each, then compare the clinic outputs.
    for command in tools.values():
        timed(command)
    engine = read(os.path.join(out, "engine", "clinics.csv"))
    for peer in ["polars", "duckdb"]:
        other = read(os.path.join(out, f"{peer}.csv"))
        assert engine.keys() == other.keys(), f"{peer}: other clinics"
        for clinic, (need, count) in engine.items():
            need_p, count_p = other[clinic]
            assert abs(need - need_p) <= 1e-9 * max(abs(need), 1.0), f"{peer} clinic {clinic}: need {need_p} vs {need}"
            assert (count or "") == (count_p or ""), f"{peer} clinic {clinic}: proposal {count_p} vs {count}"
        print(f"{peer}: same needs (1e-9) and proposals as fordeling for {len(engine)} clinics")

    rows = {}
    for name, command in tools.items():
        runs = [timed(command) for _ in range(args.runs)]
        walls = [w for w, _ in runs]
        rows[name] = (min(walls), statistics.median(walls), max(walls), max(r for _, r in runs))
    print(f"\nscale {args.scale}, {args.runs} runs each, end to end (process start to output written)")
    print(f"{'tool':<10} {'min s':>7} {'median s':>9} {'max s':>7} {'peak RSS MB':>12}")
    for name, (lo, med, hi, rss) in rows.items():
        print(f"{name:<10} {lo:>7.3f} {med:>9.3f} {hi:>7.3f} {rss:>12.0f}")
    best_peer = min(rows["polars"][1], rows["duckdb"][1])
    print(f"\nfordeling is {rows['polars'][1] / rows['fordeling'][1]:.2f}x faster than Polars, "
          f"{rows['duckdb'][1] / rows['fordeling'][1]:.2f}x faster than DuckDB "
          f"({best_peer / rows['fordeling'][1]:.2f}x the faster peer), by median")


def write_copies(population, data):
    """The engine's file as other tools write it; returns {name: path}."""
    import duckdb
    import numpy
    import polars
    import pyarrow.parquet as pq

    import pyarrow as pa

    def nullable():
        """The persons as an analyst's pyarrow table holds them: every
        column nullable (as from pandas or a CSV)."""
        table = pq.read_table(population)
        return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))

    files = {"fordeling synth": population}
    for name, maker in [
        ("pyarrow", lambda dst: pq.write_table(nullable(), dst, compression="snappy")),
        ("polars", lambda dst: polars.read_parquet(population).write_parquet(dst)),
        ("duckdb", lambda dst: duckdb.sql(f"COPY (SELECT * FROM read_parquet('{population}')) TO '{dst}' (FORMAT PARQUET)")),
        ("pyarrow, rows shuffled", None),
    ]:
        dst = os.path.join(data, f"population-{name.split(',')[0]}{'-shuffled' if maker is None else ''}.parquet")
        if not os.path.exists(dst):
            if maker is None:
                table = nullable()
                order = numpy.random.default_rng(1).permutation(table.num_rows)
                pq.write_table(table.take(order), dst, compression="snappy")
            else:
                maker(dst)
        files[name] = dst
    return files


FLOOR = """
import sys, time
import pyarrow as pa
import pyarrow.parquet as pq
pa.set_cpu_count(2)
pa.set_io_thread_count(2)
path, runs = sys.argv[1], int(sys.argv[2])
columns = [n for n in pq.read_schema(path).names if n not in ("utilization", "exposure")]
best = None
for _ in range(runs):
    start = time.perf_counter()
    pq.read_table(path, columns=columns, use_threads=True)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(best)
"""


def floor(path, runs):
    """The physical floor of a file: pyarrow decompressing and decoding the
    columns a run reads, in one process with 2 threads, best of `runs`
    (timed inside the process, so no start-up is counted)."""
    result = subprocess.run([sys.executable, "-c", FLOOR, path, str(runs)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip())


def writers(args):
    data, population, clinics = national_data(args)
    files = write_copies(population, data)
    out = os.path.join(args.work, "writers-out")
    os.makedirs(out, exist_ok=True)
    python = sys.executable
    reference = None
    rows = []
    for name, path in files.items():
        key = name.replace(" ", "_").replace(",", "")
        engine = [ENGINE, "run", "--population", path, "--clinics", clinics, "--model", MODEL,
                  "--year", args.year, "--out", os.path.join(out, key), "--quiet"]
        polars = [python, os.path.join(HERE, "peer_polars.py"), path, clinics, MODEL, GEOGRAPHY,
                  args.year, os.path.join(out, f"{key}-polars.csv")]
        timed(engine)
        outputs = [open(os.path.join(out, key, f), "rb").read() for f in ["clinics.csv", "areas.csv"]]
        if reference is None:
            reference = outputs
        elif outputs != reference:
            sys.exit(f"{name}: clinics.csv or areas.csv differs from the engine's own file")
        before = None
        if args.before:
            before = [args.before] + engine[1:]
            before[before.index("--out") + 1] = os.path.join(out, key + "-before")
        e, p, b = [], [], []
        for _ in range(args.runs):
            e.append(timed(engine))
            p.append(timed(polars))
            if before:
                b.append(timed(before))
        em, pm = statistics.median(w for w, _ in e), statistics.median(w for w, _ in p)
        bm = statistics.median(w for w, _ in b) if b else None
        rows.append((name, em, max(r for _, r in e), pm, max(r for _, r in p), bm, floor(path, args.runs)))
    print("every file: byte-identical clinics.csv and areas.csv")
    print(f"\n| file written by |{' before |' if args.before else ''} fordeling | Polars | ratio | fordeling vs its own file | floor (pyarrow decode) |")
    print(f"|---|{'---:|' if args.before else ''}---:|---:|---:|---:|---:|")
    own = rows[0][1]
    for name, em, erss, pm, prss, bm, fl in rows:
        before = f" {bm:.3f} s |" if bm is not None else ""
        print(f"| {name} |{before} {em:.3f} s, {erss:.0f} MB | {pm:.2f} s, {prss:.0f} MB | {pm / em:.2f}× | {em / own:.2f}× | {fl:.2f} s |")


if __name__ == "__main__":
    main()
