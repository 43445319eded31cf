"""Benchmark results as text: the speed benchmark's speed-ups and table, the recipe comparison's, the critic
capacity's, the records data path's, the fault injection's, the exact resume's and the classifier metrics' yardsticks.

``bin/benchmark.py``, ``benchmarks/keras_io_wgan_gp.py``, ``benchmarks/critic_capacity.py``,
``benchmarks/bench_data.py``, ``benchmarks/bench_resume.py``, ``benchmarks/yardsticks.py``,
``benchmarks/bench_health.py`` and
``tools/inject_faults.py`` write JSON; the console summary and the docs' tables read the same dicts, so a table in
README.md or docs/ is exactly what the run printed. Such a table lives in a block (``doc_blocks``) named after its kind and the
committed JSON's path (``BLOCKS``), and ``python tools/readme_tables.py`` rewrites it from
that file; it is never pasted by hand.

No TensorFlow here: the tool that checks the docs must stay fast.
"""

import json
import os
import shlex
import statistics
import sys

from wgan.lab import class_shares, doc_blocks
from wgan.lab.scored_samples import classifier_judged


def command_line(script):
    """The command that is running, as the docs print it: ``python SCRIPT`` and this process's arguments,
    shell-quoted (``script`` is the path from the repository root, e.g. ``bin/study.py``)."""
    return " ".join([f"python {script}"] + [shlex.quote(a) for a in sys.argv[1:]])


def steps_per_call(row):
    """The generator iterations per compiled call a row was timed with (1 in JSON from before the setting)."""
    return row.get("steps_per_call", 1)


def _setting(row):
    """What a row is timed with, but the precision: (model, architecture, side, jit_compile)."""
    return row["model"], row["architecture"], row["side"], row["jit_compile"]


def precision_speedups(rows):
    """``{(model, architecture, side, jit_compile, precision): it/s over float32's}`` for the other precisions
    (rows of one iteration per call; ``steps_per_call_speedups`` compares the others)."""
    rows = [r for r in rows if steps_per_call(r) == 1]
    base = {_setting(r): r["iterations_per_s"] for r in rows if r["precision"] == "float32"}
    return {_setting(r) + (r["precision"],): r["iterations_per_s"] / base[_setting(r)]
            for r in rows if r["precision"] != "float32" and _setting(r) in base}


def xla_speedups(rows):
    """``{(model, architecture, side, precision): it/s with jit_compile over it/s without}`` (one iteration per call)."""
    rows = [r for r in rows if steps_per_call(r) == 1]
    plain = {(r["model"], r["architecture"], r["side"], r["precision"]): r["iterations_per_s"]
             for r in rows if not r["jit_compile"]}
    out = {}
    for r in rows:
        key = (r["model"], r["architecture"], r["side"], r["precision"])
        if r["jit_compile"] and key in plain:
            out[key] = r["iterations_per_s"] / plain[key]
    return out


def steps_per_call_speedups(rows):
    """``{(model, architecture, side, jit_compile, precision, K): it/s with K iterations per call over
    it/s with 1}`` for the rows timed with ``--steps_per_call``."""
    def key(r):
        return r["model"], r["architecture"], r["side"], r["jit_compile"], r["precision"]

    single = {key(r): r["iterations_per_s"] for r in rows if steps_per_call(r) == 1}
    return {key(r) + (steps_per_call(r),): r["iterations_per_s"] / single[key(r)]
            for r in rows if steps_per_call(r) != 1 and key(r) in single}


def network(row):
    """``dcgan 64x64`` or ``mlp toy``: the architecture and the image side of a row."""
    return f"{row['architecture']} {row['side']}x{row['side']}" if row["side"] else f"{row['architecture']} toy"


def _file(row):
    """The shipped file a row timed: ``wgan-gp-fashion_mnist.json``, ``wgan-gp-celeba-resnet.json``."""
    from wgan import config  # lazy: rendering the other tables needs no configuration

    return os.path.basename(config.default_path(row["model"], row["source"], architecture=row["architecture"],
                                                setup=row.get("setup")))


