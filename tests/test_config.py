"""The hyperparameter schema: shipped files, strict validation, overrides, flag resolution."""

import glob
import json
import os
import subprocess
import sys

import pytest

from wgan import config
from wgan.gan import objectives
from wgan.errors import ConfigError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(glob.glob(os.path.join(REPO, "hyperparameter", "*.json")))


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_every_shipped_file_is_valid(path):
    hp = config.load(path)
    # <model>-<data>.json, or a named variant beside it: <model>-<data>-<variant>.json
    name = os.path.basename(path)[:-len(".json")]
    assert name == f"{hp.model}-{hp.data.name}" or name.startswith(f"{hp.model}-{hp.data.name}-")


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_files_watch_their_runs_where_a_metric_works_offline(path):
    # Toy sets and labelled images have metrics that need no download (wgan.metrics.evaluation), so a
    # run of the shipped file reports its health and keeps its best snapshot without flags.
    from wgan.metrics import evaluation

    hp = config.load(path)
    if evaluation.default_metrics(hp, extractor_configured=False):
        assert hp.eval_every > 0 and hp.train_steps // hp.eval_every >= 8, (hp.eval_every, hp.train_steps)


# compare_gan v1 (Lucic et al. 2018): params.py's per-model defaults (GANHyperParams, WGANHyperParams,
# WGANGPHyperParams: beta1, learning_rate, disc_iters, discriminator_batchnorm, weight_clipping, lambda),
# gan_lib.create_gan's batch_size 64 and z_dim 64, abstract_gan.z_generator's U(-1, 1), ops.batch_norm's
# decay 0.999 and epsilon 0.001, TF1 AdamOptimizer's beta2 0.999 and epsilon 1e-8, and the budget of
# 15,625 critic steps (16.7 epochs of 60,000 images at batch 64) expressed in generator iterations.
COMPARE_GAN_V1 = {
    "dcgan": {"beta1": 0.0, "learning_rate": 0.00005, "disc_iters": 1, "discriminator_batchnorm": True},
    "wgan": {"beta1": 0.5, "learning_rate": 0.00005, "disc_iters": 5, "discriminator_batchnorm": True,
             "weight_clipping": 0.01},
    "wgan-gp": {"beta1": 0.5, "learning_rate": 0.0001, "disc_iters": 5, "discriminator_batchnorm": False,
                "lambda": 10.0},
}


@pytest.mark.parametrize("data", ["mnist", "fashion_mnist"])
@pytest.mark.parametrize("model", COMPARE_GAN_V1)
def test_paper_files_match_compare_gan_v1(model, data):
    ref = COMPARE_GAN_V1[model]
    hp = config.load(os.path.join(REPO, "hyperparameter", f"{model}-{data}-lucic2018.json"))  # the named setup
    assert (hp.batch_size, hp.z_dim, hp.z_distribution) == (64, 64, "uniform")
    assert (hp.data.resize, hp.data.channels, hp.data.crop) == (28, 1, None)
    assert hp.architecture.name == "infogan" and hp.architecture.base_width == 64
    for opt in (hp.g_optimizer, hp.c_optimizer):
        assert (opt.name, opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon, opt.decay) == \
            ("adam", ref["learning_rate"], ref["beta1"], 0.999, 1e-8, "constant")
    assert hp.n_critic == ref["disc_iters"] and hp.g_steps == 1 and not hp.warmup
    assert hp.architecture.c_norm == ("batch" if ref["discriminator_batchnorm"] else "none")
    assert (hp.architecture.g_norm, hp.architecture.bn_momentum, hp.architecture.bn_epsilon) == ("batch", 0.999, 1e-3)
    assert hp.train_steps * hp.n_critic == 15_625
    if model == "wgan":
        assert hp.clip_value == ref["weight_clipping"]
    if model == "wgan-gp":
        assert hp.gp_lambda == ref["lambda"]


