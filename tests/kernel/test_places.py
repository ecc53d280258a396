"""The kernel's place list (kernel.places): well-known places as their own names, never inside longer ones."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from haltguard.kernel.ner import Entity
from haltguard.kernel.places import find_places, place_names, with_places
from haltguard.kernel.policy import Policy


def _found(text: str) -> list[str]:
    return [text[e.start:e.end] for e in find_places(text)]


@pytest.mark.parametrize("text, places", [
    ("She moved from France to the United States in 1990.", ["France", "United States"]),
    ("Flights to New York City, Berlin and São Paulo were cancelled.", ["New York City", "Berlin", "São Paulo"]),
    ("The U.S. and the UK signed it; India's reply came later.", ["U.S.", "UK", "India"]),
    ("WE ARE FLYING TO GERMANY TOMORROW", ["GERMANY"]),
    ("(Paris) was lovely, and so was \"Rome\".", ["Paris", "Rome"]),
])
def test_places_named_on_their_own(text, places):
    assert _found(text) == places


@pytest.mark.parametrize("text", [
    "It premiered at the 63rd Berlin International Film Festival.",
    "He ran in the 1992 United Kingdom general election and for the Liberal Party of Canada.",
    "The Governor General of Canada Literary Award went to her.",
    "Reading is fun and the weather in nice places is nice.",  # common words, lower case or left out
    "Brandon called about the invoice.",  # a first name first
])
def test_no_place_inside_a_longer_name_or_a_common_word(text):
    assert _found(text) == []


def test_the_model_wins_where_it_saw_an_entity():
    text = "Georgia Smith flew to Georgia."
    model = [Entity("person", 0, 13, 0.9)]
    out = with_places(text, model)
    assert out[0] == model[0] and [(text[e.start:e.end], e.type, e.source) for e in out[1:]] == [("Georgia", "location", "places")]


def test_policy_adds_places_only_when_the_name_model_ran_and_locations_are_wanted():
    text = "Mail jane@example.com about the trip to Portugal."
    assert [f.type for f in Policy().findings(text)] == ["email"]  # no model ran: the recognizers only
    got = Policy().findings(text, [])
    assert [(f.type, f.value, f.validator) for f in got] == [("email", "jane@example.com", None), ("location", "Portugal", "places")]
    people_only = Policy.from_dict({"enabled": ["email", "person"]})
    assert [f.type for f in people_only.findings(text, [])] == ["email"]


def test_the_list_says_where_it_comes_from_and_indexes_every_name():
    data = json.loads(resources.files("haltguard.kernel").joinpath("data/places.json").read_text("utf-8"))
    assert "GeoNames" in data["source"] and len(data["names"]) > 5000
    assert "Man" in data["left_out_as_common_words"] and "Man" not in data["names"]
    index = place_names()
    assert sum(len(v) for v in index.values()) == len(set(data["names"]))
