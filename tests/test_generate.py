"""generate_img: version parsing, snapshot lookup, same seed same bytes, GIF frames, export reload."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import merged, tiny_hparams
from wgan import config, generate, runs
from wgan.train import loop as training
from wgan.errors import ConfigError, RunError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


@pytest.mark.parametrize("text, expected", [("2", (2, None)), ("2.0", (2, 0)), ("2.1", (2, 1)), ("2.10", (2, 10)),
                                            (" 3 ", (3, None))])
def test_parse_version(text, expected):
    assert generate.parse_version(text) == expected


@pytest.mark.parametrize("text", ["x", "-1", "0", "", "2.", ".1", "2.1.1", "2.-1", "1e3"])
def test_parse_version_rejects(text):
    with pytest.raises(RunError, match="is not RUN or RUN.SNAPSHOT"):
        generate.parse_version(text)


def tiny_hp(toy=False, **values):
    return tiny_hparams("wgan-gp", "8gaussians" if toy else "digits",
                        **merged({"snapshot_every": 2, "histogram_every": 1000}, values))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A digits run with three snapshots (steps 2, 4, 6); records built from the bundled digits."""
    base = tmp_path_factory.mktemp("gen")
    hp = tiny_hp(ema_decay=0.9)
    _, vdir, hp, lock, _ = runs.open_run(str(base / "checkpoint"), hp)
    with lock:
        training.train(hp, vdir, 6, records_root=str(base / "records"), progress=False)
    return base, hp


def generate_cmd(base, *args):
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", "generate_img.py"), "-m", "wgan-gp",
                           "--data", "digits", "-r", "16", "--checkpoint_dir", str(base / "checkpoint"), *args],
                          capture_output=True, text=True, env=ENV, cwd=str(base), timeout=300)


def test_snapshot_lookup_and_errors(trained):
    base, hp = trained
    root = runs.run_root(str(base / "checkpoint"), hp)
    assert [generate.find_checkpoint(root, f"1.{i}").step for i in range(3)] == [2, 4, 6]
    assert generate.find_checkpoint(root, "1").step == 6
    with pytest.raises(RunError, match=r"no run v2 in .*; existing: v1"):
        generate.find_checkpoint(root, "2")
    with pytest.raises(RunError, match=r"run v1 has no snapshot 10; its snapshots are 0..2"):
        generate.find_checkpoint(root, "1.10")


def test_ema_weights_are_restored(trained):
    base, hp = trained
    import tensorflow as tf
    restored = generate.find_checkpoint(runs.run_root(str(base / "checkpoint"), hp), "1")
    generator = generate.load_generator(restored)
    reader = tf.train.load_checkpoint(restored.path)
    names = [n for n in reader.get_variable_to_shape_map() if n.startswith("ema_generator/") and "kernel" in n]
    kernels = sorted((reader.get_tensor(n) for n in names), key=lambda a: a.size)
    ours = sorted((v.numpy() for v in generator.variables if "kernel" in v.path), key=lambda a: a.size)
    assert any(np.array_equal(kernels[0], o) for o in ours)


def test_same_seed_same_bytes_and_all_outputs(trained, tmp_path):
    base, hp = trained
    outs = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        proc = generate_cmd(base, "-v", "1.1", "--seed", str(seed), "--output", str(tmp_path / name), "--num", "8",
                            "--rows", "2", "--individual", "--interpolate", "--steps", "5", "--gif")
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append((tmp_path / name / "wgan-gp-digits-r16-v1.1-samples.png").read_bytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]
    grid = Image.open(tmp_path / "a" / "wgan-gp-digits-r16-v1.1-samples.png")
    assert grid.size == (4 * 16 + 5 * 2, 2 * 16 + 3 * 2)  # 2 rows x 4 columns with a 2-pixel margin
    assert len(os.listdir(tmp_path / "a" / "wgan-gp-digits-r16-v1.1-samples")) == 8
    assert Image.open(tmp_path / "a" / "wgan-gp-digits-r16-v1.1-interpolation.png").size == (5 * 16 + 6 * 2, 2 * 16 + 3 * 2)
    gif = Image.open(tmp_path / "a" / "wgan-gp-digits-r16-v1-progress.gif")
    assert gif.n_frames == 3  # one per snapshot


def test_list_and_missing_version_messages(trained):
    base, _ = trained
    listing = generate_cmd(base, "--list")
    assert listing.returncode == 0
    assert "v1  (newest checkpoint at step 6" in listing.stdout
    assert "1.2" in listing.stdout and "step       6" in listing.stdout
    missing = generate_cmd(base, "-v", "1.7")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "run v1 has no snapshot 7; its snapshots are 0..2" in missing.stderr
    bad = generate_cmd(base, "-v", "x")
    assert bad.returncode == 1 and "version 'x' is not RUN or RUN.SNAPSHOT" in bad.stderr