def _figure(value):
    """Three significant figures at most, and no decimals from 100 up: 0.0651, 7.90, 506."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _span(ratios):
    low, high = min(ratios), max(ratios)
    return f"{low:.2f}x" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}x"


def _speedup_lines(rows):
    """One line per (precision or XLA, network): the range of its speed-ups over the models."""
    groups = {}
    for (model, architecture, side, jit, precision), ratio in precision_speedups(rows).items():
        label = f"{precision} over float32" + (" (XLA on)" if jit else "")
        groups.setdefault((label, network({"architecture": architecture, "side": side})), []).append(ratio)
    for (model, architecture, side, precision), ratio in xla_speedups(rows).items():
        label = f"XLA over no XLA, {precision}"
        groups.setdefault((label, network({"architecture": architecture, "side": side})), []).append(ratio)
    for (model, architecture, side, jit, precision, steps), ratio in steps_per_call_speedups(rows).items():
        label = f"{steps} iterations per call over 1, {precision}" + (" (XLA on)" if jit else "")
        groups.setdefault((label, network({"architecture": architecture, "side": side})), []).append(ratio)
    return [f"- {label}, {where}: {_span(ratios)}" for (label, where), ratios in groups.items()]


def _input_lines(section):
    """The input pipeline alone, and what reading records instead of memory costs each model."""
    alone = section["alone"]
    side = section["side"]
    lines = [f"Input pipeline alone ({side}x{side} records -> float batches of 64): "
             f"{alone['batches_per_s']:.0f} batches/s ({alone['images_per_s']:,.0f} images/s)."]
    costs = [f"{c['model']} {100 * c['fraction']:+.1f}% ({c['precision']})" for c in section["overhead"]]
    if costs:
        lines.append(f"Fed from those records instead of from memory, the {side}x{side} iteration at each model's "
                     f"fastest setting took {', '.join(costs)} longer.")
    return lines


def command_and_machine(results, lead=""):
    """Lines: the command in a code block, then ``lead`` and the machine, versions, commit, date and load."""
    machine = results["machine"]
    before, after = machine["load_average"][0], machine.get("load_average_after", [float("nan")])[0]
    lines = ["```sh", results["command"], "```", ""] if results.get("command") else []
    cores = f"{machine['cores']} core{'' if machine['cores'] == 1 else 's'}"
    return lines + [f"{lead}{machine['cpu']}, {cores}, TensorFlow {machine['tensorflow']}, "
                    f"Keras {machine['keras']}, commit {machine['commit']}, {machine['date']}, "
                    f"load average {before:.2f} before and {after:.2f} after the run:", ""]


def table(results):
    """Markdown for one benchmark run: its command, the machine, one row per configuration, the speed-ups."""
    # A run's length in minutes at this speed, when the JSON says the files' train_steps (since 2026-12-05).
    lengths = all("train_steps" in row for row in results["models"])
    # The steps-per-call column only when a row has more than 1, so the tables of older runs stay as they were.
    calls = any(steps_per_call(row) != 1 for row in results["models"])
    lines = command_and_machine(results) + [
        "| model | network | precision | XLA |" + (" steps/call |" if calls else "")
        + " it/s | real img/s | first it (s) | GFLOP/it | GFLOP/s | matmul GFLOP/s "
        "| ratio |" + (" file | train_steps | min / run |" if lengths else ""),
        "|---|---|---|---|" + ("---:|" if calls else "") + "---:|---:|---:|---:|---:|---:|---:|"
        + ("---|---:|---:|" if lengths else "")]
    peaks = results["matmul"]["gflops"]
    for row in results["models"]:
        line = (f"| {row['model']} | {network(row)} | {row['precision']} | {'on' if row['jit_compile'] else 'off'} "
                + (f"| {steps_per_call(row)} " if calls else "") +
                f"| {row['iterations_per_s']:.3f} | {_figure(row['real_images_per_s'])} "
                f"| {row['first_iteration_s']:.1f} | {row['gflop_per_iteration']:.1f} | {_figure(row['gflops'])} "
                f"| {_figure(peaks[row['precision']])} | {row['gflops'] / peaks[row['precision']]:.2f} |")
        if lengths and row.get("file_side", row["side"]) != row["side"]:  # a resized copy: no run of the file
            line += f" `{_file(row)}` at {row['file_side']}x{row['file_side']} | {row['train_steps']:,} | |"
        elif lengths:
            line += (f" `{_file(row)}` | {row['train_steps']:,} "
                     f"| {row['train_steps'] / row['iterations_per_s'] / 60:.0f} |")
        lines.append(line)
    speedups = _speedup_lines(results["models"])
    if speedups:
        lines += ["", "Speed-ups (the range over the models):", ""] + speedups
    if results.get("input"):
        lines += [""] + _input_lines(results["input"])
    return "\n".join(lines)


def _recipe_row(name, scores, steps=None, seconds=None, images=None, train_images=None, conditional=False,
                ceiling=None):
    rate = f"{steps / seconds:.3g}" if steps else ""
    epochs = f"{images / train_images:.2f}" if images else ""
    by_class = ""
    if conditional:  # the real test split's agreement is the classifier's accuracy: the ceiling
        agreement = scores.get("agreement", ceiling)
        icfid = scores.get("icfid")
        by_class = f"{'' if agreement is None else f'{agreement:.3f}'} | {'' if icfid is None else f'{icfid:.2f}'} | "
    return (f"| {name} | {steps or ''} | {rate} | {epochs} | {by_class}{scores['cfid']:.2f} | {scores['confident']:.3f} "
            f"| {scores['classes']} | {class_shares.describe([scores['class_histogram']])} |")


def recipe_table(results):
    """Markdown for ``benchmarks/keras_io_wgan_gp.py`` and ``benchmarks/keras_io_conditional.py``: each recipe
    trained for the same seconds, one classifier; conditional rows add class agreement and intra-class cFID."""
    classifier = results["classifier"]
    conditional = any("agreement" in row["scores"] for row in results["rows"])
    judged = classifier_judged(results["rows"][0]["scores"].get("judged"), results["num"])
    lines = command_and_machine(results, f"Same wall clock ({results['seconds']:g} s of training each), scored "
                                         f"on {judged:,} samples by the Fashion-MNIST classifier "
                                         f"({classifier['accuracy']:.1%} accuracy on {classifier['evaluated_on']}); ")
    by_class = "class agreement | intra-class cFID | " if conditional else ""
    lines += [f"| recipe | generator steps | steps/s | epochs | {by_class}classifier FID | confident >= 0.9 "
              "| classes >= 2.5% | class shares (min - max) |", "|---|---|---|---|" + "---|" * (4 + 2 * conditional)]
    for row in results["rows"]:
        lines.append(_recipe_row(row["recipe"], row["scores"], row["steps"], row["seconds"], row["images"],
                                 row["train_images"], conditional))
    real = results.get("real_test")
    if real:
        lines.append(_recipe_row(f"real test split ({real['images']:,} images)", real, conditional=conditional,
                                 ceiling=classifier["accuracy"]))
    return "\n".join(lines)


def capacity_table(results):
    """Markdown for ``benchmarks/critic_capacity.py``: each critic's Wasserstein estimate, then its per-layer norms."""
    lines = command_and_machine(results, f"Critics trained for {results['steps']:,} updates against a fixed "
                                         "\"generator\" (real data + N(0, 1)); ")
    critics = list(dict.fromkeys(row["critic"] for row in results["surfaces"]))
    estimates = {(row["source"], row["critic"]): row["wasserstein"] for row in results["surfaces"]}
    lines += ["| data | " + " | ".join(f"W estimate, {critic}" for critic in critics) + " |",
              "|---|" + "---:|" * len(critics)]
    for source in dict.fromkeys(row["source"] for row in results["surfaces"]):
        lines.append(f"| {source} | " + " | ".join(f"{estimates[source, c]:.3f}" for c in critics) + " |")
    layers = len(results["deep"][0]["activation_norms"])
    for key, where in (("activation_norms", "output"), ("kernel_norms", "kernel")):
        lines += ["", f"Gradient norm at each layer's {where} ({results['deep_layers']} x {results['deep_width']} "
                      f"ReLU critic, swissroll, {results['steps']:,} updates; mean of the last 100; layer 0 is next "
                      "to the input):", "",
                  "| critic | " + " | ".join(f"layer {i}" for i in range(layers)) + " |",
                  "|---|" + "---:|" * layers]
        lines += [f"| {row['label']} | " + " | ".join(f"{v:.1e}" for v in row[key]) + " |" for row in results["deep"]]
    return "\n".join(lines)


