"""Builds the engine's default geography (geography-dk-2027.csv) from the
public table in ../../shared/data/ by adding an illustrative `area_index`.

The official morbidity index per kommune is not public. The raw values below
are illustrative, set by hand from public indicators that track morbidity
(older and lower-education populations, lower life expectancy: the small
islands, Lolland-Falster, North Jutland's periphery, the western suburbs of
Copenhagen score high; the northern suburbs and university towns low). They
are then scaled so that the population-weighted mean over the 98 kommuner
(approximate 2024 populations in kommune-population-approx.csv) is exactly 1,
and rounded to 3 decimals. Deterministic: running it again gives the same file.

Usage: python3 data/make_geography.py ../shared/data/geography-dk-2027.csv
"""
import csv
import os
import sys

RAW = {
    "Lolland": 1.26, "Langeland": 1.22, "Ærø": 1.16, "Læsø": 1.16, "Guldborgsund": 1.16,
    "Odsherred": 1.15, "Bornholm": 1.12, "Brøndby": 1.12, "Morsø": 1.11, "Samsø": 1.10,
    "Frederikshavn": 1.10, "Vordingborg": 1.10, "Kalundborg": 1.10, "Ishøj": 1.10,
    "Albertslund": 1.10, "Vesthimmerland": 1.08, "Norddjurs": 1.08, "Hjørring": 1.08,
    "Slagelse": 1.08, "Halsnæs": 1.08, "Tønder": 1.06, "Thisted": 1.05, "Lemvig": 1.05,
    "Næstved": 1.05, "Faxe": 1.05, "Svendborg": 1.05, "Nyborg": 1.05, "Randers": 1.05,
    "Brønderslev": 1.05, "Jammerbugt": 1.05, "Mariagerfjord": 1.05, "Faaborg-Midtfyn": 1.05,
    "Høje-Taastrup": 1.05, "Hvidovre": 1.05, "Struer": 1.05, "Skive": 1.04, "Kerteminde": 1.04,
    "Assens": 1.04, "Rødovre": 1.04, "Sønderborg": 1.03, "Aabenraa": 1.03, "Esbjerg": 1.03,
    "Glostrup": 1.03, "Haderslev": 1.03, "Holbæk": 1.03, "Stevns": 1.03, "Sorø": 1.02,
    "Ringsted": 1.02, "Nordfyns": 1.03, "Syddjurs": 1.02, "Herlev": 1.02, "Ballerup": 1.02,
    "Helsingør": 1.02, "Fredericia": 1.02, "Tårnby": 1.01, "Odense": 1.00, "Aalborg": 1.00,
    "Gribskov": 1.00, "Frederikssund": 1.00, "Køge": 0.99, "Greve": 0.98, "Vejle": 0.98,
    "Kolding": 0.98, "Horsens": 0.99, "Herning": 0.98, "Holstebro": 0.99, "Viborg": 0.98,
    "Silkeborg": 0.97, "Rebild": 0.98, "Ringkøbing-Skjern": 0.99, "Varde": 0.99,
    "Vejen": 1.00, "Billund": 0.98, "Ikast-Brande": 0.99, "Hedensted": 0.98, "Fanø": 1.00,
    "Middelfart": 0.98, "Gladsaxe": 0.98, "Fredensborg": 0.98, "København": 0.95,
    "Roskilde": 0.95, "Solrød": 0.95, "Favrskov": 0.95, "Odder": 0.96, "Lejre": 0.94,
    "Hillerød": 0.95, "Vallensbæk": 0.96, "Frederiksberg": 0.90, "Aarhus": 0.92,
    "Skanderborg": 0.92, "Egedal": 0.93, "Dragør": 0.92, "Furesø": 0.92, "Allerød": 0.90,
    "Hørsholm": 0.88, "Lyngby-Taarbæk": 0.87, "Rudersdal": 0.84, "Gentofte": 0.82,
}


def main():
    source = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kommune-population-approx.csv"), encoding="utf-8") as f:
        population = {int(r["kommune_code"]): int(r["population_approx"]) for r in csv.DictReader(f)}
    with open(source, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = [r["kommune_name"] for r in rows if r["kommune_name"] not in RAW]
    if missing:
        sys.exit(f"no raw index for {missing}")
    total = sum(population[int(r["kommune_code"])] for r in rows)
    mean = sum(RAW[r["kommune_name"]] * population[int(r["kommune_code"])] for r in rows) / total
    out = os.path.join(here, "geography-dk-2027.csv")
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kommune_code", "kommune_name", "sundhedsraad", "region_2027", "area_index"])
        for r in rows:
            index = RAW[r["kommune_name"]] / mean
            w.writerow([r["kommune_code"], r["kommune_name"], r["sundhedsraad"], r["region_2027"], f"{index:.3f}"])
    print(f"wrote {out}: {len(rows)} kommuner, raw population-weighted mean {mean:.4f}")


if __name__ == "__main__":
    main()
