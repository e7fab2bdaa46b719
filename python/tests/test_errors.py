"""Bad input raises InputError or ModelError (both ValueErrors) with the
command line's message, naming the file or table, column, row and value;
nothing panics across the boundary."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import fordeling

from conftest import MODEL


def population(inputs) -> pa.Table:
    return pq.read_table(inputs["population"])


def replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def test_error_types_are_value_errors():
    assert issubclass(fordeling.InputError, ValueError)
    assert issubclass(fordeling.ModelError, ValueError)


def test_a_missing_column_names_the_table_and_column(inputs):
    table = population(inputs).drop_columns(["age"])
    with pytest.raises(fordeling.InputError) as raised:
        fordeling.run(population=table, clinics=inputs["clinics"])
    message = str(raised.value)
    assert "<population: pyarrow.Table>" in message
    assert "`age`" in message


def test_a_bad_value_names_the_column_row_and_value(inputs, cli, scratch):
    table = population(inputs)
    ages = table.column("age").to_pylist()
    ages[1233] = 127  # row 1,234 (1-based), beyond any age band
    bad = replace(table, "age", pa.array(ages, pa.int8()))
    with pytest.raises(fordeling.InputError) as raised:
        fordeling.run(population=bad, clinics=inputs["clinics"])
    message = str(raised.value)
    assert "`age`" in message and "row 1234" in message and "`127`" in message
    # The same message as the command line's for the same rows in a file,
    # but for the name of the source.
    path = scratch / "bad.parquet"
    pq.write_table(bad, path)
    done = cli("run", "-q", "--population", path, "--clinics", inputs["clinics"],
               "--out", scratch / "out", check=False)
    assert done.returncode == 1
    assert message.replace("<population: pyarrow.Table>", str(path)) in done.stderr
    assert not (scratch / "out").exists()


def test_a_null_names_the_row_unless_nulls_are_unknown(inputs):
    table = population(inputs)
    education = table.column("education").to_pylist()
    education[9] = None
    nullable = replace(table, "education", pa.array(education, pa.int8()))
    with pytest.raises(fordeling.InputError) as raised:
        fordeling.run(population=nullable, clinics=inputs["clinics"])
    assert "`education`" in str(raised.value) and "row 10" in str(raised.value)
    result = fordeling.run(population=nullable, clinics=inputs["clinics"], nulls_as_unknown=True)
    assert result.manifest["nulls_mapped"]["education"] == 1


def test_a_wrong_type_names_the_column_and_the_type(inputs):
    table = population(inputs)
    bad = replace(table, "sex", pc.cast(table.column("sex"), pa.string()))
    with pytest.raises(fordeling.InputError, match="`sex`"):
        fordeling.run(population=bad, clinics=inputs["clinics"])


def test_a_repeated_person_is_named(inputs):
    table = population(inputs)
    ids = table.column("person_id").to_pylist()
    ids[20] = ids[3]
    bad = replace(table, "person_id", pa.array(ids, pa.int64()))
    with pytest.raises(fordeling.InputError, match=str(ids[3])):
        fordeling.run(population=bad, clinics=inputs["clinics"])


def test_an_unknown_clinic_in_the_population_is_named(inputs):
    table = population(inputs)
    clinics = table.column("clinic_id").to_pylist()
    clinics[0] = 999999
    bad = replace(table, "clinic_id", pa.array(clinics, table.schema.field("clinic_id").type))
    with pytest.raises(fordeling.InputError, match="999999"):
        fordeling.run(population=bad, clinics=inputs["clinics"])


def test_an_empty_table_is_refused(inputs):
    table = population(inputs).slice(0, 0)
    with pytest.raises(fordeling.InputError, match="<population: pyarrow.Table>"):
        fordeling.run(population=table, clinics=inputs["clinics"])


def test_a_missing_file_is_an_input_error(inputs, scratch):
    with pytest.raises(fordeling.InputError, match="nowhere.parquet"):
        fordeling.run(population=scratch / "nowhere.parquet", clinics=inputs["clinics"])


def test_model_errors_name_the_key(inputs, scratch):
    text = MODEL.read_text().replace('link = "identity"', 'link = "cubic"')
    with pytest.raises(fordeling.ModelError, match="link"):
        fordeling.Model.from_toml(text)
    path = scratch / "bad.toml"
    path.write_text(text)
    with pytest.raises(fordeling.ModelError, match="bad.toml"):
        fordeling.Model.load(path)
    with pytest.raises(fordeling.ModelError, match="bad.toml"):
        fordeling.run(**inputs, model=path)
    with pytest.raises(fordeling.ModelError):
        fordeling.Model.from_toml("this is not toml [")
    with pytest.raises(fordeling.ModelError, match="nowhere.toml"):
        fordeling.Model.load(scratch / "nowhere.toml")


def test_an_unknown_clinic_to_explain_is_an_input_error(inputs):
    result = fordeling.run(**inputs)
    with pytest.raises(fordeling.InputError, match="12345"):
        result.explain(12345)


def test_bad_arguments_are_value_or_type_errors(inputs):
    with pytest.raises(ValueError, match="load_level"):
        fordeling.run(**inputs, load_level="county")
    with pytest.raises(ValueError, match="capacity_total"):
        fordeling.run(**inputs, capacity_total=-1.0)
    with pytest.raises(TypeError, match="population"):
        fordeling.run(population=42, clinics=inputs["clinics"])
    with pytest.raises(ValueError):
        fordeling.project(**inputs, capacity_path="sideways")
    with pytest.raises(ValueError, match="scenarios"):
        fordeling.scenarios(**inputs)
    with pytest.raises(ValueError, match="models"):
        fordeling.evaluate(**inputs, models=[])


def test_a_bad_scenario_file_names_itself(inputs):
    with pytest.raises((fordeling.InputError, fordeling.ModelError), match="scenarios.toml"):
        fordeling.scenarios(**inputs, scenarios_toml="[[scenario]]\nname = 3\n")


def test_output_that_cannot_be_written_is_an_output_error(inputs, scratch):
    blocker = scratch / "file.txt"
    blocker.write_text("not a directory")
    with pytest.raises(fordeling.OutputError, match="file.txt") as raised:
        fordeling.project(**inputs, to_year=2027, out=blocker / "sub")
    assert isinstance(raised.value, OSError)


def test_the_earliest_groups_error_is_named_whatever_the_threads(inputs, cli, scratch):
    # Four groups of rows (batches of 16,384): an unknown clinic in the
    # second group, an age out of range in the third. The clinic is
    # checked after a group's columns are read, the age while they are
    # read; the earlier group's error wins with any number of threads, and
    # the command line names the same on the same rows in a file.
    table = population(inputs)
    clinics = table.column("clinic_id").to_pylist()
    clinics[19_999] = 999999
    ages = table.column("age").to_pylist()
    ages[39_999] = 127
    bad = replace(table, "clinic_id", pa.array(clinics, table.schema.field("clinic_id").type))
    bad = replace(bad, "age", pa.array(ages, pa.int8()))
    batches = pa.Table.from_batches(bad.to_batches(max_chunksize=16_384))
    assert batches.num_rows == 61_000 and len(batches.to_batches()) == 4
    for threads in (1, 2, 4):
        with pytest.raises(fordeling.InputError) as raised:
            fordeling.run(population=batches, clinics=inputs["clinics"], threads=threads)
        message = str(raised.value)
        assert "`clinic_id`" in message and "row 20000" in message and "999999" in message
    path = scratch / "bad.parquet"
    pq.write_table(bad, path, row_group_size=16_384)
    for threads in (1, 2, 4):
        done = cli("run", "-q", "--population", path, "--clinics", inputs["clinics"],
                   "--threads", threads, "--out", scratch / "out", check=False)
        assert done.returncode == 1
        assert "`clinic_id`" in done.stderr and "row 20000" in done.stderr
