"""Type stubs for the native module (Rust, PyO3): the edge the public
functions in ``fordeling`` wrap."""

from os import PathLike
from typing import Any, Protocol, Sequence

class _ArrowStream(Protocol):
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

_Table = str | PathLike[str] | _ArrowStream

class InputError(ValueError):
    """Bad input data: the message names the file (or table), column, row and value."""

class ModelError(ValueError):
    """A model file (or model text) that cannot be used: the message names the key."""

class OutputError(OSError):
    """Output that could not be written."""

class Model:
    """A model, loaded and checked (format 1 or 2)."""

    @staticmethod
    def load(path: str | PathLike[str]) -> Model:
        """Reads and checks a model file."""
    @staticmethod
    def from_toml(text: str, name: str = "<model text>") -> Model:
        """Checks model text (TOML); ``name`` names it in messages."""
    @staticmethod
    def reference() -> Model:
        """The reference model shipped with the engine."""
    def to_toml(self) -> str:
        """The model's TOML text."""
    @property
    def id(self) -> str:
        """The model's id."""
    @property
    def sha256(self) -> str:
        """SHA-256 of the model text."""
    @property
    def path(self) -> str:
        """Where the model came from (a path, or a label)."""
    @property
    def fit_report_json(self) -> str | None:
        """The fit report (``fit.json`` text) of a fitted model, else None."""
    @property
    def fit_report(self) -> dict[str, Any] | None:
        """The fit report (``fit.json``) of a fitted model as a dict, else None."""

class ArrowStream:
    """Record batches with ``__arrow_c_stream__`` (read once)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class Run:
    """A finished national run held in memory."""

    def clinics(self) -> ArrowStream:
        """The clinic table, as the command line's ``clinics.parquet``."""
    def areas(self) -> ArrowStream:
        """The area table, as the command line's ``areas.parquet``."""
    def manifest(self) -> str:
        """The manifest (JSON text), as ``manifest.json`` without an invocation."""
    def explain(self, clinic_id: int) -> str:
        """One clinic's account (JSON text), as ``fordeling explain --format json``."""

def run(
    *,
    population: _Table,
    clinics: _Table,
    geography: _Table | None = None,
    model: str | PathLike[str] | Model | None = None,
    year: int = 2027,
    capacity_total: float | None = None,
    load_level: str | None = None,
    nulls_as_unknown: bool = False,
    threads: int | None = None,
) -> Run:
    """One national run in memory."""

def command(
    argv: Sequence[str],
    *,
    population: _Table | None = None,
    clinics: _Table | None = None,
    geography: _Table | None = None,
    model: Model | None = None,
    threads: int | None = None,
) -> None:
    """Runs a subcommand as the command line would, tables given in memory."""

def fitted_model(text: str, name: str, report: str) -> Model:
    """A fitted model's text and report (JSON text), made into a Model."""

def version() -> str:
    """The engine's version and commit."""
