"""Laws of homeserver_merge, checked on generated homeserver.yaml-like documents."""

import copy
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import homeserver_merge

# The laws hold for the merge itself. Strict mode's checks (known keys at every depth where
# Synapse's schema fixes them, the schema's types) refuse most generated documents and have
# their own tests in test_homeserver_config.py, so the laws merge with strict=False.
merge = functools.partial(homeserver_merge, strict=False)

# Keys are real option names at the top level and free text below it.
TOP_KEYS = st.sampled_from(
    [
        "email",
        "retention",
        "rc_message",
        "url_preview_enabled",
        "max_upload_size",
        "auto_join_rooms",
        "caches",
    ]
)
INNER_KEYS = st.text("abcdefgh_", min_size=1, max_size=6)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(INNER_KEYS, children, max_size=3),
    max_leaves=10,
)
DOCUMENTS = st.dictionaries(TOP_KEYS, VALUES, max_size=5)
# No deadline: these are laws, not timings, and CI machines are busy (Go builds run beside).
LAW = settings(max_examples=300, deadline=None)


def leaves(document, prefix=()):
    """Yield (path, value) for every non-mapping value; an empty mapping is a leaf too."""
    for key, value in document.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def lookup(document, path):
    for key in path:
        document = document[key]
    return document


@LAW
@given(DOCUMENTS)
def test_merging_the_empty_mapping_is_the_identity(document):
    assert merge(document, {}) == document
    assert merge({}, document) == document


@LAW
@given(DOCUMENTS)
def test_merging_a_document_over_itself_gives_itself(document):
    assert merge(document, document) == document


@LAW
@given(DOCUMENTS, DOCUMENTS, DOCUMENTS)
def test_the_last_override_wins_on_every_leaf_it_sets(base, first, last):
    result = merge(base, first, last)
    for path, value in leaves(last):
        # An empty mapping merges into whatever mapping was there before.
        if isinstance(value, dict) and isinstance(lookup(result, path), dict):
            continue
        assert lookup(result, path) == value


@LAW
@given(DOCUMENTS, DOCUMENTS)
def test_inputs_are_unchanged(base, override):
    before = copy.deepcopy((base, override))
    merge(base, override)
    merge(base, override, list_merge="append")
    assert (base, override) == before


@LAW
@given(DOCUMENTS, DOCUMENTS)
def test_append_keeps_every_item_of_both_lists(base, override):
    result = merge(base, override, list_merge="append")
    for key, value in override.items():
        if isinstance(value, list) and isinstance(base.get(key), list):
            assert result[key] == base[key] + value
