"""The hyperparameter schema: typed dataclasses, strict JSON loading, overrides, paper defaults.

A run is fully described by one ``HParams`` object; its JSON form (``to_dict``) is written
into the run folder as ``hyperparameters.json`` and is enough to rebuild the models.

JSON files are nested one level: top-level fields plus the groups ``data``,
``architecture``, ``g_optimizer``, ``c_optimizer``, ``health`` and ``augment``. Overrides use dotted keys
(``--set c_optimizer.learning_rate=5e-5``). Every check runs before TensorFlow builds
anything and raises ``ConfigError`` naming the file, the key and the problem.
"""

import copy
import dataclasses
import difflib
import json
import os
import typing
from dataclasses import dataclass, field
from typing import Optional

from wgan.gan import augment, constraints, objectives
from wgan.models import prior
from wgan.errors import ConfigError
from wgan.util import units

MODELS = objectives.NAMES  # the objective registry's names, for flags and choices
# Keys that change how fast a run goes, never what it computes (tests/test_steps_per_call.py
# holds K = 1 and K = 8 bit-identical): a run resumes whatever their values (runs.matching_versions).
SPEED_ONLY_KEYS = ("steps_per_call",)


def _field(default, help_text, choices=None, minimum=None, maximum=None, **kwargs):
    """A dataclass field with a one-line description and optional value constraints."""
    meta = {"help": help_text, "choices": choices, "min": minimum, "max": maximum}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta, **kwargs)
    return field(default=default, metadata=meta, **kwargs)


@dataclass
class DataConfig:
    """Which data trains the model and how its images are shaped."""

    name: str = _field("celeba", "Named source (celeba, digits, mnist, 8gaussians, ...) or an image folder path.")
    crop: Optional[int] = _field(108, "Center-crop side applied before resizing; null for none.", minimum=1)
    resize: Optional[int] = _field(64, "Output image side in pixels; null for toy 2-D data.", minimum=1)
    channels: int = _field(3, "Image channels: 1 (grey) or 3 (RGB); 2-D points use 0.", choices=(0, 1, 3))
    shuffle_buffer: int = _field(10000, "Records held in the shuffle buffer (compact uint8).", minimum=1)

    @property
    def is_toy(self):
        return self.resize is None

    @property
    def sample_shape(self):
        """Shape of one real sample: (resize, resize, channels) for images, (2,) for toy points."""
        return (2,) if self.is_toy else (self.resize, self.resize, self.channels)


@dataclass
class OptimizerConfig:
    """One network's optimizer and learning-rate schedule."""

    name: str = _field("adam", "Optimizer.", choices=("adam", "rmsprop", "sgd"))
    learning_rate: float = _field(1e-4, "Initial learning rate.", minimum=0.0)
    beta_1: float = _field(0.5, "Adam: first-moment decay.", minimum=0.0, maximum=1.0)
    beta_2: float = _field(0.999, "Adam: second-moment decay.", minimum=0.0, maximum=1.0)
    rho: float = _field(0.99, "RMSProp: decay of the squared-gradient average (PyTorch's alpha).",
                        minimum=0.0, maximum=1.0)
    momentum: float = _field(0.0, "RMSProp and SGD: momentum.", minimum=0.0, maximum=1.0)
    epsilon: float = _field(1e-8, "Adam and RMSProp: epsilon added to the root of the squared-gradient average "
                            "(PyTorch and TensorFlow 1 default).", minimum=0.0)
    decay: str = _field("constant", "Learning-rate schedule over generator iterations.", choices=("constant", "linear"))
    decay_steps: Optional[int] = _field(None, "Linear decay: generator iterations until the rate reaches zero; "
                                        "null: the run's length, train_steps.", minimum=1)

    beta_2_end: Optional[float] = _field(None, "Adam: beta_2 moves from beta_2 to this value along a cosine over "
                                         "the decay horizon (decay_steps, else train_steps), as R3GAN ramps it from "
                                         "0.9 to 0.99; null: beta_2 throughout.", minimum=0.0, maximum=1.0)

    def decay_horizon(self, train_steps):
        """Generator iterations over which the linear decay reaches zero: ``decay_steps``, else ``train_steps``."""
        return self.decay_steps or train_steps


