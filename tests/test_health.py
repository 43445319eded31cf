"""Training health: each detector fires on a run made to fail that way, a healthy run trips nothing."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from conftest import merged, tiny_hparams
from wgan import config, data, recipe, runs
from wgan.util import files
from wgan.util.cpus import bfloat16_units
from wgan.train import health, loop
from wgan.gan.model import GAN
from wgan.metrics.toy import modes_reached

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def toy_hp(model="wgan-gp", **values):
    """A small MLP on 8gaussians: an iteration takes milliseconds."""
    hp = {"architecture": {"base_width": 32, "g_norm": "none"}, "batch_size": 64, "z_dim": 2, "n_critic": 2,
          "gp_lambda": 0.1, "seed": 1, "sample_every": 1000, "histogram_every": 1000, "checkpoint_every": 1000,
          "snapshot_every": 1000}
    return tiny_hparams(model, "8gaussians", **merged(hp, values))


def new_run(tmp_path, hp):
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    return vdir


def trips(vdir):
    """[(detector, since, step)] of every trip in the run's health.jsonl."""
    return [(r["detector"], r["since"], r["step"]) for r in runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE))
            if r["event"] == "trip"]


def health_lines(text):
    return [line for line in text.splitlines() if line.startswith("health: ")]


def test_stalled_fires_when_the_learning_rates_are_zero(tmp_path, capsys):
    zero = {"learning_rate": 0.0}
    hp = toy_hp(g_optimizer=zero, c_optimizer=zero, eval_every=2, health={"stall_patience": 2})
    vdir = new_run(tmp_path, hp)
    result = loop.train(hp, vdir, 6, progress=False)
    assert [t[0] for t in trips(vdir)] == ["stalled"] and result["health"] == ["stalled"]
    record = runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE))[0]
    assert record["step"] == 6 and record["since"] == 6 and record["threshold"]["stall_patience"] == 2
    assert record["values"]["evals_since_best"] == 2 and record["values"]["metric"] == "w1"
    assert record["values"]["current"] > hp.health.stall_far * record["values"]["real_score"]
    lines = health_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "stalled since step 6: w1" in lines[0] and "best so far: v1.best (step 2" in lines[0]


def test_diverging_fires_when_the_critic_scores_are_scaled_up_every_step(tmp_path, monkeypatch, capsys):
    iterate = GAN.train_block  # the loop's call: one iteration per call here, as a log ends every block (log_every 1)

    def scaled(self, iterator, iterations, n_critic):
        out = iterate(self, iterator, iterations, n_critic)
        for variable in self.critic.get_layer("score").trainable_variables:  # the final linear layer: scores x 2
            variable.assign(variable * 2.0)
        return out

    monkeypatch.setattr(GAN, "train_block", scaled)
    hp = toy_hp(health={"diverge_baseline": 5, "diverge_patience": 2})
    vdir = new_run(tmp_path, hp)
    loop.train(hp, vdir, 25, progress=False)
    (record,) = runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE))
    assert record["detector"] == "diverging" and record["event"] == "trip"
    assert record["values"]["ratio"] > hp.health.diverge_factor == record["threshold"]["diverge_factor"]
    # 2^k passes the factor 50 around k = 6 after the 5 baseline steps; it trips before any NaN.
    assert 6 <= record["since"] <= 15 and record["step"] == record["since"] + 1
    lines = health_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "diverging since step" in lines[0] and "early median" in lines[0]
    assert "no evaluated snapshot yet" in lines[0]


def test_mode_collapse_fires_when_every_latent_maps_to_nearly_one_output(tmp_path, monkeypatch):
    iterate = GAN.train_block

    def collapsing(self, iterator, iterations, n_critic):
        out = iterate(self, iterator, iterations, n_critic)
        if int(self.step) >= 20:  # from step 20 on, the latent barely reaches the output
            kernel = self.generator.get_layer("hidden1").kernel
            kernel.assign(kernel * 1e-3)
        return out

    monkeypatch.setattr(GAN, "train_block", collapsing)
    hp = toy_hp(eval_every=10, architecture={"initializer": "he_normal"})  # spread from the start
    vdir = new_run(tmp_path, hp)
    loop.train(hp, vdir, 30, progress=False)
    assert [t[:2] for t in trips(vdir)] == [("mode_collapse", 20)]
    record = runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE))[0]
    assert record["step"] == 30 and record["values"]["spread_ratio"] < 1e-3 * record["values"]["peak_spread_ratio"]
    logged = [r for r in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE)) if "health/spread_ratio" in r]
    assert [r["step"] for r in logged] == [10, 20, 30]


