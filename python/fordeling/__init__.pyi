"""Type stubs for ``fordeling``: Denmark's national distribution model for
general practice, in-process, Arrow tables in and out."""

from os import PathLike
from typing import Any, Protocol, Sequence

import pyarrow as pa

from ._native import InputError as InputError
from ._native import Model as Model
from ._native import ModelError as ModelError
from ._native import OutputError as OutputError

class ArrowStreamExportable(Protocol):
    """Anything with the Arrow PyCapsule stream interface: pyarrow Tables and
    RecordBatchReaders, Polars DataFrames, DuckDB relations."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

# A path to a file, an Arrow stream object, or a pandas DataFrame.
TableLike = str | PathLike[str] | ArrowStreamExportable | Any
ModelLike = str | PathLike[str] | Model

__all__: list[str]

def version() -> str:
    """The engine's version and the commit it was built from."""

class Result:
    """One national run: the clinic and area tables, the manifest and accounts."""

    @property
    def clinics(self) -> pa.Table:
        """The clinic table (one row per clinic, sorted by clinic id)."""
    @property
    def areas(self) -> pa.Table:
        """The area table (nation, regions, sundhedsråd and kommuner)."""
    @property
    def manifest(self) -> dict[str, Any]:
        """The run's manifest as a dict (as ``manifest.json``)."""
    def explain(self, clinic_id: int) -> dict[str, Any]:
        """The account of one clinic, as ``fordeling explain --format json``."""

def run(
    *,
    population: TableLike,
    clinics: TableLike,
    geography: TableLike | None = None,
    model: ModelLike | None = None,
    year: int = 2027,
    capacity_total: float | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    threads: int | None = None,
) -> Result:
    """Computes one year's need and minimum patient counts (``fordeling run``)."""

def project(
    *,
    population: TableLike,
    clinics: TableLike,
    geography: TableLike | None = None,
    model: ModelLike | None = None,
    from_year: int = 2027,
    to_year: int = 2035,
    capacity_path: str | PathLike[str] = "actual",
    population_dir: str | PathLike[str] | None = None,
    decisions_dir: str | PathLike[str] | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    out: str | PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[Any, Any]:
    """Recalculates year by year (``fordeling project``): ``summary``,
    ``areas_by_year``, ``manifest`` and each year's ``clinics``, ``areas``
    and ``manifest`` under the year."""

def scenarios(
    *,
    population: TableLike,
    clinics: TableLike,
    scenarios: str | PathLike[str] | None = None,
    scenarios_toml: str | None = None,
    geography: TableLike | None = None,
    model: ModelLike | None = None,
    year: int = 2027,
    capacity_total: float | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    out: str | PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Evaluates a batch of scenarios against the baseline (``fordeling scenarios``)."""

def fit(
    *,
    population: TableLike,
    clinics: TableLike,
    structure: ModelLike,
    geography: TableLike | None = None,
    link: str = "identity",
    ridge: float = 0.0,
    id: str | None = None,
    out: str | PathLike[str] | None = None,
    threads: int | None = None,
) -> Model:
    """Estimates a structure's coefficients from utilization (``fordeling fit``)."""

def evaluate(
    *,
    population: TableLike,
    clinics: TableLike,
    models: Sequence[ModelLike],
    geography: TableLike | None = None,
    year: int = 2027,
    folds: int = 5,
    seed: int = 1,
    population_next: str | PathLike[str] | None = None,
    rung: Sequence[str] | None = None,
    out: str | PathLike[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Evaluates models (``fordeling evaluate``): ``evaluation`` (a dict) and
    the tables ``models``, ``predictive_ratios`` and ``ladder``."""

def synth(
    scale: float = 1.0,
    seed: int = 2027,
    *,
    rich: bool = False,
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Synthetic Denmark (``fordeling synth``): population, clinics and geography tables."""