@dataclass
class ArchitectureConfig:
    """Network architecture, looked up by name in ``wgan.models``."""

    name: str = _field("dcgan", "Architecture: dcgan (strided convolutions), infogan (Lucic et al. 2018), mlp, "
                       "or resnet (the WGAN-GP paper's residual networks, 32x32 or 64x64).")
    base_width: int = _field(64, "dcgan, infogan: channels of the critic's first layer (doubled per stage; "
                             "infogan's dense layers have 16x); resnet: the channels of every block at 32x32 "
                             "(128 in the paper), of the critic's first layer at 64x64 (64); mlp: hidden units.",
                             minimum=1)
    depth: int = _field(3, "mlp: hidden layers per network.", minimum=1)
    upsampling: str = _field("transpose", "dcgan generator: transposed convolutions or nearest-neighbour resize + conv.",
                             choices=("transpose", "nearest"))
    use_bias: bool = _field(True, "Biases in convolution and dense layers (a bias before batch norm is redundant).")
    g_norm: str = _field("batch", "Normalization in the generator.", choices=("none", "batch"))
    c_norm: str = _field("none", "Normalization in the critic (no batch norm with a gradient penalty).",
                         choices=("none", "batch", "layer"))
    bn_momentum: float = _field(0.9, "Batch-norm moving-average momentum.", minimum=0.0, maximum=1.0)
    bn_epsilon: float = _field(1e-5, "Batch-norm epsilon.", minimum=0.0)
    sync_batch_norm: bool = _field(False, "Batch-norm statistics over the global batch of all replicas "
                                   "(one all-reduce per layer); only matters under a distribution strategy.")
    initializer: str = _field("dcgan_normal", "Weight initializer.",
                              choices=("dcgan_normal", "glorot_uniform", "he_normal"))


@dataclass
class HealthConfig:
    """Thresholds of the training-health detectors (``wgan.train.health``; reasons in docs/health.md)."""

    enabled: bool = _field(True, "Run the health detectors at every evaluation and logged step.")
    samples: int = _field(256, "Generated and real images per health probe (critic scores, spread).", minimum=2)
    patience: int = _field(2, "Consecutive evaluations a condition must hold before critic_overfit or "
                           "mode_collapse trips.", minimum=1)
    overfit_gap: float = _field(0.5, "critic_overfit: (W_train - W_heldout) / |W_train| above this.", minimum=0.0)
    overfit_sigmas: float = _field(3.0, "critic_overfit: and the gap above this many standard errors.", minimum=0.0)
    collapse_spread: float = _field(0.25, "mode_collapse: generated / real spread (trace of the feature "
                                    "covariance) below this fraction of its peak in the run.", minimum=0.0)
    collapse_lost: float = _field(0.25, "mode_collapse: or this share of the classes (modes) not covered, once "
                                  "every one was covered or once the samples were sharp (collapse_quality).",
                                  minimum=0.0, maximum=1.0)
    collapse_quality: float = _field(0.3, "mode_collapse: samples count as sharp from the first evaluation with a "
                                     "high-quality share (toy) or confident share (classifier) of at least this.",
                                     minimum=0.0, maximum=1.0)
    stall_patience: int = _field(8, "stalled: evaluations without improvement of the primary metric.", minimum=1)
    stall_delta: float = _field(0.02, "stalled: relative improvement of the best value that counts.", minimum=0.0)
    stall_far: float = _field(3.0, "stalled: only while the metric is worse than this multiple of real "
                              "data's own score.", minimum=1.0)
    diverge_factor: float = _field(50.0, "diverging: |Wasserstein estimate| or penalty above this multiple of "
                                   "its early median.", minimum=1.0)
    diverge_baseline: int = _field(20, "diverging: logged steps whose median is the early baseline.", minimum=1)
    diverge_patience: int = _field(3, "diverging: consecutive logged steps above the limit.", minimum=1)


