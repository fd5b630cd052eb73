"""YAML loading: YAML 1.2 numbers and booleans, duplicate keys, positions of every node."""

import pytest

from engine.spec.errors import SpecError
from engine.spec.loader import load_spec_text


def test_exponent_without_dot_is_a_float():
    tree, _ = load_spec_text("a: 1e-3\nb: 1E+2\nc: -2.5e3\nd: 7\ne: 1.5\n", "s.yaml")
    assert tree == {"a": 1e-3, "b": 100.0, "c": -2500.0, "d": 7, "e": 1.5}
    assert isinstance(tree["b"], float) and isinstance(tree["d"], int)


def test_only_true_and_false_are_booleans():
    tree, _ = load_spec_text("a: on\nb: yes\nc: true\nd: False\n", "s.yaml")
    assert tree == {"a": "on", "b": "yes", "c": True, "d": False}


def test_duplicate_key_is_an_error_naming_both_lines():
    with pytest.raises(SpecError) as info:
        load_spec_text("model:\n  depth: 2\n  depth: 3\n", "s.yaml")
    text = str(info.value)
    assert text.startswith("s.yaml:3:3: model.depth: duplicate key 'depth'")
    assert "line 2" in text


def test_positions_of_nested_nodes_and_list_items():
    text = "kind: x\nmodel:\n  depth: 4\nsweep:\n  grid:\n    model.depth: [1, 2, 30]\n"
    _, pos = load_spec_text(text, "s.yaml")
    assert pos.at[("model", "depth")] == (3, 10)
    assert pos.key_at[("model", "depth")] == (3, 3)
    assert pos.at[("sweep", "grid", "model.depth", 2)] == (6, 25)
    assert pos.locate(("model", "depth", "missing")) == ("s.yaml", 3, 10)


def test_syntax_error_points_at_the_problem():
    with pytest.raises(SpecError) as info:
        load_spec_text("a: [1, 2\nb: 3\n", "s.yaml")
    issue = info.value.issues[0]
    assert issue.source == "s.yaml" and issue.line == 2 and "YAML syntax error" in issue.problem


def test_merge_keys_and_anchors_still_work():
    tree, _ = load_spec_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 5\n", "s.yaml")
    assert tree["other"] == {"x": 1, "y": 5}
