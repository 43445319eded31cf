"""The names ``--strategy`` and ``--communication`` accept, without importing TensorFlow.

``wgan.gan.distribute`` builds what they name; the commands list them in their flags, and a
command's ``--help`` should not wait seconds for TensorFlow to load.
"""

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
# All-reduce implementations of MultiWorkerMirroredStrategy: NCCL needs GPUs, RING works anywhere.
# Each is the lower-case name of a ``tf.distribute.experimental.CommunicationImplementation``.
COMMUNICATIONS = ("auto", "ring", "nccl")