def test_export_reloads_without_wgan(trained, tmp_path):
    base, _ = trained
    proc = generate_cmd(base, "-v", "1", "--export", str(tmp_path / "export"), "--output", str(tmp_path / "fig"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    script = f"""
import sys, numpy as np, tensorflow as tf, keras
sys.modules["wgan"] = None  # any import of the toolkit would fail
loaded = tf.saved_model.load({str(tmp_path / 'export' / 'saved_model')!r})
z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
a = loaded.generate(z).numpy()
b = loaded.signatures["serving_default"](z=tf.constant(z))
b = list(b.values())[0].numpy()
u = loaded.generate_uint8(z).numpy()
k = keras.saving.load_model({str(tmp_path / 'export' / 'generator.keras')!r})(z).numpy()
assert a.shape == (3, 16, 16, 1) and u.dtype == np.uint8 and -1 <= a.min() and a.max() <= 1
np.testing.assert_allclose(a, b, atol=1e-6); np.testing.assert_allclose(a, k, atol=1e-5)
latents = loaded.latent(tf.constant(5), tf.constant([1, 2], tf.int64)).numpy()
assert latents.shape == (5, 8) and np.array_equal(latents, loaded.latent(5, tf.constant([1, 2], tf.int64)).numpy())
print("ok")
"""
    env = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                           cwd=str(tmp_path), timeout=300)
    assert check.stdout.strip().endswith("ok"), check.stderr[-2000:]


def test_toy_run_plots_points_and_contours(tmp_path):
    hp = tiny_hp(toy=True)
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path), hp)
    with lock:
        training.train(hp, vdir, 4, progress=False)
    root = runs.run_root(str(tmp_path), hp)
    frame = generate.toy_frame(generate.find_checkpoint(root, "1.0"), 256, seed=0)
    assert frame.dtype == np.uint8 and frame.shape[2] == 3 and frame.std() > 0
    assert len(generate.progress_frames(root, 1, 256, 4, 0)) == 2


def test_slerp_keeps_ends_and_norm():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    path = generate.slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)


