"""Random (version 4) UUID strings for request ids and audit event ids, cheaply.

`str(uuid.uuid4())` costs a `getrandom` system call and a UUID object per id, and a request
takes two or three ids. Under load each of those system calls also releases the GIL, letting the
database writer thread take the interpreter away from the event loop for a switch interval. Here
random bytes are read from the OS in 4 KB blocks and formatted directly; the ids are as random as
uuid4's (same source, same 122 random bits) and in the same text form. The buffer is dropped in a
forked child so that two worker processes never share ids. Never use these for secrets or nonces:
keystead.crypto draws those itself.
"""

from __future__ import annotations

import os
import threading

_BLOCK = 4096
_lock = threading.Lock()
_buffer = b""
_offset = _BLOCK


def _reset_after_fork() -> None:
    global _buffer, _offset, _lock
    _buffer, _offset, _lock = b"", _BLOCK, threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def uuid4() -> str:
    """A random UUID (RFC 4122 version 4, variant 1) as `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`."""
    global _buffer, _offset
    with _lock:
        if _offset >= len(_buffer):
            _buffer, _offset = os.urandom(_BLOCK), 0
        raw = _buffer[_offset:_offset + 16]
        _offset += 16
    value = (int.from_bytes(raw, "big") & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
