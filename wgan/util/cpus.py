"""How many cores this process may use: the default for parallel builds, study jobs and benchmark records."""

import os


def available_cpus():
    """Cores this process may run on, >= 1.

    Respects the CPU affinity mask (``taskset``, container CPU sets), unlike ``os.cpu_count``,
    which counts every core of the machine; falls back to it where there is no affinity
    call (macOS, Windows).
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
