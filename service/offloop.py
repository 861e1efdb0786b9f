"""Heavy work off the event loop: a thread, with the cyclic garbage collector paused.

A national list is a million entries: building them and their board in a thread lets the
event loop answer polls in between (the interpreter hands the GIL over every few ms), but a
full collection over millions of fresh objects holds the GIL for hundreds of ms, whichever
thread triggers it. The collector waits while such work runs (it allocates, it makes no
cycles to collect) and resumes after, with what exists then frozen (``gc.freeze``: left to
reference counting, never walked again); dropping the old objects is work for a thread too.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_paused = 0


def _pause() -> None:
    global _paused
    with _lock:
        if _paused == 0 and gc.isenabled():
            gc.disable()
            _paused = 1
        elif _paused:
            _paused += 1


def _resume() -> None:
    global _paused
    with _lock:
        if _paused:
            _paused -= 1
            if _paused == 0:
                # What the work made moves out of the collector's sight: else the first
                # collection after it would walk every new object, on whichever thread.
                gc.freeze()
                gc.enable()


def _without_gc(function: Callable[..., T], *args: Any) -> T:
    _pause()
    try:
        return function(*args)
    finally:
        _resume()


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread, the collector paused meanwhile."""
    return await asyncio.to_thread(_without_gc, function, *args)


#: Objects freed at a time: freeing holds the GIL until the whole container is gone.
FREE_CHUNK = 5_000


def _free(garbage: list[Any]) -> None:
    """Empty ``garbage``: what only it holds is taken apart, large tuples, lists and dicts
    chunk by chunk, objects by their attributes (so the containers they hold are reached),
    so that no single free holds the GIL for long. What is alive elsewhere is left alone."""
    while garbage:
        item = garbage.pop()
        if sys.getrefcount(item) > 2:  # this frame's name and the call's argument
            del item
        elif isinstance(item, tuple | list):
            if len(item) > FREE_CHUNK:
                items = list(item)
                del item  # the container goes cheaply: its elements live on in ``items``
                while items:
                    del items[-FREE_CHUNK:]
            else:
                garbage.extend(item)
                del item
        elif isinstance(item, dict):
            while len(item) > FREE_CHUNK:
                for key in list(itertools.islice(item, FREE_CHUNK)):
                    del item[key]
            garbage.extend(item.values())
            del item
        else:
            attributes = getattr(item, "__dict__", None)
            if attributes:
                garbage.extend(attributes.values())
            del item, attributes


async def drop(garbage: list[Any]) -> None:
    """Free what ``garbage`` holds (its last references) in a thread, a chunk at a time."""
    await off_loop(_free, garbage)