def surfaces_table(results):
    """Markdown for ``benchmarks/value_surfaces.py``: per toy set and pair, the critic's score gap and the mean
    norm of its input gradient at real and at fake points."""
    lines = command_and_machine(results, f"Critics (3 x 512 ReLU MLP) trained for {results['steps']:,} updates "
                                         "against a fixed \"generator\" (real data + N(0, 1)), R1 and R2 at "
                                         f"γ = {results['gamma']:g}; ")
    lines += ["| data | loss, constraint | score gap E[D(real)] - E[D(fake)] | mean ‖∇D‖ at real | "
              "mean ‖∇D‖ at fake |", "|---|---|---:|---:|---:|"]
    for row in results["rows"]:
        lines.append(f"| {row['source']} | {row['label']} | {row['score_gap']:.3f} | {row['grad_real']:.3f} | "
                     f"{row['grad_fake']:.3f} |")
    return "\n".join(lines)


def data_table(results):
    """Markdown for ``benchmarks/bench_data.py``: build and read speed and size of the records, per compression."""
    workers = results["workers"]
    lines = command_and_machine(results, f"{results['images']:,} generated {results['jpeg_size']} JPEGs, crop "
                                         f"{results['crop']}, resize {results['resize']}; ")
    lines += [f"| compression | build, 1 worker | build, {workers} workers | read, batches of {results['batch']} "
              "| size |", "|---|---:|---:|---:|---:|"]
    for row in results["rows"]:
        lines.append(f"| {row['compression']} | {row['build_1']:,.0f} img/s | {row['build_all']:,.0f} img/s "
                     f"| {row['read']:,.0f} img/s | {row['megabytes']:.1f} MB |")
    return "\n".join(lines)