def test_all_models_shipped_for_every_dataset():
    # The three objectives the toolkit started with ship for every dataset; a newer objective ships where it was tried.
    names = {os.path.basename(p)[:-5] for p in SHIPPED}
    for data in ["celeba", "digits", "mnist", "fashion_mnist", "cifar10", "8gaussians", "25gaussians", "swissroll"]:
        assert set(COMPARE_GAN_V1) <= set(config.shipped_models(data))
        for model in COMPARE_GAN_V1:
            assert f"{model}-{data}" in names


def test_shipped_models_are_the_registry_entries_with_a_file(tmp_path):
    for model in ("wgan-gp", "dcgan", "nosuch"):
        (tmp_path / f"{model}-digits.json").write_text("{}")
    assert config.shipped_models("digits", root=str(tmp_path)) == ["dcgan", "wgan-gp"]  # registry order
    assert config.shipped_models("celeba", root=str(tmp_path)) == []
    assert config.shipped_models("mnist")[:3] == ["dcgan", "wgan", "wgan-gp"]


def test_an_objective_not_compared_by_default_is_left_out_of_the_study_and_benchmark_defaults(tmp_path):
    # hinge ships digits and 8gaussians files, but the README's study tables compare the
    # papers' three models and must stay what their printed commands produce.
    assert not objectives.get("hinge").compared
    assert os.path.exists(config.default_path("hinge", "digits"))
    assert config.shipped_models("digits") == ["dcgan", "wgan", "wgan-gp"]
    assert config.shipped_models("8gaussians") == ["dcgan", "wgan", "wgan-gp"]


def test_paper_defaults():
    wgan = config.load(os.path.join(REPO, "hyperparameter", "wgan-celeba.json"))
    assert (wgan.c_optimizer.name, wgan.c_optimizer.learning_rate, wgan.clip_value) == ("rmsprop", 5e-5, 0.01)
    assert wgan.n_critic == 5 and wgan.warmup
    gp = config.load(os.path.join(REPO, "hyperparameter", "wgan-gp-celeba.json"))
    assert (gp.c_optimizer.name, gp.c_optimizer.learning_rate, gp.c_optimizer.beta_1, gp.c_optimizer.beta_2) == \
        ("adam", 1e-4, 0.0, 0.9)
    assert gp.gp_lambda == 10 and gp.n_critic == 5 and gp.architecture.c_norm != "batch"
    dc = config.load(os.path.join(REPO, "hyperparameter", "dcgan-celeba.json"))
    assert (dc.g_optimizer.learning_rate, dc.g_optimizer.beta_1) == (2e-4, 0.5)


def test_warmup_schedule_follows_the_wgan_paper():
    hp = config.from_dict({"model": "wgan", "warmup": True})
    counts = [hp.critic_steps(i) for i in range(1001)]
    assert counts[:25] == [100] * 25
    assert counts[25] == 5 and counts[499] == 5 and counts[500] == 100 and counts[1000] == 100
    assert config.from_dict({"model": "wgan"}).critic_steps(0) == 5


def write(tmp_path, text):
    path = tmp_path / "hp.json"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("values, message", [
    ({"batchsize": 64}, "unknown key 'batchsize'; did you mean 'batch_size'?"),
    ({"g_optimizer": {"learning_rat": 1}}, "unknown key 'g_optimizer.learning_rat'; did you mean 'g_optimizer.learning_rate'?"),
    ({"batch_size": "64"}, "key 'batch_size' must be an integer"),
    ({"batch_size": 1.5}, "key 'batch_size' must be an integer"),
    ({"batch_size": 0}, "key 'batch_size' is 0; it must be >= 1"),
    ({"warmup": 1}, "key 'warmup' must be true or false"),
    ({"gp_lambda": None}, "key 'gp_lambda' must not be null"),
    ({"model": "gan"}, "valid values: dcgan, wgan, wgan-gp"),
    ({"c_optimizer": {"name": "adagrad"}}, "valid values: adam, rmsprop, sgd"),
    ({"c_optimizer": {"beta_1": 1.5}}, "key 'c_optimizer.beta_1' is 1.5; it must be <= 1.0"),
    ({"architecture": {"name": "biggan"}}, "key 'architecture.name' is 'biggan'; valid values: dcgan, infogan, mlp, resnet"),
    ({"architecture": {"c_norm": "batch"}}, "batch norm breaks the per-example gradient penalty"),
    ({"data": [1]}, "'data' must be a JSON object"),
])
def test_bad_values_name_file_and_key(tmp_path, values, message):
    path = write(tmp_path, json.dumps({"model": "wgan-gp", **values}))
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(err.value).startswith(path) and message in str(err.value)


