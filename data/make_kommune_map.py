#!/usr/bin/env python3
"""Makes data/kommuner-map.txt, the simplified kommune map compiled into the
engine for the report's choropleth, from data/dagi/kommuner-2014.topojson.

Source: DAGI kommune boundaries (Geodatastyrelsen & Danske Kommuner, FOT
data set, 2014-02-13, scale 1:500,000) as published in TopoJSON form by the
repository Neogeografen/dagi (topojson/kommuner.topojson). Danish public
geodata, free for any use with attribution ("Indeholder data fra
Geodatastyrelsen, DAGI"). The 98 kommuner have had the same codes since
2007; the boundaries are those of 2014.

What this script does, so anyone can remake the file:
  1. decodes the quantized TopoJSON arcs to longitude/latitude;
  2. projects them with a local equirectangular projection (x scaled by
     cos 56°), 1,000 units wide, y growing downwards (SVG);
  3. moves Bornholm (0400) into an inset box in the Kattegat corner, as
     Danish maps usually do;
  4. simplifies every shared arc once with Douglas-Peucker (tolerance
     TOLERANCE units), so neighbouring kommuner still meet exactly;
  5. drops islands smaller than MIN_AREA square units (each kommune keeps
     its largest piece) and Christiansø (0411), which is not a kommune;
  6. writes one line per kommune: code, then its rings separated by ';',
     each ring as 'x,y x,y ...' in whole units.

Usage: python3 data/make_kommune_map.py  (from the repository root)
"""

import json
import math

SOURCE = "data/dagi/kommuner-2014.topojson"
TARGET = "data/kommuner-map.txt"
WIDTH = 1000.0
TOLERANCE = 1.1
MIN_AREA = 12.0
BORNHOLM = "0400"
BORNHOLM_SHIFT = (-2.75, 2.05)  # degrees of longitude, latitude
DROPPED = {"0411"}


def decode(topology):
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for step in arc:
            x += step[0]
            y += step[1]
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def simplify(points, tolerance):
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, index = -1.0, None
        for i in range(first + 1, last):
            px, py = points[i]
            if norm == 0:
                distance = math.hypot(px - ax, py - ay)
            else:
                distance = abs(dy * (px - ax) - dx * (py - ay)) / norm
            if distance > best:
                best, index = distance, i
        if index is not None and best > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, k in zip(points, keep) if k]


def area(ring):
    return abs(
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1]))
    ) / 2


def main():
    topology = json.load(open(SOURCE, encoding="utf-8"))
    arcs = decode(topology)
    geometries = topology["objects"]["kommuner"]["geometries"]
    # Which arcs belong to Bornholm (it shares none with anyone else).
    bornholm_arcs = set()
    for g in geometries:
        if g["properties"]["KOMKODE"] == BORNHOLM:
            for ring in g["arcs"]:
                for i in ring:
                    bornholm_arcs.add(i if i >= 0 else ~i)
    lat0 = math.radians(56.0)

    def lonlat(i, p):
        lon, lat = p
        if i in bornholm_arcs:
            lon, lat = lon + BORNHOLM_SHIFT[0], lat + BORNHOLM_SHIFT[1]
        return lon * math.cos(lat0), lat

    planar = [[lonlat(i, p) for p in arc] for i, arc in enumerate(arcs)]
    kept = [g for g in geometries if g["properties"]["KOMKODE"] not in DROPPED]
    used = {i if i >= 0 else ~i for g in kept for ring in g["arcs"] for i in ring}
    xs = [p[0] for i in used for p in planar[i]]
    ys = [p[1] for i in used for p in planar[i]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    unit = WIDTH / (x1 - x0)
    height = (y1 - y0) * unit
    screen = [
        [((x - x0) * unit, (y1 - y) * unit) for x, y in arc] for arc in planar
    ]
    simple = [simplify(arc, TOLERANCE) for arc in screen]

    rings_by_code = {}
    for g in kept:
        code = g["properties"]["KOMKODE"]
        for ring in g["arcs"]:
            points = []
            for i in ring:
                arc = simple[i] if i >= 0 else simple[~i][::-1]
                points.extend(arc if not points else arc[1:])
            rounded = []
            for x, y in points[:-1]:
                p = (round(x), round(y))
                if not rounded or rounded[-1] != p:
                    rounded.append(p)
            if len(rounded) >= 3:
                rings_by_code.setdefault(code, []).append(rounded)

    # The inset box around Bornholm.
    bx = [p[0] for r in rings_by_code[BORNHOLM] for p in r]
    by = [p[1] for r in rings_by_code[BORNHOLM] for p in r]
    inset = (min(bx) - 12, min(by) - 12, max(bx) + 12, max(by) + 12)

    lines = [
        "# Kommune map for the report's choropleth; made by data/make_kommune_map.py",
        "# from DAGI (Geodatastyrelsen & Danske Kommuner, FOT 2014-02-13, 1:500,000),",
        "# via github.com/Neogeografen/dagi. Indeholder data fra Geodatastyrelsen, DAGI.",
        "# Simplified (Douglas-Peucker, shared arcs), Bornholm in an inset box.",
        f"size {round(WIDTH)} {round(height)}",
        "inset " + " ".join(str(round(v)) for v in inset),
    ]
    total = 0
    for code in sorted(rings_by_code, key=int):
        rings = sorted(rings_by_code[code], key=area, reverse=True)
        rings = [rings[0]] + [r for r in rings[1:] if area(r) >= MIN_AREA]
        total += sum(len(r) for r in rings)
        body = ";".join(" ".join(f"{x},{y}" for x, y in r) for r in rings)
        lines.append(f"{int(code)}\t{body}")
    open(TARGET, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    print(f"{len(rings_by_code)} kommuner, {total} points -> {TARGET}")


if __name__ == "__main__":
    main()
