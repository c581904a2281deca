"""One engine runner per SQLite file: an exclusive `flock` on `<database>.engine.lock`.

SQLite serialises writers but cannot share due timers between runners the way PostgreSQL's
`FOR UPDATE SKIP LOCKED` does, so a second runner against the same file is refused with a
message. Why a lock file and not a lease row in the database: the kernel drops a `flock` the
moment its process ends, however it ends (SIGKILL, OOM, power loss of the process), so a dead
runner never blocks the next one and no clock or expiry is involved; a lease row would keep a
crashed runner's successor waiting for the lease to run out. The lock file sits next to the
database, and SQLite must be on a local disk anyway (its own locking is unreliable on network
file systems), so both processes see the same lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import datetime
from pathlib import Path

from monitor.storage.db import normalize_url


class EngineLockError(RuntimeError):
    """Another engine runner holds the database; the message says which and what to do."""


class EngineLock:
    """Hold with `acquire()` for as long as the engine runs; `release()` (or process exit) frees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def for_database(cls, database_url: str) -> EngineLock | None:
        """The lock for a SQLite file; None for PostgreSQL (several runners share timers there)."""
        url = normalize_url(database_url)
        database = url.database or ""
        if not url.drivername.startswith("sqlite") or database in ("", ":memory:") or database.startswith("file:"):
            return None
        return cls(Path(database).expanduser().resolve().with_name(Path(database).name + ".engine.lock"))

    def acquire(self, now: datetime | None = None, *, restoring: bool = False) -> None:
        """Take the lock or raise `EngineLockError` naming the process that holds it.

        `restoring`: taken by `monitor restore`, which must not replace the file under a running engine.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd) or "holder unknown"
            os.close(fd)
            database = self.path.with_name(self.path.name.removesuffix(".engine.lock"))
            if restoring:
                raise EngineLockError(
                    f"{database} is in use by an engine runner ({holder}); stop `monitor serve` before restoring"
                ) from None
            raise EngineLockError(
                f"another engine runner is already using {database} ({holder}). "
                "SQLite allows one engine runner per database file: stop the other `monitor serve` first, "
                "or move to PostgreSQL to run several workers (`monitor worker --role engine`)."
            ) from None
        since = f" since {now.isoformat()}" if now else ""
        what = "restore" if restoring else "engine"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what}: pid {os.getpid()} on {socket.gethostname()}{since}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _read(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    return ""