@dataclass
class AugmentConfig:
    """Differentiable augmentation of every critic input (``wgan.gan.augment``; docs/augment.md)."""

    policy: str = _field(augment.OFF, "Ops applied to real and generated images before the critic sees them, "
                         f"separated by commas (or +), in order ({', '.join(augment.NAMES)}; DiffAugment: "
                         "color,translation,cutout); none turns augmentation off.")
    p: Optional[float] = _field(None, "Probability that each op is applied to each example; with adaptive, its "
                                "start. null: 1 when fixed (DiffAugment), 0 when adaptive (ADA).",
                                minimum=0.0, maximum=1.0)
    adaptive: bool = _field(False, "Adjust p during training toward the target of the overfitting signal (ADA).")
    signal: str = _field("rt", "Adaptive p's overfitting signal: rt (ADA's E[sign(D(real) - m)], every critic "
                         "step) or heldout_gap (the health probe's (W_train - W_heldout) / |W_train|, at evaluations).",
                         choices=augment.SIGNAL_NAMES)
    target: Optional[float] = _field(None, "Adaptive: p rises while the signal is above this, falls below it; null: "
                                     "the signal's default (rt 0.6 as in ADA, heldout_gap 0.25).")
    interval: int = _field(4, "Adaptive rt: generator iterations between adjustments of p (ADA: 4 batches).",
                           minimum=1)
    speed_images: int = _field(500000, "Adaptive: critic images (real images the critic sees) over which p can "
                               "move from 0 to 1 (ADA: 500k).", minimum=1)
    p_max: float = _field(1.0, "Adaptive: p's upper bound (ADA reports leaks of some ops above about 0.8).",
                          minimum=0.0, maximum=1.0)


@dataclass
class ConditionalConfig:
    """Class-conditional generation (docs/conditional.md): the generator takes (z, label), the critic
    (image, label). The class list lives here so that ``hyperparameters.json`` alone rebuilds both
    networks and draws labels as training did."""

    enabled: bool = _field(False, "Generate by class: class-conditional batch norm (or a label embedding) in the "
                           "generator and a projection term in the critic; needs labelled records.")
    class_names: Optional[list] = _field(None, "Each class's name, index = label; filled from the records' "
                                         "manifest when the run starts (null until then).")
    class_frequencies: Optional[list] = _field(None, "Each class's share of the training images, index = label; "
                                               "generated batches draw their labels from it. Filled from the "
                                               "records when the run starts.")

    @property
    def num_classes(self):
        """Number of classes, or 0 before the class list is filled."""
        return len(self.class_names) if self.class_names else 0


