"""fordeling: Denmark's national distribution model for general practice, in-process.

The engine is the same Rust code the ``fordeling`` command line runs. Tables go
in and out as Arrow: an input table may be a path to a Parquet file (geography:
CSV or Parquet) or any object with the Arrow PyCapsule stream interface
(``__arrow_c_stream__``: pyarrow Tables and RecordBatchReaders, Polars
DataFrames, DuckDB relations; pandas DataFrames are passed through pyarrow),
read without copying its buffers. Results are pyarrow Tables with the same
columns and values as the command line's files.

>>> import fordeling
>>> population, clinics, geography = fordeling.synth(scale=0.01, seed=1)
>>> result = fordeling.run(population=population, clinics=clinics)
>>> result.clinics.num_rows > 0
True

Errors raise :class:`InputError` or :class:`ModelError` (both subclasses of
``ValueError``) with the command line's message, which names the file or
table, the column, the row and the value. The GIL is released while the
engine computes; ``threads=`` sets the size of its worker pool.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from . import _native
from ._native import InputError, Model, ModelError, OutputError

__all__ = [
    "InputError",
    "ModelError",
    "OutputError",
    "Model",
    "Result",
    "run",
    "project",
    "scenarios",
    "fit",
    "evaluate",
    "synth",
    "version",
]


def version() -> str:
    """The engine's version and the commit it was built from."""
    return _native.version()


def _table(obj: Any, role: str) -> Any:
    """An input as the engine takes it: a path, or an Arrow stream object."""
    if obj is None:
        return None
    if hasattr(obj, "__arrow_c_stream__"):
        return obj
    # pandas DataFrames through pyarrow (their own index is not a column).
    module = type(obj).__module__ or ""
    if module.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    # DuckDB relations of versions without the stream interface.
    if module.startswith("duckdb") and hasattr(obj, "arrow"):
        return obj.arrow()
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj)
    raise TypeError(
        f"{role}: expected a path or a table (pyarrow, Polars, pandas, DuckDB), "
        f"got {type(obj).__name__}"
    )


def _model(model: Any) -> Any:
    if model is None or isinstance(model, Model):
        return model
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    raise TypeError(f"model: expected a path or a fordeling.Model, got {type(model).__name__}")


class Result:
    """One national run: the clinic and area tables, the manifest and accounts.

    ``clinics`` and ``areas`` are pyarrow Tables with the columns and values of
    the command line's ``clinics.parquet`` and ``areas.parquet``; ``manifest``
    is the ``manifest.json`` as a dict (inputs given as tables are named by a
    label such as ``<population: pyarrow.Table>`` and carry no SHA-256).
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        self._clinics: pa.Table | None = None
        self._areas: pa.Table | None = None
        self._manifest: dict[str, Any] | None = None

    @property
    def clinics(self) -> pa.Table:
        """The clinic table (one row per clinic, sorted by clinic id)."""
        if self._clinics is None:
            self._clinics = pa.table(self._native.clinics())
        return self._clinics

    @property
    def areas(self) -> pa.Table:
        """The area table (nation, regions, sundhedsråd and kommuner)."""
        if self._areas is None:
            self._areas = pa.table(self._native.areas())
        return self._areas

    @property
    def manifest(self) -> dict[str, Any]:
        """The run's manifest as a dict (as ``manifest.json``)."""
        if self._manifest is None:
            self._manifest = json.loads(self._native.manifest())
        return self._manifest

    def explain(self, clinic_id: int) -> dict[str, Any]:
        """The account of one clinic, as ``fordeling explain --format json``.

        Raises :class:`InputError` for a clinic id that is not in the clinic table.
        """
        return json.loads(self._native.explain(int(clinic_id)))

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"fordeling.Result(year={m.get('year')}, persons={m.get('persons')}, "
            f"clinics={self.clinics.num_rows})"
        )


def run(
    *,
    population: Any,
    clinics: Any,
    geography: Any = None,
    model: Any = None,
    year: int = 2027,
    capacity_total: float | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    threads: int | None = None,
) -> Result:
    """Computes one year's need and minimum patient counts (``fordeling run``).

    population, clinics: a Parquet path or an Arrow table (pyarrow, Polars,
    pandas, DuckDB). geography: a CSV or Parquet path or a table (default: the
    built-in 98 kommuner). model: a path or a :class:`Model` (default: the
    reference model shipped with the engine). year: selects the care packages
    in force. capacity_total: the total doctor capacity D for a scenario.
    load_level: ``"nation"``, ``"region"`` or ``"sundhedsraad"`` (default: the
    model's). threads: the worker pool's size (default or 0: all cores).
    """
    native = _native.run(
        population=_table(population, "population"),
        clinics=_table(clinics, "clinics"),
        geography=_table(geography, "geography"),
        model=_model(model),
        year=year,
        capacity_total=capacity_total,
        load_level=load_level,
        nulls_as_unknown=nulls_as_unknown,
        threads=threads,
    )
    return Result(native)


