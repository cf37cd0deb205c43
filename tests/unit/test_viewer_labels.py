"""One run label and one item-attribute line for every page (viewer.components,
viewer.format)."""

from viewer.components import run_label
from viewer.format import format_attrs
from viewer.item_view import _meta


def test_run_label_names_the_algorithm_only_when_the_name_is_not_it():
    assert run_label({"run_id": 3, "name": "als", "algorithm": "als"}) == "#3 als"
    assert run_label({"run_id": 4, "name": "tuned", "algorithm": "als"}) == "#4 tuned (als)"
    assert run_label({"run_id": 5, "name": None, "algorithm": "bpr"}) == "#5 bpr"


def test_format_attrs_line():
    # text as it is; numbers with their key and a thousands separator; a year plain;
    # null left out; a timestamp as its date; at most 3 parts
    line = format_attrs('{"prefecture": "東京都", "hourly_wage": 1500.0, "x": null, '
                        '"posted_at": "2026-07-04T16:07:03", "more": "not shown"}')
    assert line == "東京都 · hourly wage 1,500 · posted at 2026-07-04"
    assert format_attrs('{"year": 1997, "remote": true}') == "year 1997 · remote: yes"
    assert format_attrs(None) == "" and format_attrs("[1, 2]") == ""


def test_item_cards_use_the_same_line_after_the_category_without_links():
    attrs = '{"imdb_url": "http://example.org/m/1", "year": 1995, "hourly_wage": 1200}'
    assert _meta("Comedy", attrs) == "Comedy · year 1995 · hourly wage 1,200"
    assert _meta(None, None) == ""