@dataclass
class HParams:
    """Everything that defines a training run."""

    model: str = _field("wgan-gp", f"Objective: {objectives.summary()}.", choices=MODELS)
    data: DataConfig = _field(DataConfig(), "The training data.")
    architecture: ArchitectureConfig = _field(ArchitectureConfig(), "The networks.")
    g_optimizer: OptimizerConfig = _field(OptimizerConfig(), "Generator optimizer.")
    c_optimizer: OptimizerConfig = _field(OptimizerConfig(), "Critic optimizer.")
    batch_size: int = _field(64, "Examples per batch (global batch under a distribution strategy).", minimum=1)
    z_dim: int = _field(100, "Latent dimension.", minimum=1)
    z_distribution: str = _field("normal", "Latent prior: standard normal, uniform on [-1, 1], or a mixture of "
                                 "z_components Gaussians around fixed centres (wgan/models/prior.py).",
                                 choices=prior.DISTRIBUTIONS)
    z_components: int = _field(100, "mixture: Gaussian components of the latent prior.", minimum=1)
    z_component_std: float = _field(0.7, "mixture: each component's standard deviation (its centres are N(0, I) "
                                    "draws, fixed by z_dim and z_components).", minimum=0.0)
    n_critic: int = _field(5, "Critic updates per generator iteration.", minimum=1)
    g_steps: int = _field(1, "Generator updates per iteration (DCGAN trick of 2 to keep D from winning).", minimum=1)
    warmup: bool = _field(False, "WGAN paper schedule: warmup_critic_steps critic updates early on and periodically.")
    warmup_critic_steps: int = _field(100, "Critic updates per iteration during warm-up.", minimum=1)
    warmup_iterations: int = _field(25, "Generator iterations at the start that use warm-up.", minimum=0)
    warmup_every: int = _field(500, "Also warm up on every this-many-th generator iteration.", minimum=1)
    constraint: str = _field(objectives.OWN_CONSTRAINT, objectives.constraint_help(),
                             choices=(objectives.OWN_CONSTRAINT,) + constraints.NAMES)
    clip_value: float = _field(0.01, "Weight clipping (wgan): critic weights are clipped to [-clip_value, clip_value].",
                               minimum=0.0)
    gp_lambda: float = _field(10.0, "Gradient penalty (wgan-gp): its weight.", minimum=0.0)
    constraint_gamma: float = _field(10.0, "R1, R2 and R1 + R2 penalties (Mescheder et al. 2018): gamma in "
                                     "gamma / 2 * E||grad D(x)||^2 (docs/constraints.md).", minimum=0.0)
    constraint_gamma_end: Optional[float] = _field(None, "R1, R2, R1 + R2: gamma falls from constraint_gamma to "
                                                   "this along a cosine over train_steps (R3GAN's schedule); "
                                                   "null: constraint_gamma throughout.", minimum=0.0)
    constraint_every: int = _field(1, "Lazy regularization (Karras et al. 2020): a penalty (gradient penalty, R1, "
                                   "R2) only on every this-many-th critic update, multiplied by it; 1: every "
                                   "update.", minimum=1)
    spectral_norm_iterations: int = _field(1, "Spectral normalization (Miyato et al. 2018): power iterations per "
                                           "training-mode critic call (the estimate carries over between calls).",
                                           minimum=1)
    ema_decay: float = _field(0.0, "Exponential moving average of generator weights: the largest decay per "
                              "generator update (0.999: a half-life of 693 updates); 0 turns it off.",
                              minimum=0.0, maximum=1.0)
    ema_rampup: float = _field(0.05, "The average's half-life grows as this fraction of the updates done, up to "
                               "ema_decay's, so that early on it does not average over weights the generator has "
                               "long left behind (Karras et al. 2020); 0: ema_decay from the start.",
                               minimum=0.0, maximum=1.0)
    top_k: float = _field(1.0, "Top-k training (Sinha et al. 2020): each generator update uses only this fraction of "
                          "its batch, the fakes the critic scores as most realistic; 1 uses them all.",
                          minimum=0.0, maximum=1.0)
    top_k_rampup: int = _field(0, "Top-k training: generator iterations over which the kept fraction falls linearly "
                               "from 1 to top_k (early on the critic's ranking means little); 0: top_k from the "
                               "start.", minimum=0)
    precision: str = _field("float32", "Compute precision.", choices=("float32", "mixed_bfloat16", "mixed_float16"))
    jit_compile: bool = _field(False, "Compile the training iteration with XLA.")
    steps_per_call: int = _field(16, "Generator iterations per compiled call: the host waits for the device and "
                                 "reads metrics once per call, not once per iteration (a GPU idles while Python "
                                 "runs; docs/scale.md). Calls are cut at every log, sample, evaluation and "
                                 "checkpoint step, so the results do not depend on it.", minimum=1)
    seed: int = _field(0, "Seed for weights, noise and data order.", minimum=0)
    log_every: int = _field(10, "Write scalars every this many generator iterations.", minimum=1)
    sample_every: int = _field(500, "Write a fixed-noise sample grid every this many iterations.", minimum=1)
    histogram_every: int = _field(1000, "Write critic weight histograms every this many iterations.", minimum=1)
    checkpoint_every: int = _field(500, "Save a checkpoint every this many iterations.", minimum=1)
    snapshot_every: int = _field(2000, "Keep a permanent snapshot every this many iterations.", minimum=1)
    keep_checkpoints: int = _field(3, "Newest checkpoints kept besides the snapshots.", minimum=1)
    eval_every: int = _field(0, "Compute quality metrics every this many iterations; 0 turns it off.", minimum=0)
    train_steps: int = _field(10000, "Generator iterations a training command adds without --steps or --epoch.",
                              minimum=1)
    budget: Optional[str] = _field(None, "The run length asked for with train.py --budget (30m, 1.5h, 20epochs, "
                                   "500kimg), which fixed train_steps when the run started; null: train_steps as "
                                   "given.")
    health: HealthConfig = _field(HealthConfig(), "Training-health detectors.")
    augment: AugmentConfig = _field(AugmentConfig(), "Differentiable augmentation of the critic's inputs.")
    conditional: ConditionalConfig = _field(ConditionalConfig(), "Class-conditional generation.")

    # ----- derived views --------------------------------------------------------------
    @property
    def run_name(self):
        """``<model>-<data>[-<architecture>][-c<crop>]-r<resize>``; toy data has neither crop nor
        resize, and the architecture appears only when its registry entry is ``named``."""
        return run_name(self.model, self.data.name, self.data.crop, self.data.resize, self.architecture.name)

    def critic_steps(self, iteration):
        """Critic updates for generator iteration ``iteration`` (0-based), with the WGAN warm-up."""
        if self.warmup and (iteration < self.warmup_iterations or iteration % self.warmup_every == 0):
            return self.warmup_critic_steps
        return self.n_critic

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def flat(self):
        """``{"dotted.key": value}`` for TensorBoard's hparams plugin and for comparisons."""
        out = {}
        for key, value in self.to_dict().items():
            if isinstance(value, dict):  # lists (the class names) as JSON text: the hparams plugin takes scalars
                out.update({f"{key}.{k}": json.dumps(v) if isinstance(v, list) else v for k, v in value.items()})
            else:
                out[key] = value
        return out