def faults_table(results):
    """Markdown for ``tools/inject_faults.py``: per fault, times injected and survived and the worst data lost."""
    lines = command_and_machine(results, f"{results['seconds']:,.0f} s, seed {results['seed']}, a checkpoint "
                                         f"every {results['checkpoint_every']} iterations; ")
    lines += ["| fault | injected | survived | data lost (worst) |", "|---|---:|---:|---|"]
    lines += [f"| {r['fault']} | {r['injected']} | {r['survived']} | {r['lost']} |" for r in results["rows"]]
    if results["failures"]:
        lines += ["", "Failures:", ""] + [f"- {line}" for line in results["failures"]]
    return "\n".join(lines)


def resume_table(results):
    """Markdown for ``benchmarks/bench_resume.py``: seconds to an exact resume's first batch per batches skipped."""
    lines = command_and_machine(results, f"records of {results['images']:,} generated 28x28 grey images and the "
                                         f"8gaussians toy set, batches of {results['batch']}, median of "
                                         f"{results['repeats']}; ")
    lines += ["| data | batches skipped | epochs | seconds to the first batch |", "|---|---:|---:|---:|"]
    for row in results["rows"]:
        epochs = "" if row["epochs"] is None else f"{row['epochs']:.1f}"
        lines.append(f"| {row['data']} | {row['skip_batches']:,} | {epochs} | {row['seconds']:.2f} |")
    return "\n".join(lines)


def _classes_span(classes):
    """``0–7`` for a run of consecutive classes, else ``0, 3, 5``."""
    if len(classes) > 1 and list(classes) == list(range(classes[0], classes[-1] + 1)):
        return f"{classes[0]}–{classes[-1]}"
    return ", ".join(str(c) for c in classes)


# A yardstick row's label from how it was made (its ``kind`` and that kind's fields).
_YARDSTICK_LABELS = {
    "noise": lambda row: f"real + Gaussian pixel noise, std {row['std']:g} (of the [−1, 1] range)",
    "blur": lambda row: f"real, {row['size']}x{row['size']} box blur",
    "classes": lambda row: f"real, only classes {_classes_span(row['only_classes'])}",
    "uniform": lambda row: f"uniform pixel noise over [{row['low']:g}, {row['high']:g}]".replace("-", "−"),
}


def yardstick_label(row, num):
    """What a row of ``benchmarks/yardsticks.py`` scored, from how it was made (its ``kind`` and fields), with its
    image count when that is not ``num``."""
    kind, count = row["kind"], row["images"]
    if kind == "real":  # the count is part of the label: the first num records, or all the others
        return f"real digits (first {count:,})" if row["first"] == 0 else f"real digits (the other {count:,})"
    label = _YARDSTICK_LABELS[kind](row) if kind in _YARDSTICK_LABELS else kind
    return label + (f" ({count:,} images)" if count != num else "")


