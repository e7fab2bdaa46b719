"""The national run's clinic output (need, mean weight, proposal) in DuckDB
SQL, generated from the model file, the way an expert writes it: each
person's raw need is reduced per clinic first (n, sum of r) and normalised
by the national mean only then, so no window runs over all persons.
Usage: peer_duckdb.py POPULATION CLINICS MODEL GEOGRAPHY YEAR OUT.csv"""
import sys
import duckdb
from model_terms import load


def case(column, table):
    if not table:
        return "0"
    whens = " ".join(f"WHEN {k} THEN {v!r}" for k, v in sorted(table.items()))
    return f"(CASE {column} {whens} ELSE 0 END)"


def main():
    population, clinics, model_path, geography, year, out = sys.argv[1:7]
    m = load(model_path, geography, int(year))
    cond = [f"CAST(cond_{n} AS INTEGER)" for n, _ in m["conditions"]]
    count = " + ".join(cond) if cond else "0"
    cell = "((sex - 1) * 20 + LEAST(age // 5, 19))"
    age_sex = {(s - 1) * 20 + b: v for (s, b), v in m["age_sex"].items()}
    terms = [case(cell, age_sex)]
    terms += [case(column, table) for column, table in m["socio"].items()]
    terms.append(f"(CASE WHEN lives_alone THEN {m['lives_alone']!r} ELSE 0 END)")
    terms += [f"{c} * {coef!r}" for c, (_, coef) in zip(cond, m["conditions"])]
    terms += [f"(CASE WHEN ({count}) >= {k} THEN {add!r} ELSE 0 END)" for k, add in m["multimorbidity"]]
    terms.append(f"{m['area_coefficient']!r} * {case('kommune', m['area'])}")
    r = "(" + " + ".join(terms) + ")"
    if m["link"] == "log":
        r = f"EXP({r})"
    # Each package applies to the previous step's r, so no expression is repeated.
    steps = [f"base AS (SELECT clinic_id, {r} AS r, ({count}) AS n_conditions, "
             + ", ".join(f"cond_{n}" for n, _ in m["conditions"]) + f" FROM read_parquet('{population}'))"]
    previous = "base"
    for k, p in enumerate(m["packages"]):
        q = " OR ".join([f"cond_{n}" for n in p["conditions"]] + ([f"n_conditions >= {p['min_conditions']}"] if p["min_conditions"] > 0 else [])) or "FALSE"
        steps.append(f"p{k} AS (SELECT * REPLACE (CASE WHEN {q} THEN (r + {p['add']!r}) * {p['factor']!r} ELSE r END AS r) FROM {previous})")
        previous = f"p{k}"
    rules = m["proposal"]
    value = f"capacities * L * {rules['closing_fraction']!r} / mean_weight"
    if rules.get("min_per_capacity", 0) > 0:
        value = f"(CASE WHEN ({value}) / capacities < {rules['min_per_capacity']!r} THEN {rules['min_per_capacity']!r} * capacities ELSE {value} END)"
    if rules.get("max_per_capacity", 0) > 0:
        value = f"(CASE WHEN ({value}) / capacities > {rules['max_per_capacity']!r} THEN {rules['max_per_capacity']!r} * capacities ELSE {value} END)"
    if rules.get("max_decrease", 0.1) >= 0:
        low = f"previous_min_patients * {1 - rules.get('max_decrease', 0.1)!r}"
        value = f"GREATEST({value}, {low})"
    if rules.get("max_increase", 0.05) >= 0:
        high = f"previous_min_patients * {1 + rules.get('max_increase', 0.05)!r}"
        value = f"LEAST({value}, {high})"
    step = rules.get("round_to", 10)
    rounded = f"CAST(SIGN(({value}) / {step}) * FLOOR(ABS(({value}) / {step}) + 0.5) * {step} AS BIGINT)"
    sql = f"""
    COPY (
      WITH {", ".join(steps)},
      sums AS (SELECT clinic_id, COUNT(*) AS n, SUM(GREATEST(r, 0)) AS r FROM {previous} GROUP BY clinic_id),
      national AS (SELECT SUM(r) / SUM(n) AS mean, SUM(n) AS persons FROM sums),
      per_clinic AS (SELECT clinic_id, n, r / mean AS need FROM sums, national),
      c AS (SELECT clinic_id, capacities, CAST(previous_min_patients AS DOUBLE) AS previous_min_patients FROM read_parquet('{clinics}')),
      l AS (SELECT (SELECT persons FROM national) / SUM(capacities) AS L FROM c),
      t AS (SELECT c.*, COALESCE(n, 0) AS n, COALESCE(need, 0) AS need, need / n AS mean_weight, L
            FROM c LEFT JOIN per_clinic USING (clinic_id), l)
      SELECT clinic_id, n, need, mean_weight, CASE WHEN n > 0 THEN {rounded} END AS min_patients
      FROM t ORDER BY clinic_id
    ) TO '{out}' (HEADER, DELIMITER ',')
    """
    duckdb.connect().execute(sql)


if __name__ == "__main__":
    main()
