"""Hand the memory a large step freed back to the system, so that the next step's peak does not stack on it.

glibc keeps freed heap memory for reuse, in each thread's arena (ConnectorX reads on threads of its own), and
gives it back only at the top of a heap or when asked: after a million-row read, about 150 MB that no frame
holds any more stays in the process. `malloc_trim(0)` asks (a few milliseconds); elsewhere (macOS, musl) this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Return the heap memory freed so far to the system (glibc's `malloc_trim`); a no-op without glibc."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
