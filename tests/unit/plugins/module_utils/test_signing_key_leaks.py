"""No error text of any signing-key filter or lookup contains the seed, whatever the line.

Property test over every ordering of the three fields of a valid key line and over random
corruptions of it (a swap, a dropped field, an extra field, characters base64 cannot hold,
a wrong length, whitespace inside a field). A refused line must be described by position,
expected shape and length only: the seed must not appear, nor any 8-character piece of it.
"""

import base64
import itertools

import pytest
from ansible.errors import AnsibleFilterError, AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.filter.signing_key import FilterModule

FILTERS = FilterModule().filters()
# Through Ansible's loader, so the lookup's options come from its DOCUMENTATION as in a play.
LOOKUP = lookup_loader.get("matrixk8s.synapse.signing_key")
VERSIONS = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=8)
SEEDS = st.binary(min_size=32, max_size=32).map(lambda raw: base64.b64encode(raw).decode().rstrip("="))
PIECE = 8


def _fields_of(seed, version):
    return ["ed25519", version, seed]


def _corrupt(draw, fields):
    """One corruption of a valid list of fields (it may still leave the seed intact)."""
    seed_index = 2
    kind = draw(st.sampled_from(["swap", "drop", "extra", "non_base64", "truncate", "extend", "whitespace"]))
    fields = list(fields)
    if kind == "swap":
        i, j = draw(st.sampled_from(list(itertools.combinations(range(3), 2))))
        fields[i], fields[j] = fields[j], fields[i]
    elif kind == "drop":
        del fields[draw(st.integers(0, 2))]
    elif kind == "extra":
        extra = draw(st.sampled_from(["ed25519", fields[1], fields[2], "x", "=="]))
        fields.insert(draw(st.integers(0, 3)), extra)
    elif kind == "non_base64":
        position = draw(st.integers(0, len(fields[seed_index])))
        bad = draw(st.sampled_from("!-_.*#é"))
        fields[seed_index] = fields[seed_index][:position] + bad + fields[seed_index][position:]
    elif kind == "truncate":
        fields[seed_index] = fields[seed_index][: draw(st.integers(0, 42))]
    elif kind == "extend":
        fields[seed_index] += draw(st.text("ABCabc012+/=", min_size=1, max_size=8))
    else:
        target = draw(st.integers(0, 2))
        position = draw(st.integers(0, len(fields[target])))
        space = draw(st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003"]))
        fields[target] = fields[target][:position] + space + fields[target][position:]
    return fields


@st.composite
def bad_lines(draw):
    seed, version = draw(SEEDS), draw(VERSIONS)
    fields = _fields_of(seed, version)
    if draw(st.booleans()):
        fields = list(draw(st.sampled_from(list(itertools.permutations(fields)))))
    else:
        fields = _corrupt(draw, fields)
    separator = draw(st.sampled_from([" ", "  ", "\t"]))
    return seed, separator.join(fields)


def _error_texts(line):
    """Every error (and every problem description) the plugins give for this line."""
    texts = [FILTERS["signing_key_problem"](line), FILTERS["signing_key_problem"](line, name="x")]
    calls = [
        lambda: FILTERS["signing_key_canonical"](line),
        lambda: FILTERS["signing_key_id"](line),
        lambda: FILTERS["signing_key_verify_key"](line),
        lambda: FILTERS["signing_key_old_entry"](line, 1_700_000_000_000),
    ]
    for call in calls:
        try:
            call()
        except AnsibleFilterError as error:
            texts.append(str(error))
    for part in line.split():  # a field handed to the lookup by mistake
        try:
            LOOKUP.run(["ed25519"], variables={}, key_id=part)
        except AnsibleLookupError as error:
            texts.append(str(error))
        try:
            LOOKUP.run([part], variables={})
        except AnsibleLookupError as error:
            texts.append(str(error))
    return texts


def _assert_no_piece_of(seed, texts):
    for text in texts:
        assert seed not in text
        for start in range(len(seed) - PIECE + 1):
            assert seed[start : start + PIECE] not in text, "an error quotes part of the seed"


@settings(max_examples=400, deadline=None)
@given(bad_lines())
def test_no_error_text_contains_the_seed(case):
    seed, line = case
    _assert_no_piece_of(seed, _error_texts(line))


@settings(max_examples=100, deadline=None)
@given(SEEDS, VERSIONS)
def test_every_ordering_but_the_right_one_is_refused_without_the_seed(seed, version):
    good = " ".join(_fields_of(seed, version))
    assert FILTERS["signing_key_problem"](good) == ""
    for order in itertools.permutations(_fields_of(seed, version)):
        line = " ".join(order)
        if line == good:
            continue
        problem = FILTERS["signing_key_problem"](line)
        assert problem.startswith("signing_key_value")
        with pytest.raises(AnsibleFilterError):
            FILTERS["signing_key_canonical"](line)
        _assert_no_piece_of(seed, _error_texts(line))


def test_a_seed_in_the_first_place_is_named_as_such():
    seed = base64.b64encode(bytes(range(32))).decode().rstrip("=")
    problem = FILTERS["signing_key_problem"](f"{seed} ed25519 a_x")
    assert problem == (
        "signing_key_value: the first field must be 'ed25519'; it is another 43-character text "
        "(it has the length and shape of a seed: the order is 'ed25519 <version> <base64 seed>')"
    )
