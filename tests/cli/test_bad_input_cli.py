"""Bad input through the CLI, one class of mistake at a time (issue 16): every case ends with
exit 2 and a message naming the flag, file or key the user typed; sizes are checked before memory
is taken; a failed command leaves an existing output file as it was."""

import json
import os
import subprocess

import numpy as np
import pytest


def run(locus_bin, *args, cwd=None):
    p = subprocess.run([locus_bin, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect_2(locus_bin, args, words, cwd=None):
    rc, out, err = run(locus_bin, *args, cwd=cwd)
    assert rc == 2, (args, rc, out, err)
    for w in words:
        assert w in err, (args, w, err)
    assert "bad_alloc" not in err and "terminate" not in err, err
    return err


IRIS = ["--dataset", "iris", "--n-points", "8"]


@pytest.fixture(scope="module")
def cooper(locus_bin, tmp_path_factory):
    """A Cooper network fitting 8 iris points exactly (a zero-loss point)."""
    d = tmp_path_factory.mktemp("bad_input")
    rc, _, err = run(locus_bin, "construct", "cooper", *IRIS, "--save", d / "m.safetensors")
    assert rc == 0, err
    return d


# --- sizes: overflow-checked arithmetic, and memory estimated before it is taken -------------

SIZE_CASES = [
    # 3 * 2^62 parameters wrap around a 64-bit count.
    ("overflow", ["eval", "--arch", "3,4611686018427387904,1,1", "--bias", "none",
                  "--dataset", "gaussian", "--n-points", "2"], ["overflows"]),
    ("wide arch", ["eval", "--arch", "3,1000000000,1", "--dataset", "gaussian", "--n-points",
                   "2"], ["[3,1000000000,1]", "GiB", "--max-memory"]),
    ("cooper width", ["construct", "cooper", *IRIS, "--width", "1000000000", "--save",
                      "out.safetensors"], ["GiB", "--max-memory"]),
    ("input dim", ["eval", "--arch", "3,2,1", "--dataset", "gaussian", "--n-points", "1000",
                   "--input-dim", "1000000000"], ["input_dim = 1000000000", "GiB"]),
    ("n points", ["eval", "--arch", "3,2,1", "--dataset", "gaussian", "--n-points",
                  "1000000000000"], ["n_points = 1000000000000", "GiB"]),
    ("teacher points", ["eval", "--arch", "3,2,1", "--dataset", "teacher", "--teacher-arch",
                        "3,2,1", "--n-points", "1000000000000"], ["teacher data", "GiB"]),
    ("max memory", ["eval", "--arch", "3,200,1", *IRIS[:2], "--max-memory", "0.000001"],
     ["[3,200,1]", "above the memory limit"]),
    ("max memory value", ["eval", "--arch", "4,2,3", *IRIS, "--max-memory", "-1"],
     ["--max-memory", "memory limit must be"]),
]


@pytest.mark.parametrize("case,args,words", SIZE_CASES, ids=[c[0] for c in SIZE_CASES])
def test_sizes_are_checked_before_memory_is_taken(locus_bin, tmp_path, case, args, words):
    expect_2(locus_bin, args, words, cwd=tmp_path)
    assert not (tmp_path / "out.safetensors").exists()


def test_walk_line_points_and_study_sizes(locus_bin, cooper, tmp_path):
    # 10^9 points of (t, loss): 14.9 GiB, refused under a 1 GiB limit before the walk starts.
    expect_2(locus_bin, ["walk", "--params", cooper / "m.safetensors", *IRIS, "--steps", "2",
                         "--line-points", "1000000000", "--max-memory", "1"],
             ["--line-points", "14.9 GiB"])
    f = tmp_path / "big.json"
    f.write_text(json.dumps({"study": "cooper", "runs": "p=2,h=8,d=1000000000", "walk_run": -1}))
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s"], ["big.json", "GiB"])


# --- study options: types and ranges, named by file and key ----------------------------------

STUDY_CASES = [
    ({"seed": "one"}, ['"seed"', "integer"]),
    ({"runs": 5}, ['"runs"', "text"]),
    ({"walk_steps": -3}, ['"walk_steps"']),
    ({"nonsense": 1}, ['"nonsense"', "is not an option"]),
    ({"runs": "p=2,h=8,d=oops"}, ['"runs"', "oops"]),
]


@pytest.mark.parametrize("options,words", STUDY_CASES, ids=[str(c[0]) for c in STUDY_CASES])
def test_study_file_types_and_ranges(locus_bin, tmp_path, options, words):
    f = tmp_path / "opts.json"
    f.write_text(json.dumps({"study": "cooper", **options}))
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s"], ["opts.json", *words])
    assert not (tmp_path / "s" / "result.json").exists()
    # The same file read by reproduce (a folder of study files) names the file too.
    d = tmp_path / "studies" / "cooper"
    d.mkdir(parents=True)
    (d / "study.json").write_text(json.dumps(options))
    expect_2(locus_bin, ["reproduce", "--studies", tmp_path / "studies", "--only", "cooper",
                         "--out", tmp_path / "r"], ["study.json", *words])


def test_malformed_study_json_names_the_file(locus_bin, tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{"study": "cooper", "seed": ')
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s"], ["broken.json"])


# --- values that mean "default", typed explicitly; flags that do not apply --------------------

DEFAULT_CASES = [
    (["construct", "cooper", *IRIS, "--width", "-1", "--save", "o.safetensors"], ["--width"]),
    (["eval", "--arch", "3,2,1", "--dataset", "gaussian", "--n-points", "5", "--input-dim", "-3"],
     ["--input-dim"]),
    (["eval", "--arch", "3,2,1", "--dataset", "gaussian", "--n-points", "5", "--input-dim", "-1"],
     ["--input-dim"]),
    (["eval", "--arch", "3,2,1", "--dataset", "gaussian", "--n-points", "5", "--output-dim", "0"],
     ["--output-dim"]),
    (["eval", "--arch", "4,2,3", "--dataset", "iris", "--n-points", "-4"], ["--n-points"]),
    (["eval", "--arch", "4,2,3", "--dataset", "iris", "--n-points", "-1"], ["--n-points"]),
    (["eval", "--arch", "4,2,3", *IRIS, "--threads", "0"], ["--threads"]),
    (["eval", "--arch", "4,2,3", *IRIS, "--input-dim", "4"], ["--input-dim", "gaussian"]),
    (["eval", "--arch", "2,2,1", "--dataset", "grid", "--n-points", "4"], ["--n-points", "grid"]),
]


@pytest.mark.parametrize("args,words", DEFAULT_CASES, ids=[" ".join(c[0][-2:]) for c in
                                                           DEFAULT_CASES])
def test_explicit_defaults_and_flags_that_do_not_apply(locus_bin, tmp_path, args, words):
    expect_2(locus_bin, args, words, cwd=tmp_path)


def test_n_points_with_files_is_refused(locus_bin, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((4, 2)))
    np.save(tmp_path / "y.npy", np.ones((4, 1)))
    expect_2(locus_bin, ["eval", "--arch", "2,3,1", "--x", tmp_path / "x.npy", "--y",
                         tmp_path / "y.npy", "--n-points", "2"], ["--n-points", "--x/--y"])


# --- unknown names ----------------------------------------------------------------------------

def test_unknown_verb_and_study_are_named(locus_bin, tmp_path):
    expect_2(locus_bin, ["trian", "--arch", "4,2,3"], ["unknown command 'trian'", "train"])
    expect_2(locus_bin, ["reproduce", "--only", "coooper", "--out", tmp_path / "r"],
             ["coooper", "cooper"])
    assert not (tmp_path / "r").exists()


# --- messages from deep layers name the file ----------------------------------------------------

def test_file_problems_name_the_file(locus_bin, tmp_path, write_safetensors):
    write_safetensors(tmp_path / "act.safetensors", [("0.weight", np.ones((3, 4))),
                                               ("0.bias", np.ones(3))], {"activation": "swishy"})
    expect_2(locus_bin, ["eval", "--params", tmp_path / "act.safetensors", *IRIS],
             ["act.safetensors", "swishy"])
    write_safetensors(tmp_path / "zero.safetensors", [("0.weight", np.ones((0, 4)))],
                {"activation": "tanh"})
    expect_2(locus_bin, ["eval", "--params", tmp_path / "zero.safetensors", *IRIS],
             ["zero.safetensors"])
    write_safetensors(tmp_path / "index.safetensors", [("99999999999999999999999.weight",
                                                 np.ones((3, 4)))], {"activation": "tanh"})
    expect_2(locus_bin, ["eval", "--params", tmp_path / "index.safetensors", *IRIS],
             ["index.safetensors", "99999999999999999999999"])


def test_train_init_takes_the_activation_flag(locus_bin, tmp_path, write_safetensors):
    """--init gives parameters only: a file without activation metadata is accepted with
    --activation (the flag the user gave), as --params is."""
    rng = np.random.default_rng(0)
    write_safetensors(tmp_path / "init.safetensors", [("0.weight", rng.normal(size=(2, 4))),
                                                ("0.bias", np.zeros(2)),
                                                ("2.weight", rng.normal(size=(3, 2))),
                                                ("2.bias", np.zeros(3))], {})
    rc, _, err = run(locus_bin, "train", "--arch", "4,2,3", "--activation", "tanh", *IRIS,
                     "--init", tmp_path / "init.safetensors", "--method", "lm", "--opt",
                     "max_iterations=2", "--save", tmp_path / "t.safetensors")
    assert rc == 0, err


# --- a failed command leaves an existing output as it was --------------------------------------

SENTINEL = b"existing output, must survive a failed command\n"


def writing_verbs(cooper, tmp_path):
    """One failing run per writing verb, each aimed at an existing file `out`."""
    out = tmp_path / "out"
    model = ["--params", cooper / "m.safetensors"]
    return {
        # Failure after the work: the walk stops short (too few steps for its minimum length).
        "walk": (["walk", *model, *IRIS, "--steps", "1", "--min-length", "1e6",
                  "--out", out.with_suffix(".csv")], out.with_suffix(".csv")),
        # Duplicate inputs: the construction is refused after the data are read.
        "construct": (["construct", "cooper", "--x", tmp_path / "dup_x.npy", "--y",
                       tmp_path / "dup_y.npy", "--save", out.with_suffix(".safetensors")],
                      out.with_suffix(".safetensors")),
        "train": (["train", "--arch", "4,2,3", *IRIS, "--method", "nonsense", "--save",
                   out.with_suffix(".safetensors")], out.with_suffix(".safetensors")),
        "data convert": (["data", "convert", "--dataset", "iris", "--n-points", "100000",
                          "--out-x", out.with_suffix(".npy"), "--out-y", tmp_path / "y.npy"],
                         out.with_suffix(".npy")),
        "symmetry split": (["symmetry", "split", *model, "--layer", "0", "--neuron", "99",
                            "--fractions", "0.5,0.5", "--save", out.with_suffix(".npy")],
                           out.with_suffix(".npy")),
        "study run": (["study", "run", "--study", "cooper", "--set", "seed=-1", "--out",
                       tmp_path], tmp_path / "result.json"),
    }


@pytest.mark.parametrize("verb", ["walk", "construct", "train", "data convert", "symmetry split",
                                  "study run"])
def test_failed_command_leaves_existing_output_unchanged(locus_bin, cooper, tmp_path, verb):
    np.save(tmp_path / "dup_x.npy", np.ones((3, 2)))
    np.save(tmp_path / "dup_y.npy", np.ones((3, 1)))
    args, target = writing_verbs(cooper, tmp_path)[verb]
    target.write_bytes(SENTINEL)
    before = set(os.listdir(tmp_path))
    rc, out, err = run(locus_bin, *args)
    assert rc in (1, 2), (rc, out, err)
    assert target.read_bytes() == SENTINEL, err
    assert sorted(set(os.listdir(tmp_path)) - before) == [], err


# --- integers: no silent narrowing in the options layer ----------------------------------------

def test_integers_too_large_for_their_field_are_refused(locus_bin, cooper, tmp_path):
    # 10^12 in an int field used to wrap to -727379968 and be refused with that number.
    err = expect_2(locus_bin, ["walk", "--params", cooper / "m.safetensors", *IRIS,
                               "--line-points", "1000000000000"],
                   ["--line-points", "1000000000000", "2147483647"])
    assert "-727379968" not in err
    # 2^32 + 1 used to wrap to depth 1 and run a depth-1 construction without a word.
    expect_2(locus_bin, ["construct", "cooper", *IRIS, "--depth", "4294967297", "--save",
                         tmp_path / "c.safetensors"], ["--depth", "4294967297"])
    assert not (tmp_path / "c.safetensors").exists()
    # Beyond 64 bits, as digits or as a number in exponent form.
    expect_2(locus_bin, ["walk", "--params", cooper / "m.safetensors", *IRIS, "--steps",
                         "99999999999999999999"], ["--steps", "99999999999999999999", "range"])
    expect_2(locus_bin, ["walk", "--params", cooper / "m.safetensors", *IRIS, "--steps", "1e30"],
             ["--steps", "1e+30", "range"])


def test_integers_are_read_exactly(locus_bin, cooper):
    # 2^53 + 1 read through a double is 2^53: the seed in the context must be the one typed.
    rc, out, err = run(locus_bin, "walk", "--params", cooper / "m.safetensors", *IRIS, "--steps",
                       "2", "--seed", "9007199254740993", "--json")
    assert rc == 0, err
    assert json.loads(out)["context"]["options"]["walk"]["seed"] == 9007199254740993


STUDY_RANGE_CASES = [
    ({"walk_steps": 1e12}, ['"walk_steps"', "1000000000000", "2147483647"]),
    ({"walk_steps": 1e30}, ['"walk_steps"', "range"]),
    ({"seed": 18446744073709551615}, ['"seed"', "18446744073709551615", "range"]),
]


@pytest.mark.parametrize("options,words", STUDY_RANGE_CASES,
                         ids=[str(c[0]) for c in STUDY_RANGE_CASES])
def test_study_file_integers_out_of_range(locus_bin, tmp_path, options, words):
    f = tmp_path / "opts.json"
    f.write_text(json.dumps({"study": "cooper", **options}))
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s"], ["opts.json", *words])
    assert not (tmp_path / "s").exists()


def test_study_run_memory_refusal_names_the_run_and_key(locus_bin, tmp_path):
    f = tmp_path / "big.json"
    f.write_text(json.dumps({"study": "cooper", "runs": "p=2,h=8,d=6; p=2,h=8,d=1000000000",
                             "walk_run": -1}))
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s", "--max-memory", "1"],
             ["big.json", '"runs" entry 1', "'p=2,h=8,d=1000000000'", "(d = 1000000000)",
              "GiB"])
    f.write_text(json.dumps({"study": "cooper", "runs": "p=2,h=1000000000,d=6,method=lm",
                             "walk_run": -1}))
    expect_2(locus_bin, ["study", "run", f, "--out", tmp_path / "s", "--max-memory", "1"],
             ["big.json", '"runs" entry 0', "(h = 1000000000)", "GiB"])


# --- --strict: the results are written before the exit status says a claim failed --------------

def test_study_run_strict_writes_its_results_before_exit_1(locus_bin, tmp_path):
    out = tmp_path / "s"
    rc, stdout, err = run(locus_bin, "study", "run", "--study", "cooper", "--out", out,
                          "--set", "runs=p=2,h=8,d=6", "--set", "walk_run=0", "--set",
                          "walk_steps=3", "--set", "walk_min_length=1e6", "--strict")
    assert rc == 1, (stdout, err)
    assert "--strict" in err
    result = json.loads((out / "result.json").read_text())
    assert list(result)[0] == "context"
    verdicts = {c["id"]: c["verdict"] for c in result["claims"]}
    assert verdicts["walk"] == "fails"
    assert (out / "runs.csv").read_text().startswith("run,")


# --- several outputs: all replaced or none -------------------------------------------------------

def test_data_convert_changes_no_output_when_the_second_fails(locus_bin, tmp_path):
    x = tmp_path / "x.npy"
    x.write_bytes(SENTINEL)
    # A file name of 250 characters passes the early writability check, but its temporary
    # (name + ".tmp.<pid>.<n>.npy") is longer than NAME_MAX (255): writing --out-y fails after
    # --out-x has been written. Before the staged write, --out-x was already replaced then.
    y = tmp_path / ("y" * 246 + ".npy")
    before = set(os.listdir(tmp_path))
    rc, out, err = run(locus_bin, "data", "convert", "--dataset", "iris", "--out-x", x,
                       "--out-y", y)
    assert rc in (1, 2), (rc, out, err)
    assert "y" * 246 in err
    assert x.read_bytes() == SENTINEL
    assert set(os.listdir(tmp_path)) == before
    # The same command with a writable --out-y replaces both.
    rc, out, err = run(locus_bin, "data", "convert", "--dataset", "iris", "--out-x", x,
                       "--out-y", tmp_path / "y.npy")
    assert rc == 0, err
    assert np.load(x).shape == (150, 4) and np.load(tmp_path / "y.npy").shape[0] == 150
    assert sorted(os.listdir(tmp_path)) == sorted(before | {"y.npy"})


# --- the verbs of dropout, paths and basins: sizes, failed runs, several outputs ---------------

def test_dropout_and_path_sizes_are_checked_before_memory_is_taken(locus_bin, tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=19))  # [4, 2, 3]: 4*2 + 2 + 2*3 + 3
    np.save(tmp_path / "b.npy", rng.normal(size=19))
    arch = ["--arch", "4,2,3", "--activation", "tanh", "--params", tmp_path / "a.npy", *IRIS,
            "--max-memory", "1"]
    # 10^12 keep sets, a gap and a loss each (about 14900 GiB): refused before the network is read.
    expect_2(locus_bin, ["dropout", "evaluate", *arch, "--kept", "1", "--samples",
                         "1000000000000"], ["--samples", "1000000000000", "GiB"])
    # A band of 10^9 images of 19 parameters.
    expect_2(locus_bin, ["path", "neb", *arch, "--params-end", tmp_path / "b.npy", "--images",
                         "1000000000"], ["--images = 1000000000", "GiB", "--max-memory"])
    # A 2-D slice of 10^5 x 10^5 losses.
    expect_2(locus_bin, ["path", "slice", *arch, "--dims", "2", "--points", "100000"],
             ["--points = 100000", "GiB", "--max-memory"])
    expect_2(locus_bin, ["path", "fit", *arch, "--params-end", tmp_path / "b.npy", "--kind",
                         "polychain", "--bends", "1000000000"], ["--bends = 1000000000", "GiB"])
    expect_2(locus_bin, ["path", "profile", *arch, "--params-end", tmp_path / "b.npy",
                         "--points", "1000000000"], ["--points = 1000000000", "GiB"])
    # The profiles' grid is an int: 2^32 + 1 used to narrow to 1 and be refused as "got 1".
    expect_2(locus_bin, ["path", "dropout", *arch, "--mean-field", "--params-end",
                         tmp_path / "b.npy", "--profile-points", "4294967297"],
             ["--profile-points", "4294967297"])


def test_diverged_dropout_training_writes_nothing(locus_bin, tmp_path):
    out = tmp_path / "net.safetensors"
    out.write_bytes(SENTINEL)
    rc, stdout, err = run(locus_bin, "dropout", "train", "--arch", "3,8,1", "--activation",
                          "tanh", "--mean-field", "--dataset", "teacher", "--teacher-arch",
                          "3,2,1", "--n-points", "50", "--steps", "200", "--step", "1e30",
                          "--save", out)
    assert rc == 1, (stdout, err)
    assert "diverged" in stdout + err and "not written" in err
    assert out.read_bytes() == SENTINEL


# path profile, fit and neb and symmetry swap-path write a table and an .npy (and neb a model):
# a failure writing the last leaves the first as it was (the 250-character name as above).
def staged_verbs(tmp_path, first, long_name):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "a.npy", rng.normal(size=19))  # [4, 2, 3]
    np.save(tmp_path / "b.npy", rng.normal(size=19))
    ends = ["--arch", "4,2,3", "--activation", "tanh", "--params", tmp_path / "a.npy",
            "--params-end", tmp_path / "b.npy", *IRIS]
    return {
        "path profile": ["path", "profile", *ends, "--save-vertices", first, "--out",
                         long_name.with_suffix(".csv")],
        "path fit": ["path", "fit", *ends, "--kind", "polychain", "--save-control", first,
                     "--out", long_name.with_suffix(".csv")],
        "path neb": ["path", "neb", *ends, "--images", "4", "--save-vertices", first, "--out",
                     long_name.with_suffix(".csv")],
    }


@pytest.mark.parametrize("verb", ["path profile", "path fit", "path neb"])
def test_path_verbs_change_no_output_when_the_second_fails(locus_bin, tmp_path, verb):
    first = tmp_path / "first.npy"
    long_name = tmp_path / ("o" * 246)
    args = staged_verbs(tmp_path, first, long_name)[verb]
    first.write_bytes(SENTINEL)
    before = set(os.listdir(tmp_path))
    rc, out, err = run(locus_bin, *args)
    assert rc in (1, 2), (rc, out, err)
    assert "o" * 246 in err
    assert first.read_bytes() == SENTINEL
    assert set(os.listdir(tmp_path)) == before
