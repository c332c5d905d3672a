"""Cap glibc's malloc arenas, so the memory threads free goes back to a shared heap.

glibc gives each new thread that allocates an arena of its own, up to 8 per core, and keeps
what is freed in each: a process with many short-lived threads (the orchestrator's slots and
recorders, gRPC's) holds pages it no longer uses. mallopt(3): M_ARENA_MAX caps the number of
arenas; it applies to arenas not yet created, so call it before starting threads.
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap this process's malloc arenas at `arenas`; False where the C library is not glibc."""
    if arenas < 1:
        raise ValueError(f"arenas must be 1 or more, not {arenas}")
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):  # musl, macOS: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1  # mallopt returns 1 on success
