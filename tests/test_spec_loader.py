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


def _laughs(levels: int) -> str:
    """A "billion laughs" document: each of ``levels`` anchors is a list of ten aliases to the one before."""
    names = "abcdefghijklmnop"[:levels + 1]
    lines = ["kind: toy_decay", f"{names[0]}: &{names[0]} [{', '.join(['lol'] * 10)}]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip(names, names[1:])]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_the_alias_where_the_limit_is_passed():
    with pytest.raises(SpecError) as info:
        load_spec_text(_laughs(9), "s.yaml")
    (issue,) = info.value.issues
    assert issue.problem == "too many alias expansions"
    assert (issue.line, issue.col, issue.path) == (6, 36, "e.7")  # the 8th *d of e passes 10^5 nodes in all


def test_alias_bomb_is_refused_quickly_in_little_memory(tmp_path):
    """Without the bound, `engine validate` of this 496-byte file ran 30 s into a MemoryError at 2.4 GB
    (under a 2.5 GB limit)."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "bomb.yaml"
    path.write_text(_laughs(9))

    def two_gib_of_memory():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    engine = Path(sys.executable).with_name("engine")
    proc = subprocess.run([str(engine), "validate", str(path)], capture_output=True, text=True, timeout=300,
                          preexec_fn=two_gib_of_memory)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"{path}:6:36: e.7: too many alias expansions (expected at most 100000 nodes " \
                                  "read through aliases (*name) and merge keys (<<))"


def test_aliases_below_the_limit_expand_to_independent_values():
    tree, _ = load_spec_text(_laughs(3), "s.yaml")
    assert tree["d"] == [[[["lol"] * 10] * 10] * 10] * 10


@pytest.mark.parametrize("text, where, problem", [
    ("a: &a [1, *a]\n", (1, 11), "the alias *a refers to a list or mapping that contains it"),
    ("a: &a {b: {c: *a}}\n", (1, 15), "the alias *a refers to a list or mapping that contains it"),
    ("a: &a {<<: *a}\n", (1, 12), "the alias *a refers to a list or mapping that contains it"),
    ("a: {<<: [1]}\n", (1, 10), "a merge key (<<) takes a mapping or a list of mappings"),
])
def test_recursive_alias_or_bad_merge_is_an_error(text, where, problem):
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "s.yaml")
    (issue,) = info.value.issues
    assert ((issue.line, issue.col), issue.problem) == (where, problem)


def test_an_aliased_value_is_placed_at_the_alias():
    _, pos = load_spec_text("a: &x [1, 2]\nb:\n  c: *x\n", "s.yaml")
    assert pos.at[("a",)] == (1, 4) and pos.at[("b", "c")] == (3, 6)
    assert pos.at[("b", "c", 1)] == (1, 11)  # inside the alias: where the value is written


def test_merges_inside_shared_nodes_are_read_the_same_every_time():
    text = "b: &b {x: 1, y: 1}\ni: &i {<<: *b, x: 2}\no: &o {m: *i}\np: *o\nq: *o\n"
    tree, _ = load_spec_text(text, "s.yaml")
    assert tree["i"] == tree["p"]["m"] == tree["q"]["m"] == {"x": 2, "y": 1}


@pytest.mark.parametrize("text, where, tag", [
    ("a: !!python/object/apply:os.system [echo hi]\n", (1, 4), "!!python/object/apply:os.system"),
    ("a: !!python/object:collections.OrderedDict {x: 1}\n", (1, 4), "!!python/object:collections.OrderedDict"),
    ("a:\n  - !mytag 3\n", (2, 5), "!mytag"),
    ("a: !!binary aGVsbG8=\n", (1, 4), "!!binary"),
    ("a: !!set {x, y}\n", (1, 4), "!!set"),
    ("a: !!timestamp 2024-01-01\n", (1, 4), "!!timestamp"),
    ("? !!python/name:os.system x\n: 1\n", (1, 3), "!!python/name:os.system"),
])
def test_tags_outside_the_core_schema_are_refused_on_scalars_lists_and_mappings(text, where, tag):
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "s.yaml")
    (issue,) = info.value.issues
    assert ((issue.line, issue.col), issue.problem) == (where, f"YAML tag '{tag}' is not allowed")


def test_core_schema_tags_and_dates_read_as_plain_values():
    tree, _ = load_spec_text("a: !!str 3\nb: !!float 1\nc: !!seq [1]\nd: !!map {x: 1}\ne: 2024-01-01\n", "s.yaml")
    assert tree == {"a": "3", "b": 1.0, "c": [1], "d": {"x": 1}, "e": "2024-01-01"}


def test_nesting_deeper_than_python_can_follow_is_an_error():
    with pytest.raises(SpecError) as info:
        load_spec_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "s.yaml")
    assert info.value.issues[0].problem == "the spec is nested too deeply"
