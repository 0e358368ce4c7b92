"""plie/_datastack.c: calls that cross a boundary of the frame stack's chunks reuse the chunk instead of mapping a
fresh one each time (python/cpython#142183)."""

import resource
import shutil
import sysconfig
from pathlib import Path

import pytest


def down(depth):
    return 0 if depth == 0 else down(depth - 1)


def page_faults_of_calls_at_every_depth(rounds=20, deepest=400):
    # 400 small frames take more than one 16 KiB chunk: every call deeper than the boundary crosses it and returns.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        for depth in range(deepest):
            down(depth)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_chunk_given_back_is_reused_by_the_next_call():
    try:
        from plie import _datastack
    except ImportError:
        headers = Path(sysconfig.get_paths()["include"], "Python.h").exists()
        if headers and (shutil.which("cc") or shutil.which("gcc")):
            pytest.fail("plie/_datastack.c was not built although a C compiler and Python's headers are here")
        pytest.skip("no C compiler or no Python headers: the extension is optional")
    assert _datastack.installed(), "PlieConfig.ready() puts the cache in place"
    page_faults_of_calls_at_every_depth(rounds=1)
    # Without the cache, each of the thousands of crossings maps a chunk and faults its first page in.
    assert page_faults_of_calls_at_every_depth() < 100