def _read_dir(out: Path) -> dict[str, Any]:
    """Every Parquet table (as pyarrow) and JSON document (as dict) in a
    directory, and each subdirectory's the same way under its name (a
    year's directory under the year as an int)."""
    found: dict[Any, Any] = {}
    for path in sorted(out.iterdir()):
        if path.is_dir():
            key: Any = int(path.name) if path.name.isdigit() else path.name
            found[key] = _read_dir(path)
        elif path.suffix == ".parquet":
            found[path.stem] = pq.read_table(path, memory_map=False)
        elif path.suffix == ".json":
            found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _flags(options: Mapping[str, Any]) -> list[str]:
    """Keyword arguments as the command line's flags (``capacity_path`` -> ``--capacity-path``)."""
    argv: list[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.rstrip("_").replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, os.fspath(item) if isinstance(item, os.PathLike) else str(item)]
        else:
            argv += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return argv


def _command(
    name: str,
    options: Mapping[str, Any],
    *,
    population: Any = None,
    clinics: Any = None,
    geography: Any = None,
    model: Any = None,
    model_flag: str = "--model",
    out: Any = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Runs a subcommand in-process into ``out`` (default: a temporary
    directory) and returns what it wrote, tables as pyarrow."""
    model = _model(model)
    with tempfile.TemporaryDirectory(prefix=f"fordeling-{name}-") as scratch:
        argv = [name] + _flags({**options, "threads": threads})
        if isinstance(model, str):
            argv += [model_flag, model]
        elif isinstance(model, Model):
            argv += [model_flag, model.path]
        target = Path(out) if out is not None else Path(scratch) / "out"
        argv += ["--out", os.fspath(target)]
        _native.command(
            argv,
            population=_table(population, "population"),
            clinics=_table(clinics, "clinics"),
            geography=_table(geography, "geography"),
            model=model if isinstance(model, Model) else None,
            threads=threads,
        )
        return _read_dir(target)


def project(
    *,
    population: Any,
    clinics: Any,
    geography: Any = None,
    model: Any = None,
    from_year: int = 2027,
    to_year: int = 2035,
    capacity_path: str | os.PathLike[str] = "actual",
    population_dir: str | os.PathLike[str] | None = None,
    decisions_dir: str | os.PathLike[str] | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    out: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Recalculates year by year from ``from_year`` to ``to_year`` (``fordeling project``).

    capacity_path: ``"actual"``, ``"linear:<total>@<year>"`` or a CSV of
    totals by year. Returns the files the command writes, tables as pyarrow
    Tables and JSON as dicts: ``summary`` (every clinic and year),
    ``areas_by_year``, ``manifest``, and under each year (an int) that
    year's ``clinics``, ``areas`` and ``manifest``. ``out``: also keep the
    files there.
    """
    return _command(
        "project",
        {
            "from": from_year,
            "to": to_year,
            "capacity_path": capacity_path,
            "population_dir": population_dir,
            "decisions_dir": decisions_dir,
            "load_level": load_level,
            "nulls_as_unknown": nulls_as_unknown,
        },
        population=population,
        clinics=clinics,
        geography=geography,
        model=model if model is not None else Model.reference(),
        out=out,
        threads=threads,
    )


def scenarios(
    *,
    population: Any,
    clinics: Any,
    scenarios: str | os.PathLike[str] | None = None,
    scenarios_toml: str | None = None,
    geography: Any = None,
    model: Any = None,
    year: int = 2027,
    capacity_total: float | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    out: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Evaluates a batch of scenarios against the baseline (``fordeling scenarios``).

    scenarios: a scenario file (TOML), or scenarios_toml: its text. Returns the
    files the command writes: ``scenarios`` (every clinic in every
    scenario), ``summary`` (one row per scenario) and ``capacity_gaps`` as
    pyarrow Tables, ``manifest`` as a dict.
    """
    if (scenarios is None) == (scenarios_toml is None):
        raise ValueError("give exactly one of scenarios= (a path) and scenarios_toml= (text)")
    with tempfile.TemporaryDirectory(prefix="fordeling-scenarios-file-") as scratch:
        if scenarios_toml is not None:
            scenarios = Path(scratch) / "scenarios.toml"
            scenarios.write_text(scenarios_toml, encoding="utf-8")
        return _command(
            "scenarios",
            {
                "scenarios": scenarios,
                "year": year,
                "capacity_total": capacity_total,
                "load_level": load_level,
                "nulls_as_unknown": nulls_as_unknown,
            },
            population=population,
            clinics=clinics,
            geography=geography,
            model=model if model is not None else Model.reference(),
            out=out,
            threads=threads,
        )


def fit(
    *,
    population: Any,
    clinics: Any,
    structure: Any,
    geography: Any = None,
    link: str = "identity",
    ridge: float = 0.0,
    id: str | None = None,
    out: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> Model:
    """Estimates a structure's coefficients from utilization (``fordeling fit``).

    structure: a model (path or :class:`Model`) whose terms are estimated; the
    population must have ``utilization`` (and may have ``exposure``). Returns
    the fitted :class:`Model`; its ``fit_report`` is the ``fit.json`` as a dict.
    """
    with tempfile.TemporaryDirectory(prefix="fordeling-fit-") as scratch:
        target = Path(out) if out is not None else Path(scratch) / "out"
        found = _command(
            "fit",
            {"link": link, "ridge": ridge, "id": id},
            population=population,
            clinics=clinics,
            geography=geography,
            model=structure,
            model_flag="--structure",
            out=target,
            threads=threads,
        )
        text = (target / "model.toml").read_text(encoding="utf-8")
        name = os.fspath(target / "model.toml") if out is not None else "<fitted model>"
        return _native.fitted_model(text, name, json.dumps(found.get("fit", {})))


def evaluate(
    *,
    population: Any,
    clinics: Any,
    models: list[Any],
    geography: Any = None,
    year: int = 2027,
    folds: int = 5,
    seed: int = 1,
    population_next: str | os.PathLike[str] | None = None,
    rung: list[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Evaluates models: insight against simplicity (``fordeling evaluate``).

    models: paths or :class:`Model` objects. Returns ``evaluation`` (the
    ``evaluation.json`` as a dict) and its tables as pyarrow Tables:
    ``models`` (one row per model, nested metrics flattened as
    ``in_sample_r2`` and so on), ``predictive_ratios`` (per model, group and
    level) and ``ladder`` (one row per rung).
    """
    if not models:
        raise ValueError("models: give at least one model to evaluate")
    with tempfile.TemporaryDirectory(prefix="fordeling-evaluate-models-") as scratch:
        paths = []
        for k, m in enumerate(models):
            if isinstance(m, Model):
                path = Path(scratch) / f"model-{k}.toml"
                path.write_text(m.to_toml(), encoding="utf-8")
                paths.append(os.fspath(path))
            else:
                paths.append(os.fspath(m))
        found = _command(
            "evaluate",
            {
                "model": paths,
                "year": year,
                "folds": folds,
                "seed": seed,
                "population_next": population_next,
                "rung": rung,
            },
            population=population,
            clinics=clinics,
            geography=geography,
            out=out,
            threads=threads,
        )
    return _evaluation_tables(found)


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record with nested records flattened (``in_sample.r2`` -> ``in_sample_r2``)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}_"))
        elif not isinstance(value, list):
            flat[f"{prefix}{key}"] = value
    return flat


def _evaluation_tables(found: dict[str, Any]) -> dict[str, Any]:
    """``evaluation.json`` as ``evaluation`` (a dict) and its tables:
    ``models`` (one row per model, metrics flattened), ``predictive_ratios``
    (per model, group and level) and ``ladder`` (one row per rung)."""
    evaluation = found.get("evaluation", {})
    models = evaluation.get("models", [])
    ratios = [
        {"model_id": m.get("id"), **r} for m in models for r in m.get("predictive_ratios", [])
    ]
    return {
        **found,
        "models": pa.Table.from_pylist([_flat(m) for m in models]),
        "predictive_ratios": pa.Table.from_pylist(ratios),
        "ladder": pa.Table.from_pylist([_flat(r) for r in evaluation.get("ladder") or []]),
    }


def synth(
    scale: float = 1.0,
    seed: int = 2027,
    *,
    rich: bool = False,
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Synthetic Denmark (``fordeling synth``): population, clinics and geography tables.

    scale 1 is about 6 million persons and 1,800 clinics; the same seed gives
    the same tables.
    """
    with tempfile.TemporaryDirectory(prefix="fordeling-synth-") as scratch:
        out = Path(scratch) / "out"
        argv = ["synth", "--scale", repr(float(scale)), "--seed", str(int(seed)), "--quiet"]
        if threads is not None:
            argv += ["--threads", str(int(threads))]
        if rich:
            argv.append("--rich")
        argv += ["--out", os.fspath(out)]
        _native.command(argv, threads=threads)
        population = pq.read_table(out / "population.parquet", memory_map=False)
        clinics = pq.read_table(out / "clinics.parquet", memory_map=False)
        geography = pa_csv.read_csv(
            out / "geography.csv",
            convert_options=pa_csv.ConvertOptions(
                column_types={"kommune_code": pa.int64(), "area_index": pa.float64()}
            ),
        )
        return population, clinics, geography