def _architecture_part(architecture):
    """The architecture's part of run and file names, or None (``wgan.models.name_part``)."""
    from wgan.models import name_part  # lazy, as in _check_consistency

    return name_part(architecture) if architecture else None


def run_name(model, data, crop=None, resize=None, architecture=None):
    """``<model>-<data>[-<architecture>][-c<crop>]-r<resize>`` (a folder path contributes its base
    name); without crop and resize (toy data) just ``<model>-<data>[-<architecture>]``. The
    architecture is named only when its registry entry says so (resnet; not dcgan, infogan or
    mlp, so their runs keep their names): ``wgan-gp-cifar10-resnet-r32``."""
    data = os.path.basename(os.path.normpath(data)) if os.sep in data else data
    parts = [model, data]
    if _architecture_part(architecture):
        parts.append(_architecture_part(architecture))
    if crop:
        parts.append(f"c{crop}")
    if resize:
        parts.append(f"r{resize}")
    return "-".join(parts)


# ----- validation ---------------------------------------------------------------------
def _where(source, key):
    return f"{source}: key '{key}'" if source else f"key '{key}'"


def _check_value(source, key, hint, meta, value):
    """Coerce JSON ``value`` to type ``hint`` and check the constraints in ``meta``; return it."""
    optional = typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)
    base = [a for a in typing.get_args(hint) if a is not type(None)][0] if optional else hint
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{_where(source, key)} must not be null")
    if base is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{_where(source, key)} must be true or false, got {value!r}")
    elif base is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{_where(source, key)} must be an integer, got {value!r}")
        value = int(value)
    elif base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{_where(source, key)} must be a number, got {value!r}")
        value = float(value)
    elif base is str:
        if not isinstance(value, str):
            raise ConfigError(f"{_where(source, key)} must be a string, got {value!r}")
    elif base is list:
        if not isinstance(value, list):
            raise ConfigError(f"{_where(source, key)} must be a JSON list, got {value!r}")
        value = list(value)
    if meta.get("choices") is not None and value not in meta["choices"]:
        options = ", ".join(str(c) for c in meta["choices"])
        raise ConfigError(f"{_where(source, key)} is {value!r}; valid values: {options}")
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{_where(source, key)} is {value!r}; it must be >= {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{_where(source, key)} is {value!r}; it must be <= {meta['max']}")
    return value


def _unknown_key(source, prefix, key, valid):
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; valid keys: {', '.join(sorted(valid))}"
    return ConfigError(f"{source + ': ' if source else ''}unknown key '{prefix}{key}'{hint}")


def _build(cls, values, source, prefix=""):
    """Instantiate dataclass ``cls`` from a JSON object, strictly."""
    if not isinstance(values, dict):
        raise ConfigError(f"{source + ': ' if source else ''}'{prefix.rstrip('.') or 'top level'}' must be a JSON object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise _unknown_key(source, prefix, key, list(fields))
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, source, f"{prefix}{key}.")
        else:
            kwargs[key] = _check_value(source, prefix + key, hint, fields[key].metadata, value)
    return cls(**kwargs)


def _check_consistency(hp, source):
    """Rules that span several fields."""
    where = f"{source}: " if source else ""
    from wgan.models import ARCHITECTURES  # lazy: the registry module does not import TensorFlow
    if hp.architecture.name not in ARCHITECTURES:
        raise ConfigError(f"{where}key 'architecture.name' is {hp.architecture.name!r}; "
                          f"valid values: {', '.join(ARCHITECTURES)}")
    from wgan.models import check_side
    side_problem = check_side(hp.architecture.name, hp.data.resize)
    if side_problem:
        raise ConfigError(f"{where}{side_problem}")
    objectives.check_batch_norm(hp, where)
    objectives.check_constraint_settings(hp, where)
    if hp.data.is_toy and hp.architecture.name != "mlp":
        raise ConfigError(f"{where}key 'architecture.name' is {hp.architecture.name!r}, but toy 2-D data "
                          f"({hp.data.name}) needs the 'mlp' architecture")
    if hp.top_k <= 0:
        raise ConfigError(f"{where}key 'top_k' is {hp.top_k!r}; it must be > 0 (the kept fraction of each "
                          f"generator batch; 1 keeps all)")
    if hp.data.is_toy != (hp.data.channels == 0):
        raise ConfigError(f"{where}key 'data.channels' must be 0 exactly when 'data.resize' is null (toy 2-D data)")
    for key in ("c_optimizer", "g_optimizer"):
        optimizer = getattr(hp, key)
        if optimizer.beta_2_end is not None and optimizer.name != "adam":
            raise ConfigError(f"{where}key '{key}.beta_2_end' is set, but '{key}.name' is {optimizer.name!r}: only "
                              "Adam has a beta_2")
    augment.check(hp, where)
    _check_conditional(hp, where)
    if hp.budget is not None:
        try:
            units.parse_budget(hp.budget)
        except ValueError as err:
            raise ConfigError(f"{where}key 'budget': {err}") from None


def _check_conditional(hp, where):
    """The conditional section's own rules: labelled image data, and one frequency per class."""
    cond = hp.conditional
    if cond.enabled and hp.data.is_toy:
        raise ConfigError(f"{where}key 'conditional.enabled' is true, but toy 2-D data ({hp.data.name}) has no class "
                          "labels; class-conditional runs need labelled images: a named labelled source (digits, "
                          "mnist, fashion_mnist, cifar10) or a folder with one subfolder per class")
    if cond.class_frequencies is not None:
        if cond.class_names is None or len(cond.class_frequencies) != len(cond.class_names):
            raise ConfigError(f"{where}key 'conditional.class_frequencies' needs one value per entry of "
                              "'conditional.class_names'")
        if any(not isinstance(f, (int, float)) or isinstance(f, bool) or f < 0 for f in cond.class_frequencies) \
                or sum(cond.class_frequencies) <= 0:
            raise ConfigError(f"{where}key 'conditional.class_frequencies' must hold numbers >= 0 with a positive sum")


def from_dict(values, source=""):
    """Build and validate ``HParams`` from a parsed JSON object; ``source`` names it in errors."""
    hp = _build(HParams, values, source)
    _check_consistency(hp, source)
    return hp


def read_json(path):
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"hyperparameter file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    except UnicodeDecodeError as err:  # a damaged byte, or not a text file at all
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start} is {err.object[err.start]:#04x}); "
                          "the file is damaged or not a hyperparameter file") from None


