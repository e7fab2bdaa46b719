"""Format 1 against format 2, end to end (`fordeling run`, process start to
output written), on one synthetic national file with the richer columns
(`synth --rich`): the reference model in format 1, its conversion to
format 2, and a richer format-2 model (27 terms, two interactions, a
hierarchy, a numeric column). Runs are interleaved, so the ratios are of
one sitting; the format-1 and format-2 reference outputs are checked to be
byte-identical first.

Usage: python3 benches/compare/formats.py [--scale 1] [--runs 7] [--year 2031]
Needs: /usr/bin/time (GNU time).
"""
import argparse
import filecmp
import os
import statistics
import sys

from compare import ENGINE, ROOT, national_data, timed

MODELS = {
    "format 1 (reference-2027.toml)": "reference-2027.toml",
    "format 2 (reference-2027.format2.toml)": "reference-2027.format2.toml",
    "format 2, rich (synth-truth-rich.format2.toml)": "synth-truth-rich.format2.toml",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--year", default="2031")
    parser.add_argument("--work", default=os.path.join(ROOT, "target", "compare"))
    args = parser.parse_args()

    _, population, clinics = national_data(args, rich=True)
    out = os.path.join(args.work, "formats-out")

    def command(label):
        return [ENGINE, "run", "--population", population, "--clinics", clinics, "--model",
                os.path.join(ROOT, "models", MODELS[label]), "--year", args.year, "--out",
                os.path.join(out, MODELS[label]), "--quiet"]

    labels = list(MODELS)
    for label in labels:
        timed(command(label))  # warm the page cache; also the outputs to check
    one, two = (os.path.join(out, MODELS[label]) for label in labels[:2])
    for name in ["clinics.csv", "clinics.parquet", "areas.csv", "areas.parquet"]:
        if not filecmp.cmp(os.path.join(one, name), os.path.join(two, name), shallow=False):
            sys.exit(f"{name} differs between format 1 and its conversion")
    print("format 1 and format 2 reference outputs: byte-identical")
    times = {label: [] for label in labels}
    rss = {label: 0.0 for label in labels}
    for _ in range(args.runs):
        for label in labels:
            wall, mb = timed(command(label))
            times[label].append(wall)
            rss[label] = max(rss[label], mb)
    base = statistics.median(times[labels[0]])
    print(f"\n| model | min / median / max | peak RSS | vs format 1 |")
    print("|---|---:|---:|---:|")
    for label in labels:
        t = sorted(times[label])
        median = statistics.median(t)
        print(f"| {label} | {t[0]:.2f} / **{median:.2f}** / {t[-1]:.2f} s | {rss[label]:.0f} MB | "
              f"{median / base:.2f}× |")


if __name__ == "__main__":
    main()
