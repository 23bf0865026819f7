"""Time facts a record carries: boot id, monotonic ns, and whether the wall clock is NTP-synchronised."""

import ctypes
import ctypes.util
import time
import uuid
from functools import cache
from pathlib import Path

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
TIME_ERROR = 5  # adjtimex return value: clock not synchronised
STA_UNSYNC = 0x0040


@cache
def boot_id() -> str:
    """The kernel's boot id; without /proc a random id per process (mono_ns is only comparable within one id)."""
    try:
        value = BOOT_ID_FILE.read_text().strip()
        if value:
            return value
    except OSError:
        pass
    return f"proc-{uuid.uuid4()}"


def mono_ns() -> int:
    return time.monotonic_ns()


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> (glibc, 64-bit and 32-bit Linux); trailing padding as the kernel defines.
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("_pad", ctypes.c_int * 11),
    ]


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name or "libc.so.6", use_errno=True)
    except OSError:
        return None


def clock_synced() -> bool:
    """True when the kernel says the wall clock is synchronised (adjtimex, read-only); False when unsure."""
    libc = _libc()
    if libc is None or not hasattr(libc, "adjtimex"):
        return False
    tx = _Timex()  # modes = 0: only read the state
    try:
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    if state < 0 or state == TIME_ERROR:
        return False
    return not (tx.status & STA_UNSYNC)