def load(path):
    """Load and validate a hyperparameter JSON file."""
    return from_dict(read_json(path), source=path)


def parse_override(text):
    """``"a.b=value"`` -> ``("a.b", value)``; the value is JSON when it parses, else a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key=value")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def override_texts(overrides):
    """``[("a.b", 1), ("c", "x")]`` -> ``["a.b=1", 'c="x"']``: overrides written back the way
    ``parse_override`` reads them (JSON values), as reports and tables record them."""
    return [f"{key}={json.dumps(value)}" for key, value in overrides]


def parse_variant(text, flag="--variant"):
    """``"name:a=1,b.c=x"`` -> ``("name", [("a", 1), ("b.c", "x")])``: a named set of overrides, as
    benchmarks/sweep.py and benchmarks/bench_variants.py take them (``"shipped:"`` is the file as it is).
    ConfigError when the name is missing or a part is not key=value."""
    name, _, body = text.partition(":")
    if not name.strip():
        raise ConfigError(f"{flag} {text!r}: expected name:key=value,... (a name, then overrides or nothing)")
    parts = [part for part in body.split(",") if part.strip()]
    bad = [part for part in parts if "=" not in part]
    if bad:
        raise ConfigError(f"{flag} {text!r}: {bad[0]!r} is not key=value")
    return name.strip(), [parse_override(part) for part in parts]


def apply_overrides(hp, overrides, source="--set"):
    """Return a new ``HParams`` with dotted-key overrides applied and everything re-validated."""
    values = hp.to_dict()
    for key, value in overrides:
        node = values
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                valid = [k for k, v in node.items() if isinstance(v, dict)]
                raise _unknown_key(source, ".".join(parts[:depth]) + ("." if depth else ""), part, valid)
            node = node[part]
        if parts[-1] not in node or isinstance(node[parts[-1]], dict):
            prefix = ".".join(parts[:-1]) + "." if len(parts) > 1 else ""
            raise _unknown_key(source, prefix, parts[-1], [k for k, v in node.items() if not isinstance(v, dict)])
        node[parts[-1]] = value
    return from_dict(values, source)


# The files shipped with the toolkit, found wherever the command runs from.
SHIPPED_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "hyperparameter")


def default_path(model, data, root=None, architecture=None, setup=None):
    """``<root>/<model>-<data>[-<architecture>][-<setup>].json`` (a folder path uses its base name); the
    architecture is part of the name when its registry entry is ``named`` (run_name's rule):
    ``wgan-gp-cifar10-resnet.json``, but ``wgan-gp-cifar10.json`` for dcgan. ``setup`` names
    a second file of the same model and data: Lucic et al.'s ``wgan-gp-fashion_mnist-lucic2018.json``
    beside the toolkit's own ``wgan-gp-fashion_mnist.json``.

    Without ``root``: ``./hyperparameter/`` when it holds that file (a user's own copy),
    else the shipped ``hyperparameter/`` folder of the toolkit.
    """
    part = _architecture_part(architecture)
    name = (f"{model}-{os.path.basename(os.path.normpath(data))}{'-' + part if part else ''}"
            f"{'-' + setup if setup else ''}.json")
    if root is None:
        local = os.path.join("hyperparameter", name)
        return local if os.path.exists(local) else os.path.join(SHIPPED_ROOT, name)
    return os.path.join(root, name)


def shipped_models(data, root=None, setup=None):
    """The registry's compared objectives (in registry order) with a shipped ``<model>-<data>[-<setup>].json``
    file: what a command that compares objectives on ``data`` runs by default (study, benchmark)."""
    return [model for model in MODELS
            if objectives.get(model).compared and os.path.exists(default_path(model, data, root, setup=setup))]


def describe():
    """Every field with its default and description, for ``--help`` style listings and the README."""
    lines = []

    def walk(cls, prefix):
        for f in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            if dataclasses.is_dataclass(hint):
                walk(hint, f"{prefix}{f.name}.")
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            lines.append(f"{prefix}{f.name} = {json.dumps(default)}: {f.metadata['help']}")

    walk(HParams, "")
    return "\n".join(lines)


def resolve(model, data=None, crop=None, resize=None, path=None, overrides=(), seed=None, root=None,
            architecture=None, setup=None, missing_hint="or pass --hparams FILE", overrides_from="--set"):
    """The hyperparameters a command line asks for.

    Starts from ``path`` or ``hyperparameter/<model>-<data>[-<architecture>][-<setup>].json``
    (``default_path``); an image folder without a file of its own starts from the celeba file
    with the folder as data. Then the flags (``crop`` 0 means no crop; None keeps the file's
    value; ``architecture`` None keeps the file's) and ``--set`` overrides apply.
    ``missing_hint`` ends the message for a file that does not exist: what the calling command
    offers instead (commands without ``--hparams``, such as the study, pass None).
    ``overrides_from`` names where the overrides came from in an error (``--variant NAME``).
    """
    data = data or "celeba"
    if path is None:
        path = default_path(model, data, root, architecture, setup)
        if not os.path.exists(path) and os.path.isdir(data):
            path = default_path(model, "celeba", root, architecture)
            crop = 0 if crop is None else crop
    if not os.path.exists(path):
        folder = os.path.dirname(path)
        shipped = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json")) if os.path.isdir(folder) else []
        hint = f" ({missing_hint})" if missing_hint else ""
        raise ConfigError(f"hyperparameter file not found: {path}; shipped: {', '.join(shipped) or 'none'}{hint}")
    hp = load(path)
    flags = [("model", model), ("data.name", data)]
    if crop is not None:
        flags.append(("data.crop", crop or None))
    if resize is not None:
        flags.append(("data.resize", resize))
    if seed is not None:
        flags.append(("seed", seed))
    if architecture is not None:
        flags.append(("architecture.name", architecture))
    hp = apply_overrides(hp, flags, source=f"{path} with the command-line flags")
    return apply_overrides(hp, list(overrides), source=overrides_from) if overrides else hp