def yardstick_table(results):
    """Markdown for ``benchmarks/yardsticks.py``: the classifier metrics of real, damaged and partial digits."""
    classifier = results["classifier"]
    lines = command_and_machine(results, f"{results['num']:,} images a row unless said, scored like a training "
                                         f"run's samples against all {results['records']:,} digits records by "
                                         f"their classifier ({classifier['accuracy']:.1%} accuracy on "
                                         f"{classifier['evaluated_on']}), noise seed {results['seed']}, "
                                         f"{results['seconds']:.0f} s to load and score; ")
    lines += ["| images | cfid | classes | confident |", "|---|---:|---:|---:|"]
    lines += [f"| {yardstick_label(row, results['num'])} | {row['cfid']:.1f} | {row['classes']} "
              f"| {row['confident']:.3f} |" for row in results["rows"]]
    return "\n".join(lines)


def health_cost_table(results):
    """Markdown for ``benchmarks/bench_health.py``: each run's wall time with the health monitor on and off,
    and the seconds spent inside the monitor (the figure held against the 5% budget)."""
    lines = command_and_machine(results, "each run trained twice from scratch, with the monitor on and off, on ")
    lines += ["| run | with health | inside the monitor | without health | tripped |", "|---|---:|---:|---:|---|"]
    for row in results["rows"]:
        share = row["monitor_seconds"] / row["seconds_on"]
        lines.append(f"| {row['model']} {row['data']} ({row['architecture']} networks), {row['steps']:,} iterations, "
                     f"{row['evaluations']} evaluations | {row['seconds_on']:.1f} s | {row['monitor_seconds']:.2f} s "
                     f"({share:.1%}) | {row['seconds_off']:.1f} s | {', '.join(row['tripped']) or 'nothing'} |")
    return "\n".join(lines)


