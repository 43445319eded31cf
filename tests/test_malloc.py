"""wgan.util.malloc: glibc's thresholds raised after TensorFlow's from_generator froze them."""

import os
import platform
import subprocess
import sys

import pytest

from wgan.util import malloc

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc_only
def test_the_thresholds_are_raised_on_glibc_and_left_alone_when_asked(monkeypatch):
    assert malloc.raise_thresholds()
    monkeypatch.setenv(malloc.KEEP_VARIABLE, "1")
    assert not malloc.raise_thresholds()


# Run in a fresh interpreter: in a process that already holds a large heap (a pytest worker after
# other tests), a freed block can sit inside the heap where no threshold returns it to the system.
_REUSE = """
import ctypes, resource, sys
sys.path.insert(0, sys.argv[1])
from wgan.util import malloc

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
# What TensorFlow's GeneratorDataset leaves: the trim threshold set, the mmap one frozen at its default.
libc.mallopt(malloc.M_TRIM_THRESHOLD, 128 * 1024)
libc.mallopt(malloc.M_MMAP_THRESHOLD, 128 * 1024)
size = 512 * 1024


def faults_of_reuse():
    first = libc.malloc(size)
    ctypes.memset(first, 1, size)
    libc.free(first)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)  # touch every page
        libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


frozen = faults_of_reuse()
assert malloc.raise_thresholds()
print(frozen, faults_of_reuse())
"""


@glibc_only
def test_after_raising_them_a_freed_large_block_is_reused_without_new_page_faults():
    """The point of the change: a 512 KB allocation freed and made again costs no fresh pages."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", _REUSE, root], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frozen, raised = map(int, done.stdout.split())
    assert frozen >= 20 * 32 and raised < frozen / 10  # each 512 KB block is 128 pages of 4 KB
