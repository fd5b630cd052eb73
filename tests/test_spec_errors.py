"""Every way a spec can be wrong gives FILE:LINE:COL: field: problem (expected), exit 2, no traceback."""

import re

import pytest

GOOD = "kind: toy_decay\ndecay:\n  rate: 2.0\n"


def _one_error(result, pattern):
    assert result.code == 2
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert any(re.search(pattern, line) for line in lines), result.err
    return lines


@pytest.mark.parametrize("text, pattern", [
    ("kind: toy_decay\ndecay:\n  rate: -1\n", r"spec\.yaml:3:9: decay\.rate: -1 is out of range \(expected a value > 0"),
    ("kind: toy_decay\ndecay:\n  rat: 1\n", r"spec\.yaml:3:3: decay\.rat: unknown key 'rat'; did you mean 'rate'\?"),
    ("kind: toy_decay\ngrid: {n_times: '4'}\n", r"spec\.yaml:2:17: grid\.n_times: '4' has the wrong type \(str\) \(expected an integer\)"),
    ("kind: toy_decay\ngrid: {n_times: 2.5}\n", r"spec\.yaml:2:17: grid\.n_times: .*\(expected an integer\)"),
    ("kind: toy_decay\ngrid: 3\n", r"spec\.yaml:2:7: grid: .*\(expected a mapping\)"),
    ("kind: toy_decay\nfail: maybe\n", r"spec\.yaml:2:7: fail: 'maybe' is not allowed \(expected one of 'no', 'raise'"),
    ("decay: {rate: 1}\n", r"spec\.yaml:1:1: kind: required field is missing \(expected one of: .*toy_decay"),
    ("kind: toy_decy\n", r"spec\.yaml:1:7: kind: unknown kind 'toy_decy'; did you mean 'toy_decay'\? \(expected one of: .*deep_linear"),
    ("kind: toy_decay\nseed: 1\nseed: 2\n", r"spec\.yaml:3:1: seed: duplicate key 'seed'"),
    ("kind: toy_decay\ndecay: {rate: [1\n", r"spec\.yaml:3:1: <yaml>: YAML syntax error"),
    ("- a\n- b\n", r"spec\.yaml:1:1: <root>: the spec must be a mapping"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rat: [1, 2]\n",
     r"spec\.yaml:4:5: sweep\.grid\.decay\.rat: sweep key 'decay\.rat': no field 'rat' in decay; did you mean 'decay\.rate'\?"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate.x: [1, 2]\n", r"spec\.yaml:4:5: .*'decay\.rate' is a value, not a section"),
    ("kind: toy_decay\nsweep:\n  grid:\n    name: [a, b]\n", r"spec\.yaml:4:5: .*'name' cannot be swept"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: []\n", r"spec\.yaml:4:17: sweep\.grid\.decay\.rate: empty list"),
    ("kind: toy_decay\nsweep:\n  zip:\n    decay.rate: [1, 2]\n    decay.y0: [1, 2, 3]\n",
     r"spec\.yaml:4:5: sweep\.zip: zip lists have unequal lengths: decay\.rate has 2, decay\.y0 has 3"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: [1]\n  cases:\n    - {decay.rate: 2}\n",
     r"spec\.yaml:6:8: .*'decay\.rate' is set by two sweep blocks"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: [1, -2, 3]\n",
     r"spec\.yaml:4:21: decay\.rate: sweep point 2 of 3 \(decay\.rate=-2\): -2 is out of range \(expected a value > 0"),
    ("kind: toy_decay\nsweep:\n  cases:\n    - {grid.n_times: 1}\n",
     r"spec\.yaml:4:22: grid\.n_times: sweep point 1 of 1 \(grid\.n_times=1\): 1 is out of range \(expected a value >= 2\)"),
    ("kind: toy_decay\nsweep:\n  cases:\n    - decay.rate=2\n",
     r"spec\.yaml:4:7: sweep\.cases\.0: 'decay\.rate=2' has the wrong type \(str\) \(expected a mapping\)"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: 8\n",
     r"spec\.yaml:4:17: sweep\.grid\.decay\.rate: 8 has the wrong type \(int\) \(expected a list\)"),
    ("kind: toy_decay\nsweep:\n  zip:\n    decay.rate: 8\n",
     r"spec\.yaml:4:17: sweep\.zip\.decay\.rate: 8 has the wrong type \(int\) \(expected a list\)"),
    ("kind: toy_decay\ndecay: !!python/object/apply:collections.OrderedDict [[[rate, 2]]]\n",
     r"spec\.yaml:2:8: decay: YAML tag '!!python/object/apply:collections\.OrderedDict' is not allowed"),
    ("kind: toy_decay\ndecay: !!python/object:argparse.Namespace {rate: 2}\n",
     r"spec\.yaml:2:8: decay: YAML tag '!!python/object:argparse\.Namespace' is not allowed"),
    ("kind: toy_decay\ndescription: !note text\n", r"spec\.yaml:2:14: description: YAML tag '!note' is not allowed"),
    ("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: &r [1, 2]\ndecay:\n  rate: *r\n",
     r"spec\.yaml:6:9: decay\.rate: \[1, 2\] has the wrong type \(list\) \(expected a number\)"),
    ("kind: toy_decay\nseed: 18446744073709551616\n",
     r"spec\.yaml:2:7: seed: 18446744073709551616 is out of range \(expected a value <= 18446744073709551615\)"),
    ("kind: toy_decay\nsweep:\n  grid:\n    seed: [0, 18446744073709551616]\n",
     r"spec\.yaml:4:15: seed: sweep point 2 of 2 .*is out of range"),
    ("kind: toy_decay\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")),
     r"spec\.yaml:6:36: e\.7: too many alias expansions"),
    ("kind: toy_decay\nsweep:\n  grid:\n" + "".join(f"    {k}: {list(range(2, 12))}\n" for k in (
        "decay.rate", "decay.y0", "decay.floor", "grid.t_end", "grid.n_times", "seed")),
     r"spec\.yaml:2:1: sweep: 1000000 run points \(10 \(decay\.rate\) x 10 \(decay\.y0\) x .*\) exceed the limit "
     r"of 100000 \(expected at most 100000 runs; a smaller sweep, or --max-runs N to allow more\)"),
])
def test_bad_spec_is_reported_with_position_and_nothing_is_written(cli, write_spec, tmp_path, text, pattern):
    path = write_spec(text)
    _one_error(cli("validate", path), pattern)
    _one_error(cli("run", path), pattern)
    assert not (tmp_path / "outputs").exists()