def _coverage(covered, best_covered, quality, total=8, unit="modes", peak_quality=None):
    """Signals of one evaluation whose spread is as wide as the real one (so only coverage speaks)."""
    signals = {"spread_ratio": 1.0, "peak_spread_ratio": 1.0, "space": "points", "covered": covered,
               "best_covered": best_covered, "total": total, "unit": unit}
    if quality is not None:
        signals.update(quality=quality, peak_quality=max(quality, peak_quality or 0.0))
    return signals


def test_mode_collapse_fires_on_sharp_samples_from_few_modes_that_never_covered_all():
    """The 8gaussians DCGAN of the study: 2 of 8 modes at a high-quality share of 0.49, full coverage never reached."""
    detector = health.ModeCollapse(config.HealthConfig())
    holds, values, threshold = detector.check(_coverage(2, 2, 0.494))
    assert holds and values["missing"] == 6 and threshold == {"fall_from_peak": 0.25, "missing_share": 0.25,
                                                              "quality": 0.3}
    assert "2 of 8 modes covered at a high-quality share of 0.494" in detector.describe(values)
    # tripped on lost modes with the spread at its peak: the line must not say the spread fell
    assert "1 x the real spread (its peak before: 1 x)" in detector.describe(values)
    fell = detector.check({**_coverage(2, 2, 0.494), "spread_ratio": 0.1})[1]
    assert "0.1 x the real spread, down from 1 x at its peak" in detector.describe(fell)
    assert not detector.check(_coverage(2, 2, 0.1))[0]  # blurry early samples: their coverage is chance
    assert detector.check(_coverage(1, 2, 0.23, peak_quality=0.535))[0]  # collapsed, then blurry: still collapsed
    assert not detector.check(_coverage(7, 7, 0.9))[0]  # one mode short of 8 is under a quarter
    assert detector.check(_coverage(6, 8, 0.1))[0]  # once all were covered, losing a quarter counts at any quality
    assert detector.check(_coverage(7, 7, 0.95, total=10, unit="classes"))[0]
    assert "confident share of 0.95" in detector.describe(detector.check(_coverage(7, 7, 0.95, 10, "classes"))[1])
    assert not detector.check(_coverage(2, 2, None))[0]  # a source without a quality score: the other rules only


def test_mode_collapse_does_not_fire_on_a_run_that_covers_more_modes_than_ever():
    """The 25gaussians WGAN-GP of the sweep: sharp from 15 modes on, and gaining at every evaluation."""
    detector = health.ModeCollapse(config.HealthConfig())
    for covered, quality in ((15, 0.38), (16, 0.48), (18, 0.55)):
        assert not detector.check({**_coverage(covered, covered, quality, total=25), "gaining": True})[0]
    assert detector.check({**_coverage(18, 18, 0.55, total=25), "gaining": False})[0]  # it stopped gaining
    assert detector.check({**_coverage(6, 8, 0.9), "gaining": False})[0]  # a lost quarter is a collapse


def test_mode_collapse_counts_a_blurry_toy_mode_lost_only_when_few_points_are_even_nearest_to_it():
    """The 8gaussians WGAN-GP study's seed 4: blur over the whole ring, sharp at only 1 to 2 modes; and the
    8gaussians DCGAN's seed 0, sharp on 2 modes with the rest of its points blurred over all 8 cells."""
    detector = health.ModeCollapse(config.HealthConfig())
    blurred = {**_coverage(1, 7, 0.123, peak_quality=0.465), "spread_ratio": 1.08, "reached": 8}
    holds, values, _ = detector.check(blurred)
    assert not holds and values["missing"] == 0
    assert "1 of 8 modes covered at a high-quality share of 0.123, 8 of 8 the nearest mode of at least 1/32" in (
        detector.describe(values))
    holds, values, _ = detector.check({**blurred, "reached": 2})  # the points gather near two modes: a collapse
    assert holds and values["missing"] == 6
    # Sharp samples are judged by their sharp points: 0.535 of them on 2 modes is a collapse, whatever the blur.
    holds, values, _ = detector.check({**_coverage(2, 2, 0.535), "reached": 7})
    assert holds and values["missing"] == 6 and values["reached"] == 7