def test_a_run_trained_with_hparams_reopens_without_them(tmp_path):
    """generate_img and evaluate find the run from its folder alone (issue 15)."""
    hp = tiny_hp(data={"name": "digits", "crop": None, "resize": 12, "channels": 1, "shuffle_buffer": 64})
    own = tmp_path / "mine.json"
    own.write_text(hp.to_json())
    checkpoint = tmp_path / "checkpoint"
    _, vdir, hp, lock, _ = runs.open_run(str(checkpoint), config.load(str(own)))
    with lock:
        training.train(hp, vdir, 2, records_root=str(tmp_path / "records"), progress=False)
    own.unlink()  # the file is gone; the shipped digits file says resize 16, not 12
    common = ["-m", "wgan-gp", "--data", "digits", "--checkpoint_dir", str(checkpoint), "-v", "1"]
    out = subprocess.run([sys.executable, os.path.join(REPO, "bin", "generate_img.py"), *common, "--num", "4"],
                         capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "figures" / "wgan-gp-digits-r12-v1-samples.png").is_file()
    out = subprocess.run([sys.executable, os.path.join(REPO, "bin", "evaluate.py"), *common, "--num", "8",
                          "--metrics", "fid", "--extractor", "random", "--records_dir", str(tmp_path / "records"),
                          "--reference_num", "16", "--json"],
                         capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert out.returncode == 0, out.stderr
    assert '"step": 2' in out.stdout and '"fid"' in out.stdout


def test_several_runs_of_one_model_and_data_ask_for_c_or_r(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    for side in (12, 14):
        hp = tiny_hp(data={"name": "digits", "crop": None, "resize": side, "channels": 1})
        runs.open_run(str(checkpoint), hp)[3].release()
    assert [os.path.basename(p) for p in runs.find_run_roots(str(checkpoint), "wgan-gp", "digits")] == \
        ["wgan-gp-digits-r12", "wgan-gp-digits-r14"]
    assert runs.find_run_roots(str(checkpoint), "wgan-gp", "digits", resize=14) == [
        str(checkpoint / "wgan-gp-digits-r14")]
    assert runs.find_run_roots(str(checkpoint), "wgan", "digits") == []
    with pytest.raises(RunError, match=r"several runs of wgan-gp on digits in .*: wgan-gp-digits-r12, "
                                       r"wgan-gp-digits-r14; choose one with -c/-r"):
        runs.existing_root(str(checkpoint), "wgan-gp", "digits")
    assert runs.existing_root(str(checkpoint), "wgan-gp", "digits", resize=12) == str(checkpoint / "wgan-gp-digits-r12")
    # No run and no file: the file's own error.
    with pytest.raises(ConfigError, match="hyperparameter file not found"):
        runs.existing_root(str(checkpoint), "wgan-gp", "no_such_data")


# ----- class-conditional runs (docs/conditional.md) ------------------------------------------------
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def conditional_hp(names=FASHION, frequencies=None, **values):
    return tiny_hp(conditional={"enabled": True, "class_names": list(names), "class_frequencies": frequencies},
                   **values)


def conditional_generator(hp, seed=0):
    """A hand-made generator of the conditional contract: [z float32 [B, z_dim], labels int32 [B]] -> [B, 16, 16, 1]
    in [-1, 1]; the label enters through an embedding, so labels change the output."""
    import keras

    z = keras.Input((hp.z_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    spread = keras.initializers.RandomNormal(stddev=2.0, seed=seed)
    embedded = keras.layers.Embedding(hp.conditional.num_classes, hp.z_dim, embeddings_initializer=spread)(labels)
    x = keras.layers.Dense(16 * 16, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(
        keras.layers.Concatenate()([z, embedded]))
    return keras.Model([z, labels], keras.layers.Reshape((16, 16, 1))(x), name="conditional_generator")


@pytest.mark.parametrize("text, label", [("7", 7), ("sneaker", 7), ("SNEAKER", 7), (" Ankle Boot ", 9), ("0", 0),
                                         ("t-shirt/top", 0), ("top", 0), ("9", 9)])
def test_a_class_by_name_any_case_or_by_label(text, label):
    assert generate.resolve_class(conditional_hp(), text) == label


def test_a_class_named_by_a_number_is_that_name_before_a_label():
    assert generate.resolve_class(conditional_hp(["3", "7"]), "7") == 1
    assert generate.resolve_class(conditional_hp(["3", "7"]), "0") == 0  # no class named 0: the label


def test_several_classes_all_and_unknown_ones():
    hp = conditional_hp()
    assert generate.resolve_classes(hp, "all") == list(range(10))
    assert generate.resolve_classes(hp, "ALL") == list(range(10))
    assert generate.resolve_classes(hp, "sneaker,sandal,7") == [7, 5]
    with pytest.raises(ConfigError) as unknown:
        generate.resolve_classes(hp, "sandal,giraffe")
    message = str(unknown.value)
    assert "class 'giraffe' is not one of the run's 10 classes: 0 T-shirt/top, 1 Trouser" in message
    assert "9 Ankle boot" in message and "\n" not in message
    with pytest.raises(ConfigError, match="is not one of"):
        generate.resolve_class(hp, "10")  # labels are 0..9
    with pytest.raises(RunError, match=r"run wgan-gp-digits-r16 is not class-conditional .*leave out --class"):
        generate.resolve_classes(tiny_hp(), "7")


def test_class_figures_hold_the_class_or_z_fixed():
    hp = conditional_hp(frequencies=[0.0] * 9 + [1.0])
    generator = conditional_generator(hp)
    sneakers = generate.samples(generator, hp, 6, seed=3, label=generate.resolve_class(hp, "Sneaker"))
    z = generate.latent(hp, 6, 3)
    np.testing.assert_array_equal(sneakers, generate.samples_from(generator, z, np.full(6, 7, np.int32)))
    assert not np.array_equal(sneakers, generate.samples_from(generator, z, np.full(6, 5, np.int32)))
    # Without a class: labels at the training frequencies (here all of class 9).
    np.testing.assert_array_equal(generate.samples(generator, hp, 6, seed=3),
                                  generate.samples_from(generator, z, np.full(6, 9, np.int32)))
    # --class all: one row per class; a column holds its z through the classes.
    pictures, rows = generate.figure_samples(generator, hp, 8, 2, seed=3, classes=generate.resolve_classes(hp, "all"))
    assert rows == 10 and pictures.shape == (10 * 4, 16, 16, 1)
    np.testing.assert_array_equal(pictures[7 * 4:8 * 4], generate.samples(generator, hp, 4, seed=3, label=7))
    # Interpolation between two classes: one row per class along one shared path, columns with z fixed.
    z, labels = generate.interpolation_inputs(hp, 3, 5, seed=1, classes=[7, 5])
    assert z.shape == (10, hp.z_dim) and labels.tolist() == [7] * 5 + [5] * 5
    np.testing.assert_array_equal(z[:5], z[5:])
    z, labels = generate.interpolation_inputs(hp, 3, 5, seed=1, classes=[7])
    assert z.shape == (15, hp.z_dim) and set(labels.tolist()) == {7}
    np.testing.assert_array_equal(z, generate.interpolation_latents(hp, 3, 5, 1))


def test_an_unconditional_generator_is_sampled_as_before(trained):
    base, hp = trained
    generator = generate.load_generator(generate.find_checkpoint(runs.run_root(str(base / "checkpoint"), hp), "1"))
    z = generate.latent(hp, 4, 0)
    np.testing.assert_array_equal(generate.samples(generator, hp, 4, 0), generate.samples_from(generator, z))
    assert generate.interpolation_inputs(hp, 2, 3, 0)[1] is None
    with pytest.raises(RunError, match="not class-conditional"):
        generate.samples(generator, hp, 4, 0, label=1)


def test_class_flag_errors_are_one_line(trained, tmp_path):
    base, _ = trained
    unconditional = generate_cmd(base, "-v", "1", "--class", "7", "--output", str(tmp_path / "a"))
    assert unconditional.returncode == 1 and "Traceback" not in unconditional.stderr
    assert "is not class-conditional" in unconditional.stderr and not (tmp_path / "a").exists()
    # A conditional run folder (hand-made generator, no training): an unknown class lists the classes.
    import tensorflow as tf
    hp = conditional_hp()
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    tf.train.Checkpoint(generator=conditional_generator(hp)).write(os.path.join(vdir, runs.CKPT_DIR, "ckpt-1"))
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "generate_img.py"), "-m", "wgan-gp", "--data",
                           "digits", "-r", "16", "--checkpoint_dir", str(tmp_path / "checkpoint"), "-v", "1",
                           "--class", "giraffe", "--output", str(tmp_path / "b")],
                          capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if "giraffe" in line]
    assert len(lines) == 1 and "0 T-shirt/top, 1 Trouser, 2 Pullover" in lines[0] and "9 Ankle boot" in lines[0]


def test_conditional_export_maps_z_and_labels_without_wgan(tmp_path):
    # Exported in a process of its own: tf.saved_model.save in this one leaves the logging state so that
    # later tests' caplog sees nothing (tests/test_folder_evaluation.py), as the CLI export test avoids too.
    exporter = f"""
import sys
sys.path.insert(0, {os.path.join(REPO, 'tests')!r})
from test_generate import conditional_generator, conditional_hp
from wgan import generate
hp = conditional_hp(frequencies=[0.0, 0.5, 0.0, 0.5] + [0.0] * 6)
generate.export(conditional_generator(hp), hp, {str(tmp_path / 'export')!r})
"""
    made = subprocess.run([sys.executable, "-c", exporter], capture_output=True, text=True, env=ENV,
                          cwd=str(tmp_path), timeout=300)
    assert made.returncode == 0, made.stderr[-2000:]
    script = f"""
import sys, numpy as np, tensorflow as tf, keras
sys.modules["wgan"] = None  # any import of the toolkit would fail
loaded = tf.saved_model.load({str(tmp_path / 'export' / 'saved_model')!r})
z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
sneaker, sandal = np.full(3, 7, np.int32), np.full(3, 5, np.int32)
a = loaded.generate(z, sneaker).numpy()
b = list(loaded.signatures["serving_default"](z=tf.constant(z), labels=tf.constant(sneaker)).values())[0].numpy()
u = loaded.generate_uint8(z, sneaker).numpy()
k = keras.saving.load_model({str(tmp_path / 'export' / 'generator.keras')!r})([z, sneaker]).numpy()
assert a.shape == (3, 16, 16, 1) and u.dtype == np.uint8 and -1 <= a.min() and a.max() <= 1
np.testing.assert_allclose(a, b, atol=1e-6); np.testing.assert_allclose(a, k, atol=1e-5)
assert np.abs(a - loaded.generate(z, sandal).numpy()).max() > 0.01  # the label changes the images
seed = tf.constant([1, 2], tf.int64)
labels = loaded.labels(tf.constant(400), seed).numpy()
assert labels.dtype == np.int32 and labels.shape == (400,) and set(labels.tolist()) == {{1, 3}}  # the frequencies
assert np.array_equal(labels, loaded.labels(400, seed).numpy()) and 150 < (labels == 1).sum() < 250
assert loaded.latent(tf.constant(5), seed).numpy().shape == (5, 8)
names = [n.decode() for n in loaded.class_names.numpy()]
assert names[7] == "Sneaker" and int(loaded.num_classes) == 10 and bool(loaded.conditional)
print("ok")
"""
    env = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                           cwd=str(tmp_path), timeout=300)
    assert check.stdout.strip().endswith("ok"), check.stderr[-2000:]