def test_all_errors_of_a_spec_are_listed_together(cli, write_spec):
    path = write_spec("kind: toy_decay\ndecay: {rate: 0, y00: 1}\ngrid: {n_times: 1}\n")
    lines = _one_error(cli("validate", path), r"decay\.rate")
    assert len(lines) == 3


def test_sweep_point_errors_name_each_bad_value_once(cli, write_spec):
    path = write_spec("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: [-1, 1]\n    grid.t_end: [1, 2, 3]\n")
    lines = _one_error(cli("validate", path), r"sweep point 1 of 6")
    assert len(lines) == 1


@pytest.mark.parametrize("override, pattern", [
    ("decay.rte=3", r"^--set decay\.rte=3: decay\.rte: no field 'rte' in decay; did you mean 'decay\.rate'\?"),
    ("decay.rate=-3", r"^--set decay\.rate=-3: decay\.rate: -3 is out of range"),
    ("grid.n_times=1e3", r"^--set grid\.n_times=1e3: grid\.n_times: 1000\.0 has the wrong type \(float\)"),
    ("nonsense", r"^--set nonsense: .*PATH=VALUE"),
])
def test_bad_override_is_named(cli, write_spec, override, pattern):
    _one_error(cli("validate", write_spec(GOOD), "--set", override), pattern)


def test_override_changes_the_spec(cli, write_spec):
    result = cli("validate", write_spec(GOOD), "--set", "sweep={grid: {decay.rate: [1, 2, 3]}}")
    assert result.code == 0 and "3 run point(s)" in result.out


def test_debug_shows_the_traceback(cli, write_spec):
    result = cli("--debug", "validate", write_spec("kind: toy_decay\nseed: -1\n"))
    assert result.code == 2 and "Traceback" in result.err and "seed: -1 is out of range" in result.err


def test_missing_file_is_reported(cli, tmp_path):
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.code == 2 and "nope.yaml: <file>: cannot read the spec" in result.err


