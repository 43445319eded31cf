"""The recipe for a user's folder: the shipped file it starts from by side, the folder's own data block,
the precision this machine can run, and a printed block that says what the stored hyperparameters hold."""

import os

import numpy as np
import pytest
from PIL import Image

from wgan import config, recipe
from wgan.data import build_records
from wgan.errors import ConfigError
from wgan.util.cpus import bfloat16_units


def _folder(root, side, grey=True, count=4, classes=None):
    rng = np.random.default_rng(side)
    for index in range(count):
        sub = root / classes[index % len(classes)] if classes else root
        sub.mkdir(parents=True, exist_ok=True)
        shape = (side, side) if grey else (side, side, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(sub / f"{index}.png")
    return str(root)


def _built(tmp_path, name, side, **kwargs):
    folder = _folder(tmp_path / name, side, **kwargs)
    build_records(folder, None, None, str(tmp_path / "records"), workers=1, progress=False, heldout_per_mille=0)
    return folder


@pytest.mark.parametrize("side, grey, base", [
    (16, True, "wgan-gp-digits.json"),
    (28, True, "wgan-gp-fashion_mnist.json"),
    (32, False, "wgan-gp-fashion_mnist.json"),
    (64, False, "wgan-gp-celeba.json"),
])
def test_the_recipe_starts_from_the_file_tuned_nearest_the_folders_side(tmp_path, side, grey, base):
    folder = _built(tmp_path, f"pics{side}", side, grey=grey)
    chosen = recipe.build("wgan-gp", folder, str(tmp_path / "records"), cpu_bfloat16=True)
    assert os.path.basename(chosen.base) == base
    hp = chosen.hp
    assert (hp.data.name, hp.data.resize, hp.data.channels, hp.data.crop) == (folder, side, 1 if grey else 3, None)
    file = config.load(chosen.base)
    # Everything but the data block and the machine's precision is the file's.
    assert (hp.architecture, hp.batch_size, hp.n_critic, hp.g_optimizer, hp.ema_decay, hp.z_distribution) == \
        (file.architecture, file.batch_size, file.n_critic, file.g_optimizer, file.ema_decay, file.z_distribution)
    # Evaluation is on for every side: the file's cadence, or the recipe's where the file has none (celeba).
    assert hp.eval_every == (file.eval_every or recipe.EVAL_EVERY) > 0
    block = recipe.describe(chosen)
    assert f"evaluation           every {hp.eval_every} steps: " in block
    assert ("the recipe turns it on" in block) == (file.eval_every == 0)


def test_the_printed_block_says_what_the_hyperparameters_hold(tmp_path):
    folder = _built(tmp_path, "garments", 28, classes=("bag", "coat"))
    chosen = recipe.build("wgan-gp", folder, str(tmp_path / "records"), cpu_bfloat16=False)
    block = recipe.describe(chosen)
    hp = chosen.hp
    assert block.splitlines()[0] == f"recipe for {folder} (no hyperparameter file of its own):"
    assert "garments-r28: 28x28, 1 channel, 4 images, 2 classes" in block
    assert f"starts from          {os.path.basename(chosen.base)}" in block
    assert f"{hp.architecture.name} width {hp.architecture.base_width}" in block
    assert f"batch, critic steps  {hp.batch_size}, {hp.n_critic}" in block
    assert f"precision            {hp.precision}: this CPU has no bfloat16 units" in block
    assert hp.precision == "float32"  # the file's mixed_bfloat16 would be emulated here
    assert "augmentation         off: as the file or --set says" in block  # until the study of docs/augment.md


def test_the_augmentation_hook_turns_adaptive_augmentation_on_for_few_images(tmp_path, monkeypatch):
    folder = _built(tmp_path, "garments", 28, classes=("bag", "coat"))
    monkeypatch.setattr(recipe, "AUGMENT_MAX_IMAGES", 10)  # the hook, as the study would fill it
    chosen = recipe.build("wgan-gp", folder, str(tmp_path / "records"), cpu_bfloat16=False)
    assert chosen.hp.augment.adaptive and chosen.hp.augment.policy == recipe.AUGMENT_POLICY
    assert "4 images, at most 10: a critic memorises so few" in recipe.describe(chosen)
    kept_off = recipe.build("wgan-gp", folder, str(tmp_path / "records"), cpu_bfloat16=False,
                            overrides=[("augment.policy", "none")])
    assert kept_off.hp.augment.policy == "none" and "augmentation         off: as the file or --set" in \
        recipe.describe(kept_off)


def test_precision_follows_the_machine():
    assert recipe.precision("mixed_bfloat16", cpu_bfloat16=False)[0] == "float32"
    assert recipe.precision("mixed_bfloat16", cpu_bfloat16=True)[0] == "mixed_bfloat16"
    assert recipe.precision("mixed_bfloat16", gpu=True, cpu_bfloat16=False)[0] == "mixed_bfloat16"
    assert recipe.precision("float32", cpu_bfloat16=True)[0] == "float32"
    assert bfloat16_units("/no/such/cpuinfo") is None


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    with_bf16 = tmp_path / "zen4"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    without = tmp_path / "icelake"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_vnni\n")
    assert bfloat16_units(str(with_bf16)) is True and bfloat16_units(str(without)) is False


def test_a_folder_with_its_own_file_or_a_named_source_is_not_the_recipes(tmp_path):
    folder = _folder(tmp_path / "digits_copy", 16)
    assert recipe.applies(folder, "wgan-gp")
    assert not recipe.applies("digits", "wgan-gp") and not recipe.applies("8gaussians", "wgan-gp")
    assert not recipe.applies(str(tmp_path / "missing"), "wgan-gp")


def test_records_are_found_without_flags_and_several_builds_are_listed(tmp_path):
    folder = _folder(tmp_path / "pics", 32, grey=False)
    records = str(tmp_path / "records")
    with pytest.raises(ConfigError, match=r"no records of .*pics under .*; build them first with: "
                                          r"python bin/build_tfrecord.py --data .*pics$"):
        recipe.build("wgan-gp", folder, records)
    build_records(folder, None, None, records, workers=1, progress=False)
    assert recipe.build("wgan-gp", folder, records).hp.data.resize == 32
    build_records(folder, 16, None, records, workers=1, progress=False)
    with pytest.raises(ConfigError, match=r"has 2 builds under .* \(pics-r16, pics-r32\); pick one with -r"):
        recipe.build("wgan-gp", folder, records)
    assert recipe.build("wgan-gp", folder, records, resize=16).hp.data.resize == 16
    # Another folder of the same base name is not a build of this one.
    other = _folder(tmp_path / "elsewhere" / "pics", 32, grey=False)
    with pytest.raises(ConfigError, match="no records of"):
        recipe.build("wgan-gp", other, records)


def test_overrides_apply_last(tmp_path):
    folder = _built(tmp_path, "pics", 28)
    chosen = recipe.build("wgan-gp", folder, str(tmp_path / "records"), overrides=[("n_critic", 3)], seed=7)
    assert (chosen.hp.n_critic, chosen.hp.seed) == (3, 7)


def test_a_users_folder_from_build_to_pictures_without_flags(tmp_path):
    """As a user meets it: a grey folder with class subfolders, built and trained with no -r, -c or
    --hparams, a budget stated up front, then sampled without repeating anything."""
    import json
    import re
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": repo}
    folder = _folder(tmp_path / "shop", 16, count=24, classes=("bag", "boot", "coat"))

    def run(script, *args):
        return subprocess.run([sys.executable, os.path.join(repo, "bin", script), *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    built = run("build_tfrecord.py", "--data", folder)
    assert built.returncode == 0, built.stderr
    tiny = ["--set", "architecture.base_width=4", "--set", "batch_size=8", "--set", "eval_every=0"]
    trained = run("train.py", "-m", "wgan-gp", "--data", folder, "--budget", "4s", "--noprogress", *tiny)
    assert trained.returncode == 0, trained.stderr
    out = trained.stdout
    assert f"recipe for {folder} (no hyperparameter file of its own):" in out
    assert re.search(r"records +shop-r16: 16x16, 1 channel, 2\d images, 3 classes", out)  # some held out
    assert "starts from          wgan-gp-digits.json: tuned and studied on digits at 16x16" in out
    assert re.search(r"budget 4 s: train_steps \d+, about \d+ s on this machine", out)
    with open(tmp_path / "checkpoint" / "wgan-gp-shop-r16" / "v1" / "hyperparameters.json", encoding="utf-8") as f:
        stored = json.load(f)
    assert stored["budget"] == "4s" and stored["data"]["channels"] == 1 and stored["data"]["resize"] == 16
    assert f"train_steps {stored['train_steps']:,}" in out

    again = run("train.py", "-m", "wgan-gp", "--data", folder, "--budget", "4s", "--noprogress", *tiny)
    assert again.returncode == 0, again.stderr
    assert f"resuming v1, whose budget fixed train_steps at {stored['train_steps']:,}" in again.stdout
    assert "the run is complete" in again.stdout

    pictures = run("generate_img.py", "-m", "wgan-gp", "--data", folder, "-v", "1")
    assert pictures.returncode == 0, pictures.stderr
    assert (tmp_path / "figures" / "wgan-gp-shop-r16-v1-samples.png").exists()