def test_modes_reached_counts_the_modes_that_are_nearest_to_a_fair_quarter_share_of_the_points():
    modes = data.toy_modes("8gaussians")
    rng = np.random.default_rng(0)
    ring = rng.uniform(0, 2 * np.pi, 4000)  # blur over the ring: every mode is nearest to about 1/8
    radius = np.linalg.norm(modes[0])
    blur = np.stack([np.cos(ring), np.sin(ring)], axis=1) * radius * rng.uniform(0.5, 1.5, (4000, 1))
    assert modes_reached(blur, "8gaussians") == 8
    two = modes[rng.integers(0, 2, 4000)] + rng.normal(0, 0.3, (4000, 2))  # near modes 0 and 1 only
    assert modes_reached(two, "8gaussians") == 2
    assert modes_reached(np.repeat(modes[:1], 100, axis=0), "8gaussians") == 1


def _fixed_generator_folder(tmp_path, hp, count):
    """PNGs drawn from the run's own (initial) generator: the real data equals the fake distribution."""
    gan = GAN(hp)
    from wgan.generate import latent
    from wgan import visualize

    pictures = data.float_to_uint8(visualize.generate(gan.generator, latent(hp, count, 123)))
    folder = tmp_path / "fixedgen"
    folder.mkdir()
    for i, picture in enumerate(pictures):
        Image.fromarray(picture).save(folder / f"{i:03d}.png")
    return str(folder), gan


def test_critic_overfit_fires_for_a_critic_trained_hard_on_a_few_dozen_images(tmp_path, capsys):
    hp = config.from_dict({
        "model": "wgan-gp", "data": {"name": str(tmp_path / "fixedgen"), "crop": None, "resize": 16, "channels": 3,
                                     "shuffle_buffer": 64},
        "architecture": {"name": "dcgan", "base_width": 16, "g_norm": "none", "initializer": "he_normal"},
        "g_optimizer": {"learning_rate": 0.0}, "c_optimizer": {"learning_rate": 1e-3, "beta_1": 0.0},
        "batch_size": 16, "z_dim": 8, "n_critic": 5, "seed": 2, "log_every": 10, "eval_every": 10,
        "sample_every": 1000, "histogram_every": 1000, "checkpoint_every": 1000, "snapshot_every": 1000})
    folder, gan = _fixed_generator_folder(tmp_path, hp, 96)
    records_root = str(tmp_path / "records")
    data.build_records(folder, resize=16, crop=None, output_dir=records_root, workers=1, progress=False,
                       heldout_per_mille=500)
    vdir = new_run(tmp_path, hp)
    # The run starts from the generator that drew the data; with a zero learning rate it stays fixed.
    tf_checkpoint = gan.checkpoint()
    import tensorflow as tf
    tf.train.CheckpointManager(tf_checkpoint, os.path.join(vdir, loop.CKPT_DIR), 1).save(checkpoint_number=0)
    # 100 iterations: at 50 the gap passed its 3 standard errors twice in a row in about 5 runs of 6.
    loop.train(hp, vdir, 100, records_root=records_root, progress=False)
    found = trips(vdir)
    assert found and found[0][0] == "critic_overfit", found
    record = runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE))[0]
    assert record["values"]["gap_ratio"] > hp.health.overfit_gap
    assert record["values"]["wasserstein_heldout"] < record["values"]["wasserstein_train"]
    assert "critic_overfit since step" in health_lines(capsys.readouterr().err)[0]


