"""The national run's clinic output (need, mean weight, proposal) in Polars,
lazy from scan_parquet to the CSV, the way an expert writes it: each
person's raw need is reduced per clinic first (n, sum of r), normalised by
the national mean only then, on the streaming engine, so Polars never holds
all persons.
Usage: peer_polars.py POPULATION CLINICS MODEL GEOGRAPHY YEAR OUT.csv

`clinic_table` takes lazy frames, so the same computation runs on tables
already in memory (`inprocess.py`: the Python package against Polars in
one process)."""
import sys
import polars as pl
from model_terms import load


def lookup(table):
    """A dense literal table of `table`'s values by key (0.0 where a key
    is absent: the reference level)."""
    values = [0.0] * (max(table) + 1)
    for k, v in table.items():
        values[k] = float(v)
    return pl.lit(pl.Series(values, dtype=pl.Float64))


def clinic_table(population, clinics, m):
    """The clinic output as a DataFrame, from lazy frames of the population
    and clinic tables and a model as `model_terms.load` gives it."""
    cond = [pl.col(f"cond_{name}").cast(pl.Int32) for name, _ in m["conditions"]]
    count = pl.sum_horizontal(cond) if cond else pl.lit(0)
    band = pl.min_horizontal(pl.col("age").cast(pl.Int32) // 5, pl.lit(19))
    cell = (pl.col("sex").cast(pl.Int32) - 1) * 20 + band
    age_sex = {(s - 1) * 20 + b: v for (s, b), v in m["age_sex"].items()}
    # Lookups as gathers from dense literal tables: they stream, where
    # replace_strict makes Polars materialise the column.
    eta = lookup(age_sex).gather(cell)
    for column, table in m["socio"].items():
        eta = eta + lookup(table).gather(pl.col(column).cast(pl.Int32))
    eta = eta + pl.when(pl.col("lives_alone")).then(m["lives_alone"]).otherwise(0.0)
    for (name, coefficient), c in zip(m["conditions"], cond):
        eta = eta + c * coefficient
    for at_least, add in m["multimorbidity"]:
        eta = eta + pl.when(count >= at_least).then(add).otherwise(0.0)
    eta = eta + m["area_coefficient"] * lookup(m["area"]).gather(pl.col("kommune").cast(pl.Int32))
    r0 = eta if m["link"] == "identity" else eta.exp()
    needed = ["clinic_id", "kommune", "age", "sex", "lives_alone"] + list(m["socio"]) + [f"cond_{n}" for n, _ in m["conditions"]]
    # Each package applies to the previous column, so no expression is repeated.
    people = population.select(needed).with_columns(r=r0, count=count)
    for p in m["packages"]:
        q = pl.lit(False)
        for name in p["conditions"]:
            q = q | pl.col(f"cond_{name}")
        if p["min_conditions"] > 0:
            q = q | (pl.col("count") >= p["min_conditions"])
        people = people.with_columns(r=pl.when(q).then((pl.col("r") + p["add"]) * p["factor"]).otherwise(pl.col("r")))
    people = people.select(pl.col("clinic_id"), pl.max_horizontal(pl.col("r"), pl.lit(0.0)).alias("r"))
    # Aggregate first: per clinic n and the sum of r; the national mean is
    # the sum of those sums over the number of persons.
    sums = people.group_by("clinic_id").agg(n=pl.len(), r=pl.col("r").sum()).collect(engine="streaming").lazy()
    mean = sums.select((pl.col("r").sum() / pl.col("n").sum()).alias("mean"))
    per_clinic = sums.join(mean, how="cross").select("clinic_id", "n", need=pl.col("r") / pl.col("mean"))
    persons = pl.col("n").sum()
    rules = m["proposal"]
    c = clinics.select("clinic_id", "capacities", "previous_min_patients")
    table = c.join(per_clinic, on="clinic_id", how="left").with_columns(
        pl.col("n").fill_null(0), pl.col("need").fill_null(0.0)
    )
    load_l = table.select((persons / pl.col("capacities").sum()).alias("L"))
    table = table.join(load_l, how="cross").with_columns(mean_weight=pl.col("need") / pl.col("n"))
    value = pl.col("capacities") * pl.col("L") * rules["closing_fraction"] / pl.col("mean_weight")
    d = pl.col("capacities")
    if rules.get("min_per_capacity", 0) > 0:
        value = pl.when(value / d < rules["min_per_capacity"]).then(rules["min_per_capacity"] * d).otherwise(value)
    if rules.get("max_per_capacity", 0) > 0:
        value = pl.when(value / d > rules["max_per_capacity"]).then(rules["max_per_capacity"] * d).otherwise(value)
    prev = pl.col("previous_min_patients").cast(pl.Float64)
    if rules.get("max_decrease", 0.1) >= 0:
        low = prev * (1 - rules.get("max_decrease", 0.1))
        value = pl.when(value < low).then(low).otherwise(value)
    if rules.get("max_increase", 0.05) >= 0:
        high = prev * (1 + rules.get("max_increase", 0.05))
        value = pl.when(value > high).then(high).otherwise(value)
    step = rules.get("round_to", 10)
    scaled = value / step
    rounded = (scaled.abs() + 0.5).floor() * scaled.sign() * step
    result = table.with_columns(min_patients=pl.when(pl.col("n") > 0).then(rounded.cast(pl.Int64)))
    return result.select("clinic_id", "n", "need", "mean_weight", "min_patients").sort("clinic_id").collect()


def main():
    population, clinics, model_path, geography, year, out = sys.argv[1:7]
    m = load(model_path, geography, int(year))
    clinic_table(pl.scan_parquet(population), pl.scan_parquet(clinics), m).write_csv(out)


if __name__ == "__main__":
    main()
