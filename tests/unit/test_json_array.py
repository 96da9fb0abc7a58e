"""``tickets --json`` writes its array an item at a time: the text is what ``json.dumps`` of the
whole list with ``indent=2`` gives, so scripts that read it see no change."""
from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.app.cli.views import write_json_array

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(), inner, max_size=4)), max_leaves=20)


def written(items) -> str:
    out = io.StringIO()
    write_json_array(iter(items), out)
    return out.getvalue()


@settings(max_examples=200, derandomize=True, database=None)
@given(st.lists(values, max_size=6))
def test_the_array_written_item_by_item_is_the_text_json_dumps_gives_for_the_list(items):
    assert written(items) == json.dumps(items, indent=2) + "\n"


def test_items_with_line_breaks_empty_containers_and_no_items_read_back_the_same():
    items = [{"subject": "two\nlines", "tags": [], "thread": {}, "sla": "due"}, {"subject": "é ✓ \u2028"}]
    assert written(items) == json.dumps(items, indent=2) + "\n"
    assert json.loads(written(items)) == items
    assert written([]) == "[]\n"
