"""tf.distribute strategies for training: creation, worker roles, where each worker writes, and
the replica arithmetic of a training step (batch slices, global-batch averages, metric shares,
batch-norm statistics kept equal across replicas).

``make_strategy(name)`` builds one of

* ``default``: no distribution; one device (the GPU when there is one, else the CPU);
* ``mirrored``: ``tf.distribute.MirroredStrategy``, synchronous data parallelism over the
  GPUs of one machine (or over logical CPU devices, see ``split_cpu``);
* ``multi_worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over several machines
  (or processes), each described by the ``TF_CONFIG`` environment variable;
* ``tpu``: ``tf.distribute.TPUStrategy`` on a Cloud TPU found by ``TPUClusterResolver``.

Under every strategy the whole batch of ``hp.batch_size`` is the GLOBAL batch: each of the
R replicas gets ``batch_size / R`` examples and losses are averaged over the global batch.

Multi-worker checkpointing follows the TensorFlow guide: every worker runs the same save
calls (they may read variables through collectives), but only the chief writes into the
run folder; the others write into a private temporary folder that is deleted afterwards.
"""

import json
import os
import shutil
import tempfile

import tensorflow as tf

from wgan.errors import ConfigError
from wgan.gan.strategy_names import COMMUNICATIONS, STRATEGIES


def split_cpu(count):
    """Expose the CPU as ``count`` logical devices (``/cpu:0`` ... ``/cpu:<count-1>``).

    Lets ``MirroredStrategy`` run several replicas on a machine without GPUs, which is how
    the distribution code is tested. It must run before TensorFlow initializes its devices
    (before any op executes); afterwards a ``ConfigError`` says so.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as err:
        raise ConfigError(f"cannot split the CPU into {count} devices once TensorFlow has started ({err}); "
                          "split it before building any model or tensor") from None


def make_strategy(name="default", devices=None, tpu=None, communication="auto"):
    """A ``tf.distribute.Strategy`` by name (see the module docstring).

    Args:
      name: one of ``STRATEGIES``.
      devices: ``mirrored`` only: device names (``["/gpu:0", "/gpu:1"]``); None takes every
        GPU, or every logical CPU device when there is no GPU.
      tpu: ``tpu`` only: the TPU name or ``grpc://`` address; None or "" finds the TPU of a
        Cloud TPU VM or a Colab runtime.
      communication: ``multi_worker`` only: all-reduce implementation, ``auto``, ``ring`` or ``nccl``.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"--strategy is {name!r}; valid values: {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        if communication not in COMMUNICATIONS:
            raise ConfigError(f"communication is {communication!r}; valid values: {', '.join(COMMUNICATIONS)}")
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("--strategy multi_worker needs the TF_CONFIG environment variable (cluster and task); "
                              "see docs/scale.md")
        implementation = getattr(tf.distribute.experimental.CommunicationImplementation, communication.upper())
        options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def task(strategy):
    """``(task_type, task_id)`` of this process: ``(None, None)`` outside a multi-worker cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return None, None
    return resolver.task_type, resolver.task_id


def is_chief(strategy):
    """Whether this process writes the run folder: the ``chief`` task, else worker 0 of a
    cluster without a chief (the TF_CONFIG convention), and any single-process strategy."""
    task_type, task_id = task(strategy)
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


def write_dir(strategy, vdir):
    """Where this process writes what it would write into the run folder ``vdir``.

    The chief writes into ``vdir`` itself. Every other worker gets a new private folder
    (``remove_write_dir`` deletes it): its checkpoints, events and metrics repeat the
    chief's, and two processes writing one checkpoint file would corrupt it.
    """
    if is_chief(strategy):
        return vdir
    task_type, task_id = task(strategy)
    return tempfile.mkdtemp(prefix=f"wgan-{task_type}{task_id}-")


def remove_write_dir(write_path, vdir):
    """Delete a non-chief worker's private folder (nothing happens for the run folder itself)."""
    if os.path.abspath(write_path) != os.path.abspath(vdir):
        shutil.rmtree(write_path, ignore_errors=True)


def gather_ints(strategy, value):
    """Every process's integer ``value``, one entry per replica of the cluster (a collective gather).

    Every worker must call it at the same point; outside a multi-worker cluster it is
    ``[value]``.
    """
    if task(strategy)[0] is None:
        return [value]
    values = strategy.experimental_distribute_values_from_function(lambda ctx: tf.constant([value], tf.int64))
    return [int(v) for v in strategy.gather(values, axis=0).numpy()]


def chief_value(strategy, value):
    """The chief's non-negative integer ``value``, returned on every worker.

    Every worker must call it at the same point. The run version the chief picked reaches
    the other workers this way, without a shared file or any race on one.
    """
    # Every other worker contributes 0 and the chief's value is the largest (the gather has
    # no notion of which entry is whose; ReduceOp has no MAX).
    return max(gather_ints(strategy, value if is_chief(strategy) else 0))


