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


# /proc/cpuinfo flags of x86 processors with bfloat16 arithmetic (AVX-512 BF16: AMD Zen 4 and later,
# Intel Cooper Lake; AMX-BF16: Intel Sapphire Rapids and later). Without them TensorFlow emulates
# bfloat16 in float32 and mixed_bfloat16 only adds conversions.
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The feature flags of this x86 CPU (``avx2``, ``avx512f``, ...) as a set, or None where unknown
    (no /proc/cpuinfo, or a processor other than x86, whose flags are not read here)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), None)
    return None if flags is None else set(flags)


def bfloat16_units(cpuinfo="/proc/cpuinfo"):
    """True when this CPU computes in bfloat16 natively, False when it does not, None where unknown
    (``cpu_flags``)."""
    flags = cpu_flags(cpuinfo)
    if flags is None:
        return None
    return any(flag in flags for flag in BFLOAT16_FLAGS)