def test_a_healthy_shipped_toy_run_trips_nothing(tmp_path):
    shipped = config.resolve("wgan-gp", "8gaussians")
    # As this machine would run the file (wgan.recipe.precision): bfloat16 only where the CPU computes in it.
    precision, _ = recipe.precision(shipped.precision, cpu_bfloat16=bfloat16_units())
    hp = config.apply_overrides(shipped, [("eval_every", 50), ("snapshot_every", 50), ("precision", precision)])
    vdir = new_run(tmp_path, hp)
    result = loop.train(hp, vdir, 150, progress=False)
    assert result["health"] == [] and trips(vdir) == []
    logged = [r for r in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE)) if "health/spread_ratio" in r]
    assert [r["step"] for r in logged] == [50, 100, 150]
    best = runs.read_best(vdir)
    assert best["metric"] == "w1" and best["step"] in (50, 100, 150)


# ----- the held-out split ---------------------------------------------------------------
def _image_folder(path, count):
    """``count`` distinct 12x12 RGB PNGs (a file source, so --workers applies)."""
    rng = np.random.default_rng(5)
    path.mkdir()
    for i in range(count):
        Image.fromarray((rng.random((12, 12, 3)) * 255).astype(np.uint8)).save(path / f"{i:03d}.png")
    return str(path)


def _pixels(folder):
    from wgan.metrics import reference

    return [image.tobytes() for image in reference.read_images(folder)]


def test_heldout_split_is_the_same_for_any_workers_and_never_reaches_training(tmp_path):
    from wgan.data import inputs
    from wgan.data import split

    source = _image_folder(tmp_path / "pics", 60)
    folders = [data.build_records(source, resize=8, crop=None, output_dir=str(tmp_path / f"w{workers}"),
                                  workers=workers, progress=False, heldout_per_mille=250) for workers in (1, 2)]
    manifests = [data.read_manifest(f) for f in folders]
    held = [data.read_manifest(split.heldout_dir(f)) for f in folders]
    assert manifests[0]["heldout"] == manifests[1]["heldout"] and manifests[0]["heldout"]["per_mille"] == 250
    assert [m["shards"] for m in held[0:1]] == [m["shards"] for m in held[1:2]]  # same bytes (sha256)
    assert manifests[0]["shards"] == manifests[1]["shards"]
    count = manifests[0]["heldout"]["count"]
    assert 5 <= count <= 25 and manifests[0]["count"] + count == 60

    # Held out exactly the images whose content digest says so, computed here independently.
    heldout, training_images = _pixels(split.heldout_dir(folders[0])), _pixels(folders[0])
    assert all(split.bucket(p) < 250 for p in heldout) and all(split.bucket(p) >= 250 for p in training_images)

    # The training iterator: every image over several epochs, never a held-out one.
    hp = config.from_dict({"data": {"name": source, "crop": None, "resize": 8, "channels": 3, "shuffle_buffer": 16},
                           "batch_size": 5})
    seen = set()
    for batch in inputs.training_data(hp, str(tmp_path / "w2"), seed=0).dataset.take(40):
        seen.update(image.tobytes() for image in data.float_to_uint8(batch.numpy()))
    assert seen == set(training_images) and not seen & set(heldout)
    assert inputs.heldout_records(hp, str(tmp_path / "w2")) == (split.heldout_dir(folders[1]), None)


def test_a_build_without_heldout_says_how_to_get_one(tmp_path):
    from wgan.data import inputs

    source = _image_folder(tmp_path / "pics", 8)
    data.build_records(source, resize=8, crop=None, output_dir=str(tmp_path), workers=1, progress=False)
    hp = config.from_dict({"data": {"name": source, "crop": None, "resize": 8, "channels": 3}})
    folder, why = inputs.heldout_records(hp, str(tmp_path))
    assert folder is None and "no held-out images" in why and "--overwrite" in why