def test_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, '{\n  "model": "wgan",\n  "batch_size": 64,,\n}')
    with pytest.raises(ConfigError, match=r"hp.json: invalid JSON at line 3, column 20"):
        config.load(path)


def test_overrides_are_typed_and_validated():
    hp = config.from_dict({"model": "wgan"})
    hp = config.apply_overrides(hp, [config.parse_override("c_optimizer.learning_rate=1e-3"),
                                     config.parse_override("data.crop=null"), config.parse_override("warmup=true")])
    assert hp.c_optimizer.learning_rate == 1e-3 and hp.data.crop is None and hp.warmup is True
    with pytest.raises(ConfigError, match="--set: unknown key 'c_optimizer.lr'"):
        config.apply_overrides(hp, [config.parse_override("c_optimizer.lr=1")])
    with pytest.raises(ConfigError, match="expected key=value"):
        config.parse_override("n_critic")


def test_resolve_applies_flags_then_overrides():
    root = os.path.join(REPO, "hyperparameter")
    hp = config.resolve("wgan", "celeba", crop=0, resize=32, overrides=[("n_critic", 3)], seed=7, root=root)
    assert (hp.data.crop, hp.data.resize, hp.n_critic, hp.seed) == (None, 32, 3, 7)
    assert hp.run_name == "wgan-celeba-r32"
    with pytest.raises(ConfigError, match="hyperparameter file not found: .*wgan-nosuch.json; shipped: "):
        config.resolve("wgan", "nosuch", root=root)


def test_resolve_for_an_image_folder_starts_from_celeba(tmp_path):
    hp = config.resolve("wgan-gp", str(tmp_path), root=os.path.join(REPO, "hyperparameter"))
    assert hp.data.name == str(tmp_path) and hp.data.crop is None
    assert hp.run_name == f"wgan-gp-{tmp_path.name}-r64"


def test_json_round_trip_rebuilds_identical_hparams():
    hp = config.load(os.path.join(REPO, "hyperparameter", "wgan-gp-digits.json"))
    assert config.from_dict(json.loads(hp.to_json())) == hp


def test_bad_file_through_the_command_gives_one_line_and_no_traceback(tmp_path):
    path = write(tmp_path, json.dumps({"model": "wgan", "n_critc": 5}))
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "train.py"), "-m", "wgan", "--hparams", path,
                           "--checkpoint_dir", str(tmp_path / "ck")], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"error: {path}: unknown key 'n_critc'; did you mean 'n_critic'?" in proc.stderr
    assert not (tmp_path / "ck").exists()  # rejected before any run folder was made


def test_the_toolkits_file_is_the_default_and_lucic2018_names_the_papers():
    """--data fashion_mnist alone trains the toolkit's tuned file; --setup lucic2018 Lucic et al.'s."""
    toolkit = config.resolve("wgan-gp", "fashion_mnist")
    paper = config.resolve("wgan-gp", "fashion_mnist", setup="lucic2018")
    assert (toolkit.architecture.name, toolkit.z_distribution, toolkit.n_critic, toolkit.ema_decay) == \
        ("infogan", "mixture", 2, 0.999)
    assert (paper.z_distribution, paper.g_optimizer.beta_1, paper.train_steps) == ("uniform", 0.5, 3125)
    for data in ("fashion_mnist", "mnist"):
        for model in ("dcgan", "wgan", "wgan-gp"):
            assert os.path.exists(config.default_path(model, data, setup="lucic2018"))
    assert config.resolve("wgan-gp", "mnist").to_dict() == config.apply_overrides(
        toolkit, [("data.name", "mnist")]).to_dict()  # the Fashion-MNIST recipe, ported
    with pytest.raises(ConfigError, match="hyperparameter file not found: .*wgan-gp-digits-lucic2018.json"):
        config.resolve("wgan-gp", "digits", setup="lucic2018")
