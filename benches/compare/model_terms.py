"""The reference model of SPEC section 4 as plain Python data, shared by the
peer implementations (Polars, DuckDB): each reads the same TOML model file
the engine reads and computes the national run's clinic output from it."""
import csv
import tomllib

BANDS = 20


def load(model_path, geography_path, year):
    with open(model_path, "rb") as f:
        m = tomllib.load(f)
    with open(geography_path, encoding="utf-8") as f:
        area = {int(r["kommune_code"]): float(r["area_index"]) for r in csv.DictReader(f)}
    conditions = sorted(m.get("conditions", {}).items())
    packages = []
    for p in m.get("packages", []):
        if year < p["start_year"]:
            share = 0.0
        else:
            k = year - p["start_year"]
            phase = p.get("phase_in", [])
            share = phase[k] if k < len(phase) else 1.0
        packages.append({
            "conditions": p.get("conditions", []),
            "min_conditions": p.get("min_conditions", 0),
            "add": share * p.get("add", 0.0),
            "factor": 1.0 + share * (p.get("multiply", 1.0) - 1.0),
        })
    socio = m.get("socioeconomic", {})
    tables = {
        column: {int(k): float(v) for k, v in socio.get(column, {}).items()}
        for column in ["education", "income_quintile", "labour", "origin"]
    }
    return {
        "link": m["model"]["link"],
        "age_sex": {(1, b): float(v) for b, v in enumerate(m["age_sex"]["male"])}
        | {(2, b): float(v) for b, v in enumerate(m["age_sex"]["female"])},
        "socio": tables,
        "lives_alone": float(socio.get("lives_alone", {}).get("true", 0.0)),
        "conditions": conditions,
        "multimorbidity": [(t["at_least"], float(t["add"])) for t in m.get("multimorbidity", [])],
        "area_coefficient": float(m.get("area", {}).get("coefficient", 0.0)),
        "area": area,
        "packages": packages,
        "proposal": m["proposal"],
    }
