"""Class-conditional metrics (wgan.metrics.class_agreement): known answers with a judge whose rule is known.

The judge reads 8x8 grey images whose class is the bright band of rows 2k, 2k+1 (k < 4); every
tenth real image carries its band one class further on, so the judge is wrong on it and its
accuracy on real images is 0.9, not 1. Samples that are real images of the class asked for must
then agree exactly as often as the judge is right on them.
"""

import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_hparams
from wgan import data
from wgan.data import uint8_to_float
from wgan.errors import ConfigError
from wgan.metrics import class_agreement, classifier, evaluation, registry
from wgan.metrics.frechet import gaussian_stats
from wgan.models import prior

CLASSES = ["top", "bottom", "left", "right"]


def banded(count, seed=0):
    """(images uint8 [count, 8, 8], labels [count]): class k bright on rows 2k, 2k+1; every tenth one band further."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CLASSES)
    images = rng.integers(0, 60, (count, 8, 8)).astype(np.uint8)
    for i, k in enumerate(labels):
        band = (k + 1) % len(CLASSES) if i % 10 == 9 else k
        images[i, 2 * band:2 * band + 2] = 200 + rng.integers(0, 50, (2, 8))
    return images, labels


class BandJudge(classifier.ClassifierJudge):
    """A ClassifierJudge without a network: features are the 8 row means, the class is the brightest band."""

    def __init__(self, real_images, accuracy):
        self.num_classes, self.name = len(CLASSES), "bands"
        self.info = {"accuracy": accuracy, "evaluated_on": "the records"}
        self.mu, self.sigma = gaussian_stats(self(real_images))

    def forward(self, images, batch_size=512):
        rows = np.asarray(images, np.float64)[..., 0].mean(axis=2)  # [N, 8]
        return rows, rows.reshape(-1, len(CLASSES), 2).mean(axis=2)


def predictions(judge, images):
    return judge.forward(images)[1].argmax(axis=1)


class RealImagesOf:
    """A stand-in class-conditional generator ([z, labels] -> images in [-1, 1]): for label k the next
    real image of class (k + shift) % 4, in turn; it keeps what it returned in ``returned``."""

    def __init__(self, images, labels, shift=0):
        self.pools = {k: list(images[labels == k]) for k in range(len(CLASSES))}
        self.shift, self.used, self.returned = shift, {k: 0 for k in self.pools}, []

    def __call__(self, inputs, training=False):
        _, labels = inputs
        out = []
        for k in labels.numpy():
            pool = self.pools[(int(k) + self.shift) % len(CLASSES)]
            out.append(pool[self.used[int(k)] % len(pool)])
            self.used[int(k)] += 1
        self.returned.extend(out)
        return tf.constant(uint8_to_float(np.stack(out)[..., None]))


def conditional_hp(**values):
    return tiny_hparams("wgan-gp", "mnist", conditional={"enabled": True, "class_names": CLASSES,
                                                        "class_frequencies": [0.25] * 4}, **values)


@pytest.fixture(scope="module")
def banded_records(tmp_path_factory):
    """(records folder of 400 banded images, images [400, 8, 8, 1], labels, the judge)."""
    images, labels = banded(400)
    folder = data.build_records("mnist", resize=8, crop=None, output_dir=str(tmp_path_factory.mktemp("records")),
                                workers=1, progress=False, arrays=(images, labels))
    images = images[..., None]
    judge = BandJudge(images, accuracy=None)
    judge.info["accuracy"] = float((predictions(judge, images) == labels).mean())
    return folder, images, labels, judge


# ----- the math, on features ------------------------------------------------------------------
def test_agreement_counts_the_asked_class_overall_and_per_class():
    logits = np.eye(3)[[0, 1, 2, 2, 0, 1]]  # predicted 0 1 2 2 0 1
    overall, per_class = class_agreement.agreement(logits, [0, 1, 2, 1, 1, 1], num_classes=4)
    assert overall == pytest.approx(4 / 6)
    assert per_class == [1.0, pytest.approx(2 / 4), 1.0, None]  # class 3 was not asked for


def test_intra_class_fid_is_zero_on_the_real_class_features_and_large_when_classes_swap():
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 4
    features = rng.standard_normal((400, 3)) + 4.0 * labels[:, None]  # class k around (4k, 4k, 4k)
    real = class_agreement.per_class_stats(features, labels, 4)
    same, per_class = class_agreement.intra_class_fid(features, labels, real)
    assert same == pytest.approx(0.0, abs=1e-6) and len(per_class) == 4
    swapped, _ = class_agreement.intra_class_fid(features, (labels + 1) % 4, real)
    assert swapped > 40  # each class 4 apart on 3 axes: about 48
    # A class without two samples gets no value and stays out of the mean.
    fewer, per_class = class_agreement.intra_class_fid(features[labels != 3], labels[labels != 3], real)
    assert per_class[3] is None and fewer == pytest.approx(0.0, abs=1e-6)


# ----- through the evaluator --------------------------------------------------------------------
def evaluate(banded_records, monkeypatch, shift, num=200):
    folder, images, labels, judge = banded_records
    monkeypatch.setattr(classifier, "ClassifierJudge", lambda *args, **kwargs: judge)
    hp = conditional_hp()
    evaluator = evaluation.Evaluator(hp, ("cfid", "classes", "confident", "agreement", "icfid"), num,
                                     records_folder=folder)
    generator = RealImagesOf(images[..., 0], labels, shift)
    return evaluator(generator), generator, prior.labels(hp, num, 0)


def test_agreement_of_real_images_of_the_asked_class_is_the_judges_accuracy_on_them(banded_records, monkeypatch):
    _, _, _, judge = banded_records
    result, generator, asked = evaluate(banded_records, monkeypatch, shift=0)
    returned = np.stack(generator.returned)[..., None]
    accuracy = float((predictions(judge, returned) == asked).mean())  # they are real images of class ``asked``
    assert 0.8 < accuracy < 1.0  # the judge errs on the tenth images that carry another band
    assert result.scalars["agreement"] == pytest.approx(accuracy, abs=1e-12)
    per_class = result.extras["agreement_per_class"]
    for k in range(4):
        assert per_class[k] == pytest.approx(float((predictions(judge, returned[asked == k]) == k).mean()), abs=1e-4)
    assert result.extras["agreement_ceiling"] == judge.info["accuracy"]
    assert result.about["agreement"]["ceiling"] == judge.info["accuracy"]
    assert result.extras["class_samples"] == np.bincount(asked, minlength=4).tolist()
    assert set(result.scalars) == {"cfid", "classes", "confident", "agreement", "icfid"}


def test_swapped_classes_leave_cfid_alone_but_not_agreement_and_intra_class_fid(banded_records, monkeypatch):
    obeyed = evaluate(banded_records, monkeypatch, shift=0)[0].scalars
    swapped = evaluate(banded_records, monkeypatch, shift=1)[0].scalars
    assert swapped["agreement"] < 0.15 and obeyed["agreement"] > 0.8
    assert obeyed["icfid"] < 0.05 * swapped["icfid"]
    # The set as a whole is the same mixture of classes: classifier FID barely moves where icfid explodes.
    assert abs(swapped["cfid"] - obeyed["cfid"]) < 0.05 * swapped["icfid"]


# ----- which runs get them ----------------------------------------------------------------------
def test_class_metrics_apply_to_conditional_labelled_runs_only_and_cfid_stays_primary():
    assert registry.metrics_for(registry.IMAGE_DATA, labelled=True, conditional=True) == (
        "cfid", "classes", "confident", "agreement", "icfid", "fid", "kid")
    assert "agreement" not in registry.metrics_for(registry.IMAGE_DATA, labelled=True)
    assert "agreement" not in registry.metrics_for(registry.IMAGE_DATA, conditional=True)  # no classifier
    assert registry.higher_is_better("agreement") and not registry.higher_is_better("icfid")
    assert registry.get("agreement").primary is None and registry.get("icfid").primary is None
    assert registry.primary_metric({"agreement": 0.9, "icfid": 3.0, "cfid": 5.0}) == "cfid"
    digits = tiny_hparams("wgan-gp", "digits", conditional={"enabled": True, "class_names": list("0123456789")})
    assert evaluation.default_metrics(digits, extractor_configured=False) == (
        "cfid", "classes", "confident", "agreement", "icfid")
    assert evaluation.default_metrics(tiny_hparams("wgan-gp", "digits"), False) == ("cfid", "classes", "confident")
    with pytest.raises(ConfigError, match="agreement cannot be computed for digits"):
        evaluation.parse_metrics("agreement", tiny_hparams("wgan-gp", "digits"))
