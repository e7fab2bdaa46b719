"""The package's results equal the command line's files on the fixtures,
whatever form the inputs take (paths, pyarrow, Polars, pandas, DuckDB)."""
from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import fordeling

from conftest import MODEL, ROOT

# Manifest fields that depend on the sitting, not on the data.
SITTING = {"wall_time_seconds", "threads", "invocation", "engine", "inputs"}


def cli_run(cli, inputs, out: Path, *extra: object) -> Path:
    cli(
        "run", "-q",
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
        "--out", out, *extra,
    )
    return out


def assert_same_table(ours: pa.Table, theirs: pa.Table) -> None:
    """Same column names, types and values, row for row (floats to the bit)."""
    assert ours.schema.names == theirs.schema.names
    for name in ours.schema.names:
        a, b = ours.column(name), theirs.column(name)
        assert a.type == b.type, name
        assert a.to_pylist() == b.to_pylist(), name


def test_run_equals_the_command_lines_files(cli, inputs, scratch):
    out = cli_run(cli, inputs, scratch / "cli")
    result = fordeling.run(**inputs)
    assert_same_table(result.clinics, pq.read_table(out / "clinics.parquet"))
    assert_same_table(result.areas, pq.read_table(out / "areas.parquet"))
    manifest = json.loads((out / "manifest.json").read_text())
    ours = result.manifest
    for key in manifest.keys() - SITTING - {"model"}:
        assert ours[key] == manifest[key], key
    # The built-in model is the shipped file, named as built in.
    assert ours["model"] == manifest["model"] | {"path": "<built-in>/reference-2027.toml"}
    # Inputs named by path carry the file's SHA-256, as the CLI's do.
    assert ours["inputs"] == manifest["inputs"]
    assert result.clinics.num_rows == 38


def test_run_with_options_equals_the_command_line(cli, inputs, scratch):
    out = cli_run(
        cli, inputs, scratch / "cli",
        "--year", 2031, "--capacity-total", 60, "--load-level", "region",
    )
    result = fordeling.run(**inputs, year=2031, capacity_total=60.0, load_level="region")
    assert_same_table(result.clinics, pq.read_table(out / "clinics.parquet"))
    assert_same_table(result.areas, pq.read_table(out / "areas.parquet"))


def tables_of(inputs):
    return {
        "population": pq.read_table(inputs["population"]),
        "clinics": pq.read_table(inputs["clinics"]),
        "geography": pa_csv.read_csv(inputs["geography"]),
    }


def test_paths_pyarrow_polars_pandas_and_duckdb_give_the_same_result(inputs):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    base = fordeling.run(**inputs)
    tables = tables_of(inputs)
    forms = {
        "pathlib": {k: Path(v) for k, v in inputs.items()},
        "str": {k: str(v) for k, v in inputs.items()},
        "pyarrow": tables,
        "pyarrow reader": {
            k: pa.RecordBatchReader.from_batches(t.schema, t.to_batches()) for k, t in tables.items()
        },
        "polars": {k: pl.from_arrow(t) for k, t in tables.items()},
        "pandas": {k: t.to_pandas() for k, t in tables.items()},
        "duckdb": {k: duckdb.from_arrow(t) for k, t in tables.items()},
    }
    for form, given in forms.items():
        result = fordeling.run(**given)
        assert_same_table(result.clinics, base.clinics)
        assert_same_table(result.areas, base.areas)
        assert result.manifest["L"] == base.manifest["L"], form


def test_row_order_and_batch_sizes_do_not_change_a_byte(inputs):
    base = fordeling.run(**inputs)
    population = pq.read_table(inputs["population"])
    order = list(range(population.num_rows))
    random.Random(17).shuffle(order)
    shuffled = population.take(pa.array(order))
    small = pa.Table.from_batches(shuffled.to_batches(max_chunksize=997))
    empty = [pa.record_batch([pa.array([], f.type) for f in shuffled.schema], schema=shuffled.schema)]
    pieces = shuffled.to_batches(max_chunksize=20_000)
    with_empty = pa.Table.from_batches(
        [b for piece in pieces for b in (piece, *empty)], schema=shuffled.schema
    )
    for table in (shuffled, small, with_empty):
        result = fordeling.run(population=table, clinics=inputs["clinics"])
        assert_same_table(result.clinics, base.clinics)
        assert_same_table(result.areas, base.areas)


def test_narrow_nullable_columns_without_nulls_read_as_the_file(inputs):
    base = fordeling.run(**inputs)
    population = pq.read_table(inputs["population"])
    # Every field nullable, integers widened to int64 (pandas' and Polars'
    # habits), no null in fact.
    widened = pa.schema(
        [
            pa.field(f.name, pa.int64() if pa.types.is_integer(f.type) else f.type, nullable=True)
            for f in population.schema
        ]
    )
    result = fordeling.run(population=population.cast(widened), clinics=inputs["clinics"])
    assert_same_table(result.clinics, base.clinics)


def test_threads_give_identical_results(inputs):
    one = fordeling.run(**inputs, threads=1)
    two = fordeling.run(**inputs, threads=2)
    assert_same_table(one.clinics, two.clinics)
    assert_same_table(one.areas, two.areas)
    assert one.manifest["threads"] == 1 and two.manifest["threads"] == 2
    # The commands run through the command line's parse take the pool size too.
    years = fordeling.project(**inputs, to_year=2027, threads=1)
    assert years[2027]["manifest"]["threads"] == 1
    assert years["manifest"]["invocation"]["arguments"]["input"]["threads"] == 1