# ----- replica arithmetic of a training step --------------------------------------------
# With R replicas the global batch B = hp.batch_size splits into R slices of B / R. Losses
# average per-example values over B (not over the slice), so the gradients the replicas sum
# are the gradient of the global-batch loss; metrics are per-replica shares that sum to the
# global value.


def replica_batch(strategy, batch_size):
    """Examples per replica: the global ``batch_size`` over the replicas in sync.

    Raises ConfigError when the batch does not split evenly (replicas would see batches of
    different sizes and the global-batch average would be wrong).
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(f"key 'batch_size' is {batch_size}, which does not split evenly over "
                          f"{replicas} replicas; use a multiple of {replicas}")
    return batch_size // replicas


def replica_rows(global_draw, rows):
    """The current replica's ``rows`` rows of a [global batch, ...] draw.

    Replica r takes rows r * rows onwards, as the distributed dataset splits real batches,
    so R replicas see exactly the noise one device sees on the same global batch. Call it in
    replica context.
    """
    offset = tf.distribute.get_replica_context().replica_id_in_sync_group * rows
    return global_draw[offset:offset + rows]


def global_mean(per_example, global_batch):
    """This replica's share of the global-batch mean: sum of its per-example float32 values [b]
    over ``global_batch`` (scalar float32; the shares sum to the mean over all replicas)."""
    return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)


def replica_share(value):
    """A value every replica holds identically (float32 scalar), as a share that sums to it over
    the replicas in sync. Call it in replica context."""
    return value / tf.distribute.get_replica_context().num_replicas_in_sync


def sum_shares(strategy, per_replica):
    """``{name: per-replica share}`` -> ``{name: global float32 scalar}`` (their sum). Cross-replica context."""
    return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}


class ReplicaStatistics:
    """Batch-norm moving statistics kept as one mirrored value across replicas.

    Without synchronized batch norm each replica updates its copy of the moving mean and
    variance from its own slice of the batch, so the copies drift apart. ``average()``,
    called in replica context after every update, replaces each copy with the mean over
    replicas. With one replica, or with ``sync_batch_norm`` (statistics over the global
    batch already), there is nothing to average and it does nothing.
    """

    def __init__(self, strategy, networks, sync_batch_norm):
        self.variables = []
        if strategy.num_replicas_in_sync > 1 and not sync_batch_norm:
            # Non-trainable floats: the moving statistics (integer counters are left alone).
            self.variables = [v for m in networks for v in m.non_trainable_variables if "float" in v.dtype]

    def average(self):
        if not self.variables:
            return
        ctx = tf.distribute.get_replica_context()
        # A SUM of computed shares: a MEAN all-reduce of the raw variable reads fails under
        # MultiWorkerMirroredStrategy in TF 2.21 ("destinations can not be empty").
        shares = [tf.convert_to_tensor(v) / ctx.num_replicas_in_sync for v in self.variables]
        means = ctx.all_reduce(tf.distribute.ReduceOp.SUM, shares)
        for variable, mean in zip(self.variables, means):
            variable.assign(mean)


def check_jit_sync_batch_norm(strategy, architecture, jit_compile):
    """Refuse XLA with synchronized batch norm across non-GPU replicas (ConfigError).

    Synchronized batch norm all-reduces inside the forward pass. Inside an XLA-compiled
    update that needs a merge-free all-reduce, which tf.distribute has only when every
    replica is a GPU; elsewhere it would fail deep inside tracing, so it is refused here.
    """
    uses_bn = "batch" in (architecture.g_norm, architecture.c_norm)
    if not (jit_compile and architecture.sync_batch_norm and uses_bn and strategy.num_replicas_in_sync > 1):
        return
    devices = strategy.extended.worker_devices
    if not all("GPU" in d.upper() for d in devices):
        raise ConfigError("jit_compile with architecture.sync_batch_norm needs GPU replicas under a "
                          f"distribution strategy (replicas: {', '.join(devices)}); turn one of them off")


def describe(strategy):
    """One line for the log: strategy class, replicas, and this process's task."""
    task_type, task_id = task(strategy)
    where = f", task {task_type}:{task_id}" if task_type is not None else ""
    return f"{type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s){where}"


def tf_config(workers, index, chief=False):
    """A ``TF_CONFIG`` JSON string for task ``index`` of the ``workers`` addresses ("host:port").

    With ``chief`` the first address is the ``chief`` task and the rest are workers
    0, 1, ...; without it every address is a worker and worker 0 acts as chief.
    """
    if chief:
        cluster = {"chief": workers[:1], "worker": workers[1:]}
        role = {"type": "chief", "index": 0} if index == 0 else {"type": "worker", "index": index - 1}
    else:
        cluster = {"worker": list(workers)}
        role = {"type": "worker", "index": index}
    return json.dumps({"cluster": cluster, "task": role})