def test_a_file_that_is_not_utf8_is_named_with_the_byte(cli, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("kind: toy_decay\ndescription: caf\u00e9\n".encode("latin-1"))
    for command in ("validate", "run"):
        _one_error(cli(command, str(path)), r"latin1\.yaml:2:17: <file>: the file is not UTF-8 text \(byte 0xe9\)")


def test_a_file_name_that_is_not_a_valid_name_says_where_the_name_comes_from(cli, write_spec):
    path = write_spec("# a comment\n\nkind: toy_decay\n", name="my spec")
    lines = _one_error(cli("validate", path), r"my spec\.yaml:1:1: name: the spec has no 'name', so it is named "
                       r"after its file, 'my spec', which is not a valid name \(expected .*add a line 'name: \.\.\.'")
    assert len(lines) == 1
    assert cli("validate", write_spec("kind: toy_decay\nname: mine\n", name="my spec")).code == 0


def test_the_largest_64_bit_seed_is_accepted(cli, write_spec):
    assert cli("validate", write_spec("kind: toy_decay\nseed: 18446744073709551615\n")).code == 0


def test_max_runs_sets_the_limit_on_sweep_points(cli, write_spec, tmp_path):
    path = write_spec("kind: toy_decay\nsweep:\n  grid:\n    decay.rate: [1, 2, 3]\n  cases:\n    - {seed: 1}\n"
                      "    - {seed: 2}\n")
    _one_error(cli("validate", path, "--max-runs", "5"), r"spec\.yaml:2:1: sweep: 6 run points \(3 \(decay\.rate\) "
               r"x 2 \(case\)\) exceed the limit of 5")
    _one_error(cli("run", path, "--max-runs", "5"), r"exceed the limit of 5")
    assert not (tmp_path / "outputs").exists()
    result = cli("validate", path, "--max-runs", "6")
    assert result.code == 0 and "6 run point(s)" in result.out


def test_a_huge_sweep_is_refused_before_its_points_are_built(engine_cmd, write_spec):
    """10^6 points: `validate` ran 291 s in 3.8 GB before it counted them first."""
    grid = "".join(f"    {k}: {list(range(2, 12))}\n" for k in ("decay.rate", "decay.y0", "decay.floor", "grid.t_end",
                                                               "grid.n_times", "seed"))
    path = write_spec("kind: toy_decay\nsweep:\n  grid:\n" + grid)
    result = engine_cmd("validate", path, "--max-runs", "999999", timeout=120)
    assert result.code == 2 and "1000000 run points" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("kind, section, key, line_col", [
    ("bgk", "time", "t_final", "3:12"),
    ("bgk_closure", "learner", "lr", "3:7"),
    ("moire_exciton", "transport", "temperature_K", "3:18"),
    ("deep_linear", "optimizer", "lr", "3:7"),
])
@pytest.mark.parametrize("value, problem", [
    (".inf", "inf is not a finite number"),
    ("-.inf", "-inf is not a finite number"),
    (".nan", "nan is not a number"),
])
def test_a_non_finite_number_is_refused_where_a_finite_one_is_meant(cli, write_spec, tmp_path, kind, section, key,
                                                                    line_col, value, problem):
    """`t_final: .inf` was accepted and every run then failed with OverflowError."""
    path = write_spec(f"kind: {kind}\n{section}:\n  {key}: {value}\n")
    pattern = rf"^{re.escape(path)}:{line_col}: {section}\.{key}: {re.escape(problem)} \(expected a finite number\)$"
    for command in ("validate", "run"):
        assert len(_one_error(cli(command, path), pattern)) == 1
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize("kind, section, key", [
    ("bgk", "collision", "kn"),  # free streaming
    ("moire_exciton", "transport", "lifetime_ns"),  # no decay
    ("hyperelastic_interface", "material", "lame_lambda"),  # incompressible limit
])
def test_infinity_is_accepted_where_it_is_a_meaningful_limit_and_nan_never(cli, write_spec, kind, section, key):
    assert cli("validate", write_spec(f"kind: {kind}\n{section}:\n  {key}: .inf\n")).code == 0
    path = write_spec(f"kind: {kind}\n{section}:\n  {key}: .nan\n")
    _one_error(cli("validate", path), rf"spec\.yaml:3:\d+: {section}\.{key}: nan is not a number")


@pytest.mark.parametrize("kind, section, final, every", [
    ("bgk", "time", "t_final", "save_every"),
    ("hyperelastic_device", "time", "t_final", "save_every"),
    ("moire_exciton", "time", "t_final_ns", "save_every_ns"),
    ("bgk_closure", "data", "t_final", "save_every"),
])
def test_save_every_beyond_the_final_time_is_refused(cli, write_spec, tmp_path, kind, section, final, every):
    """An interval beyond the final time silently saved only the start and the end."""
    path = write_spec(f"kind: {kind}\n{section}:\n  {final}: 0.1\n  {every}: 0.5\n")
    pattern = (rf"spec\.yaml:4:\d+: {section}\.{every}: {every} = 0\.5 is above {final} = 0\.1, so only the start and "
               rf"the final time would be saved \(expected {every} <= 0\.1\)$")
    for command in ("validate", "run"):
        assert len(_one_error(cli(command, path), pattern)) == 1
    assert not (tmp_path / "outputs").exists()
    assert cli("validate", write_spec(f"kind: {kind}\n{section}:\n  {final}: 0.1\n  {every}: 0.1\n")).code == 0


@pytest.mark.parametrize("name", ["my run", "-run", "run/x", ".hidden"])
def test_an_invalid_name_in_the_spec_says_what_a_name_may_hold(cli, write_spec, tmp_path, name):
    path = write_spec(f"kind: toy_decay\nname: '{name}'\n")
    pattern = (rf"spec\.yaml:2:7: name: {re.escape(repr(name))} is not a valid name \(expected letters, digits, '_', "
               r"'\.', '-', starting with a letter or digit\)$")
    for command in ("validate", "run"):
        assert len(_one_error(cli(command, path), pattern)) == 1
    assert not (tmp_path / "outputs").exists()


def test_sweep_keys_that_would_share_a_name_in_result_nc_are_refused():
    from engine.spec.errors import SpecError
    from engine.spec.loader import load_spec_text
    from engine.spec.sweep import sweep_axes

    tree, pos = load_spec_text("sweep:\n  grid:\n    a.b_c: [1, 2]\n    a_b.c: [3]\n", "s.yaml")
    with pytest.raises(SpecError) as err:
        sweep_axes(tree["sweep"], pos, lambda key: None)  # every key taken as a field
    assert [str(i) for i in err.value.issues] == [
        "s.yaml:4:5: sweep.grid.a_b.c: sweep keys 'a.b_c' and 'a_b.c' would both be named 'a_b_c' in result.nc "
        "(dots become underscores) (expected sweep keys that differ in more than '.' against '_')"]