# ----- -v N.best ------------------------------------------------------------------------
def _fake_run(tmp_path, evaluated):
    """A run folder with snapshots at steps 10, 20, 30 and ``evaluated`` {step: cfid} from training."""
    from wgan.metrics import registry

    vdir = new_run(tmp_path, toy_hp())
    for step in (10, 20, 30):
        for folder, name in ((runs.BEST_DIR, "best"), ("snapshots", "snapshot")):
            os.makedirs(os.path.join(vdir, folder), exist_ok=True)
            open(os.path.join(vdir, folder, f"{name}-{step}.index"), "w").close()
        runs.record_snapshot(vdir, os.path.join(vdir, "snapshots", f"snapshot-{step}"), step, step / 10)
    best = None
    for step, value in evaluated.items():
        if registry.is_better("cfid", value, best):
            best = value
            runs.write_best(vdir, os.path.join(vdir, runs.BEST_DIR, f"best-{step}"), step, step / 10, "cfid", value,
                            False)
    return vdir


def test_best_version_resolves_to_the_best_evaluated_step(tmp_path):
    from wgan import generate

    vdir = _fake_run(tmp_path, {10: 80.0, 20: 31.5, 30: 45.0})
    root = os.path.dirname(vdir)
    restored = generate.find_checkpoint(root, "1.best")
    assert (restored.step, restored.label) == (20, "v1.best")
    assert restored.path == os.path.join(vdir, runs.BEST_DIR, "best-20")
    assert generate.parse_version("1.best") == (1, "best") and generate.parse_version("1.10") == (1, 10)
    runs.append_jsonl(os.path.join(vdir, runs.HEALTH_FILE), {"step": 25, "detector": "stalled", "event": "trip",
                                                             "since": 25})
    listing = generate.describe_runs(root).splitlines()
    assert listing[2].startswith("  1.1 ") and listing[2].endswith("<- best")
    assert "health: stalled (since 25)" in listing[3] and "health" not in listing[2]
    assert listing[4].startswith("  1.best  step      20") and "cfid=31.5" in listing[4]


def test_best_version_of_a_run_without_evaluation_says_what_to_do(tmp_path):
    import subprocess
    import sys

    from wgan import generate
    from wgan.errors import RunError

    vdir = _fake_run(tmp_path, {})
    with pytest.raises(RunError, match=r"run v1 has no evaluation, so no best snapshot: train with --set eval_every"):
        generate.find_checkpoint(os.path.dirname(vdir), "1.best")
    assert "1.best  none: no evaluation yet" in generate.describe_runs(os.path.dirname(vdir))
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "generate_img.py"), "-m", "wgan-gp",
                           "--data", "8gaussians", "--checkpoint_dir", str(tmp_path / "checkpoint"), "-v", "1.best"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO,
                                                                   TF_CPP_MIN_LOG_LEVEL="2"), timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: run v1 has no evaluation")


def test_a_run_stored_before_the_health_group_existed_is_still_resumed(tmp_path):
    hp = toy_hp()
    vdir = new_run(tmp_path, hp)
    stored = json.loads(open(os.path.join(vdir, runs.HPARAMS_FILE)).read())
    del stored["health"]
    files.write_atomic(os.path.join(vdir, runs.HPARAMS_FILE), json.dumps(stored))
    number, _, _, lock, resumed = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    assert (number, resumed) == (1, True)


def test_a_resumed_run_remembers_its_evaluations_and_trips(tmp_path):
    """Stalled across a resume: the evaluations before it count (replayed from metrics.jsonl)."""
    zero = {"learning_rate": 0.0}
    hp = toy_hp(g_optimizer=zero, c_optimizer=zero, eval_every=2, checkpoint_every=2, health={"stall_patience": 2})
    vdir = new_run(tmp_path, hp)
    assert loop.train(hp, vdir, 4, progress=False)["health"] == []  # evaluations at 2, 4: one without gain
    assert loop.train(hp, vdir, 2, progress=False)["health"] == ["stalled"]
    assert trips(vdir) == [("stalled", 6, 6)]
    assert runs.read_best(vdir)["step"] == 2
    # Resumed again: already tripped, so no second line; off, nothing is probed.
    off = config.apply_overrides(hp, [("health.enabled", False)])
    assert loop.train(off, vdir, 2, progress=False)["health"] == ["stalled"]
    assert len(trips(vdir)) == 1
