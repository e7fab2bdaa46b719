# %% [markdown]
# # fordeling in a notebook
#
# The engine in-process: synthetic Denmark as Arrow tables, one national
# run, a clinic's account, a batch of scenarios, the years to 2035, and a
# fitted model judged beside the reference model. Each `# %%` is a cell
# (Jupyter, VS Code); run it whole with `python examples/python_notebook.py`
# after `pip install ./python polars`. CI runs it at a small scale.

# %%
import os

import polars as pl

import fordeling

scale = float(os.environ.get("FORDELING_EXAMPLE_SCALE", "0.1"))
population, clinics, geography = fordeling.synth(scale=scale, seed=1)
print(f"{population.num_rows:,} persons in {clinics.num_rows:,} clinics")

# %% [markdown]
# A national run for 2027. The inputs could as well be Parquet paths,
# Polars or pandas DataFrames or DuckDB relations.

# %%
result = fordeling.run(population=pl.from_arrow(population), clinics=clinics, geography=geography)
counts = pl.from_arrow(result.clinics)
print("minimum patient counts, the ten clinics with the most need per patient:")
print(
    counts.sort("mean_weight", descending=True)
    .select("clinic_id", "kommune", "n_patients", "mean_weight", "min_patients", "flags")
    .head(10)
)
print(f"reference load L = {result.manifest['L']:.1f} patients per capacity")

# %% [markdown]
# Why a clinic got its count: the account a doctor who appeals is shown.

# %%
clinic = counts.sort("mean_weight", descending=True)["clinic_id"][0]
account = result.explain(clinic)
for name, value in account["steps"].items():
    print(f"{name:>24}: {value}")

# %% [markdown]
# What if the closing fraction were lower? Scenarios against the baseline.

# %%
batch = fordeling.scenarios(
    population=population,
    clinics=clinics,
    geography=geography,
    scenarios_toml="""
[[scenario]]
name = "closing at 0.9"
closing_fraction = 0.9
""",
)
print(pl.from_arrow(batch["summary"]))

# %% [markdown]
# The years to 2035 as capacity grows linearly to 5,000 doctors (scaled).

# %%
years = fordeling.project(
    population=population,
    clinics=clinics,
    geography=geography,
    capacity_path=f"linear:{max(5000 * scale, 10):.0f}@2035",
)
print(
    pl.from_arrow(years["summary"])
    .group_by("year")
    .agg(pl.col("L").first(), pl.col("min_patients").sum().alias("sum of counts"))
    .sort("year")
)

# %% [markdown]
# Weights estimated from utilization, then judged beside the reference
# model: insight against simplicity.

# %%
fitted = fordeling.fit(
    population=population, clinics=clinics, geography=geography,
    structure=fordeling.Model.reference(),
)
print(f"fitted {fitted.id}: R² {fitted.fit_report['r2']:.3f}")
evaluation = fordeling.evaluate(
    population=population, clinics=clinics, geography=geography,
    models=[fitted, fordeling.Model.reference()], folds=2,
)
print(pl.from_arrow(evaluation["models"]).select("id", "parameters", "out_of_sample_r2", "out_of_sample_cpm"))