def variants_table(results):
    """Markdown for ``benchmarks/bench_variants.py``: each variant's median iterations/s over its timed blocks,
    the slowest and fastest block, the ratio to the first variant and the minutes its train_steps take."""
    lines = command_and_machine(results, f"median of {results['rounds']} blocks of {results['block']} iterations "
                                         "per variant, in turn, from one batch in memory, on ")
    lines += ["| variant | overrides | critic steps | batch | precision | iterations/s | slowest | fastest "
              "| / first | train_steps | min / run (iterations only) |",
              "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    reference = statistics.median(results["rows"][0]["iterations_per_s"])
    for row in results["rows"]:
        rates = row["iterations_per_s"]
        median = statistics.median(rates)
        shown = ", ".join(f"`{text}`" for text in row["overrides"]) or "(shipped file)"
        lines.append(f"| {row['variant']} | {shown} | {row['n_critic']} | {row['batch_size']} | {row['precision']} "
                     f"| {median:.2f} | {min(rates):.2f} | {max(rates):.2f} | {median / reference:.3f} "
                     f"| {row['train_steps']:,} | {row['train_steps'] / median / 60:.1f} |")
    return "\n".join(lines)


def inception_cost_row(row):
    """One row of ``benchmarks/bench_inception.py``: the network's images/s and the minutes for 10,000 and 50,000."""
    rate = row["images_per_s"]
    return (f"| {row['network']}, run {row['run']} | {row['cores']} | {row['batch']} | {rate:.1f} "
            f"| {10000 / rate / 60:.0f} | {50000 / rate / 60:.0f} |")


def inception_cost_table(results):
    """Markdown for ``benchmarks/bench_inception.py``: images/s through the Inception network, per timed run."""
    batches = results["rows"][0]["batches"]
    lines = command_and_machine(results, f"{batches} timed batch{'es' if batches != 1 else ''} of images a run, "
                                         "after one untimed, on ")
    lines += ["| network | cores | batch | images/s | min for 10,000 | min for 50,000 |",
              "|---|---:|---:|---:|---:|---:|"]
    return "\n".join(lines + [inception_cost_row(row) for row in results["rows"]])


def classifier_table(results):
    """Markdown for ``benchmarks/bench_classifier.py``: test accuracy and time per recipe length, then the real
    test split's own scores under the shipped classifier."""
    first = results["rows"][0]
    lines = command_and_machine(results, f"{results['data']}, trained on {first['trained_on']:,} images and "
                                         f"measured on {first['evaluated_on']} ({first['held_out']:,} images), on ")
    lines += ["| recipe | test accuracy | training + scoring the test split (s) |", "|---|---:|---:|"]
    for row in results["rows"]:
        shipped = " (shipped)" if row["epochs"] == results["shipped_epochs"] else ""
        plural = "s" if row["epochs"] != 1 else ""
        lines.append(f"| {row['epochs']} epoch{plural}{shipped} | {row['accuracy']:.1%} | {row['seconds']:.0f} |")
    real = results["shipped"]["real_test"]
    lines += ["", f"The real test split's own scores, by the shipped classifier (cached; "
                  f"{results['shipped']['accuracy']:.1%} test accuracy), against the training records:", "",
              "| images | cfid | classes ≥ 2.5% | confident ≥ 0.9 | class shares |", "|---|---:|---:|---:|---|",
              f"| real test split, {real['images']:,} images | {real['cfid']:.2f} | {real['classes']} "
              f"| {real['confident']:.3f} | {class_shares.describe([real['class_histogram']])} |"]
    return "\n".join(lines)


# Block kinds: a block named "<prefix><path>" is filled by the function from the JSON at <path>.
BLOCKS = {"benchmark-table ": (table, ("machine", "models", "matmul")),
          "recipe-table ": (recipe_table, ("machine", "rows", "classifier")),
          "capacity-table ": (capacity_table, ("machine", "surfaces", "deep")),
          "surfaces-table ": (surfaces_table, ("machine", "rows", "steps", "gamma")),
          "data-table ": (data_table, ("machine", "rows", "workers")),
          "faults-table ": (faults_table, ("machine", "rows", "failures")),
          "resume-table ": (resume_table, ("machine", "rows", "repeats")),
          "yardstick-table ": (yardstick_table, ("machine", "rows", "classifier", "num")),
          "health-cost-table ": (health_cost_table, ("machine", "rows")),
          "inception-cost-table ": (inception_cost_table, ("machine", "rows")),
          "variants-table ": (variants_table, ("machine", "rows", "block", "rounds")),
          "classifier-table ": (classifier_table, ("machine", "rows", "shipped"))}


def render(name, root):
    """The text of the block called ``name`` (one of ``BLOCKS``' kinds), from its JSON under ``root``."""
    prefix = next(p for p in BLOCKS if name.startswith(p))
    function, keys = BLOCKS[prefix]
    return function(load(os.path.join(root, name[len(prefix):]), keys))


def load(path, keys):
    """The results JSON at ``path``; ValueError naming it when it cannot be read or lacks one of ``keys``."""
    text = doc_blocks.read_source(path)
    try:
        results = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON (line {error.lineno}: {error.msg})") from None
    missing = [k for k in keys if k not in results]
    if missing:
        raise ValueError(f"{path}: not the result this block shows (no {', '.join(missing)})")
    return results


SPEED_SUMMARY = "speed-summary "


def _speed(per_second):
    """Iterations/s with three significant digits, trailing zeros kept: 2.00, 0.345, 15.3."""
    return f"{per_second:.2f}" if 1 <= per_second < 10 else f"{per_second:.3g}"


def speed_summary(name, root, doc_dir=None):
    """The README's short speed table: WGAN-GP iterations/s per network (XLA off) in float32 and
    mixed_bfloat16, from the benchmark JSONs the block names (``speed-summary A.json,B.json``)."""
    paths = [os.path.join(root, path) for path in name[len(SPEED_SUMMARY):].split(",")]
    lines = ["| network | float32 it/s | mixed_bfloat16 it/s | machine, date |", "|---|---:|---:|---|"]
    for path in paths:
        results = load(path, ("machine", "models"))
        machine = results["machine"]
        networks = {}
        for row in results["models"]:
            if row["model"] == "wgan-gp" and not row["jit_compile"] and steps_per_call(row) == 1:
                network = f"{row['architecture']} {row['side']}x{row['side']}" if row["side"] else \
                    f"{row['architecture']} toy"
                networks.setdefault(network, {})[row["precision"]] = row["iterations_per_s"]
        for network, speeds in networks.items():
            cells = [_speed(speeds[p]) if p in speeds else "" for p in ("float32", "mixed_bfloat16")]
            lines.append(f"| {network} | {cells[0]} | {cells[1]} | {machine['cpu']}, {machine['cores']} cores, "
                         f"{machine['date'][:10]} |")
    return "\n".join(lines)