def test_explain_equals_the_command_lines_account(cli, inputs):
    result = fordeling.run(**inputs)
    clinic = result.clinics.column("clinic_id")[5].as_py()
    done = cli(
        "explain", "--format", "json", "--clinic", clinic,
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
    )
    assert result.explain(clinic) == json.loads(done.stdout)
    counts = dict(zip(result.clinics.column("clinic_id").to_pylist(),
                      result.clinics.column("min_patients").to_pylist()))
    assert result.explain(clinic)["clinic_id"] == clinic
    assert counts[clinic] is not None


def test_project_equals_the_command_lines_files(cli, inputs, scratch):
    out = scratch / "cli"
    cli(
        "project", "-q",
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
        "--capacity-path", "linear:60@2035",
        "--to", 2030,
        "--out", out,
    )
    ours = fordeling.project(**tables_of(inputs), capacity_path="linear:60@2035", to_year=2030)
    assert sorted(k for k in ours if isinstance(k, int)) == [2027, 2028, 2029, 2030]
    assert_same_table(ours["summary"], pq.read_table(out / "summary.parquet"))
    assert_same_table(ours["areas_by_year"], pq.read_table(out / "areas_by_year.parquet"))
    for year in range(2027, 2031):
        assert_same_table(ours[year]["clinics"], pq.read_table(out / str(year) / "clinics.parquet"))


def test_scenarios_from_a_file_and_from_text_equal_the_command_line(cli, inputs, scratch):
    out = scratch / "cli"
    scenario_file = ROOT / "examples" / "scenarios.toml"
    cli(
        "scenarios", "-q",
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
        "--scenarios", scenario_file,
        "--out", out,
    )
    from_file = fordeling.scenarios(**inputs, scenarios=scenario_file)
    from_text = fordeling.scenarios(**tables_of(inputs), scenarios_toml=scenario_file.read_text())
    for name in ("scenarios", "summary", "capacity_gaps"):
        theirs = pq.read_table(out / f"{name}.parquet")
        assert_same_table(from_file[name], theirs)
        assert_same_table(from_text[name], theirs)


def test_fit_returns_the_command_lines_model_and_report(cli, inputs, scratch):
    out = scratch / "cli"
    cli(
        "fit", "-q",
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
        "--structure", MODEL,
        "--out", out,
    )
    model = fordeling.fit(**tables_of(inputs), structure=fordeling.Model.load(MODEL))
    assert isinstance(model, fordeling.Model)
    # The same model, whose description names its population's source.
    theirs = (out / "model.toml").read_text()
    assert model.to_toml() == theirs.replace(str(inputs["population"]), "<population: pyarrow.Table>")
    report = json.loads((out / "fit.json").read_text())
    assert model.fit_report["coefficients"] == report["coefficients"]
    assert model.fit_report["r2"] == report["r2"]
    # The fitted model runs as any other.
    assert fordeling.run(**inputs, model=model).clinics.num_rows == 38


def test_evaluate_gives_the_evaluation_and_its_tables(cli, inputs, scratch):
    out = scratch / "cli"
    cli(
        "evaluate", "-q",
        "--population", inputs["population"],
        "--clinics", inputs["clinics"],
        "--geography", inputs["geography"],
        "--model", MODEL,
        "--out", out,
    )
    theirs = json.loads((out / "evaluation.json").read_text())
    ours = fordeling.evaluate(**inputs, models=[MODEL])
    assert ours["evaluation"]["models"] == theirs["models"]
    assert ours["evaluation"]["ladder"] == theirs["ladder"]
    ladder = ours["ladder"]
    assert ladder.column("rung").to_pylist() == [r["rung"] for r in theirs["ladder"]]
    assert ladder.column("out_of_sample_r2").to_pylist() == [
        r["out_of_sample"]["r2"] for r in theirs["ladder"]
    ]
    ratios = ours["predictive_ratios"]
    assert ratios.num_rows == len(theirs["models"][0]["predictive_ratios"])
    assert set(ratios.column("model_id").to_pylist()) == {theirs["models"][0]["id"]}
    # A Model object is evaluated as its text.
    again = fordeling.evaluate(**inputs, models=[fordeling.Model.load(MODEL)])
    assert again["evaluation"]["models"][0]["out_of_sample"] == theirs["models"][0]["out_of_sample"]


def test_synth_gives_the_command_lines_tables(cli, scratch):
    out = scratch / "cli"
    cli("synth", "-q", "--scale", "0.002", "--seed", 7, "--out", out)
    population, clinics, geography = fordeling.synth(scale=0.002, seed=7)
    assert population.equals(pq.read_table(out / "population.parquet"))
    assert clinics.equals(pq.read_table(out / "clinics.parquet"))
    assert geography.num_rows == 98
    again, _, _ = fordeling.synth(scale=0.002, seed=7)
    assert again.equals(population)


def test_model_load_from_toml_and_back():
    model = fordeling.Model.load(MODEL)
    assert model.id == "reference-2027"
    assert model.to_toml() == MODEL.read_text()
    same = fordeling.Model.from_toml(model.to_toml())
    assert same.sha256 == model.sha256
    assert fordeling.Model.reference().sha256 == model.sha256
    assert model.fit_report is None


def test_the_gil_is_released_while_the_engine_computes():
    population, clinics, _ = fordeling.synth(scale=0.5, seed=3)
    # How long one run takes here (about three million persons, one thread).
    begun = time.perf_counter()
    fordeling.run(population=population, clinics=clinics, threads=1)
    single = time.perf_counter() - begun
    ticks = []
    done = threading.Event()

    def compute():
        for _ in range(3):
            fordeling.run(population=population, clinics=clinics, threads=1)
        done.set()

    worker = threading.Thread(target=compute)
    worker.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    # Python code ran all along: with the GIL held, the loop would stall for
    # a whole run at least once, a gap as long as `single`.
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20
    assert max(gaps) < single / 2, (max(gaps), single)
