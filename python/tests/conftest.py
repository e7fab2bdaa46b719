"""Shared fixtures: the repository's fixture data and the command line
binary, whose files the package's results must equal."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
MODEL = ROOT / "models" / "reference-2027.toml"


def _binary() -> Path:
    """The command line binary: $FORDELING_BIN, else one cargo built in
    this repository (debug, as `cargo test` leaves it, or release), else
    built here."""
    given = os.environ.get("FORDELING_BIN")
    if given:
        return Path(given)
    for profile in ("debug", "release"):
        path = ROOT / "target" / profile / "fordeling"
        if path.exists():
            return path
    subprocess.run(["cargo", "build", "--locked", "--bin", "fordeling"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "fordeling"


@pytest.fixture(scope="session")
def cli():
    """Runs the command line binary in the repository root; returns the
    completed process (stdout and stderr as text)."""
    binary = _binary()

    def call(*args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(binary), *map(str, args)], cwd=ROOT, capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"fordeling {args} failed ({done.returncode}): {done.stderr}")
        return done

    return call


@pytest.fixture(scope="session")
def inputs() -> dict[str, Path]:
    return {
        "population": FIXTURES / "population.parquet",
        "clinics": FIXTURES / "clinics.parquet",
        "geography": FIXTURES / "geography.csv",
    }


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
