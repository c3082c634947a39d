"""A binary file that keeps its OSError, for libsndfile's virtual I/O.

libsndfile calls Python back from C to read and write a file object; an exception raised there is
printed as a traceback and reaches the caller only as a short read, or as a bare AssertionError
from soundfile on a short write. `GuardedFile` keeps the error so the caller can name the cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO


class GuardedFile:
    """`handle` as libsndfile's virtual I/O calls it: the first OSError is kept in `error`, and the
    call answers as a failed one (0 bytes, or -1 for a position)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def _guard(self, action: Callable[[], int], failed: int) -> int:
        try:
            return action()
        except OSError as error:
            self.error = self.error or error
            return failed

    def readinto(self, buffer) -> int:
        return self._guard(lambda: self.handle.readinto(buffer), 0)

    def write(self, data) -> int:
        return self._guard(lambda: self.handle.write(data), 0)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._guard(lambda: self.handle.seek(offset, whence), -1)

    def tell(self) -> int:
        return self._guard(self.handle.tell, -1)
