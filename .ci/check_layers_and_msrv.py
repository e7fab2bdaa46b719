#!/usr/bin/env python3
"""Checks CI runs besides the tests.

1. The declared `rust-version` is true: no dependency in Cargo.lock needs a
   newer Rust, and the toolchain here is at least that version.
2. The layering ARCHITECTURE.md claims: only `src/commands/` and
   `src/main.rs` know clap or a command; the engine never imports from
   `commands`.
"""
import json
import pathlib
import re
import subprocess
import sys


def version(text):
    parts = [int(x) for x in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    failures = []
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"], cwd=root))
    ours = next(p for p in meta["packages"] if p["name"] == "fordeling")
    declared = version(ours["rust_version"])
    for p in meta["packages"]:
        needed = p.get("rust_version")
        if needed and version(needed) > declared:
            failures.append(f"{p['name']} {p['version']} needs Rust {needed}, "
                            f"above the declared rust-version {ours['rust_version']}")
    rustc = subprocess.check_output(["rustc", "--version"], text=True)
    if version(rustc.split()[1]) < declared:
        failures.append(f"{rustc.strip()} is older than rust-version {ours['rust_version']}")

    src = root / "src"
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src).as_posix()
        if rel.startswith("commands/") or rel == "main.rs":
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("//")[0]
            if re.search(r"\bclap\b", code) or "crate::commands" in code:
                failures.append(f"src/{rel}:{n}: the engine must not know clap or a command: {line.strip()}")

    for f in failures:
        print(f"check: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"check: rust-version {ours['rust_version']} holds for {len(meta['packages'])} packages; "
          "the engine knows neither clap nor a command")


if __name__ == "__main__":
    main()
