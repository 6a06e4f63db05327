"""Watching inbox folders: which files are digests, and when a file is whole.

A file is handed on once it has *settled*: no change for a moment and, on Linux, no
process holding it open for writing (a read lease is refused while a writer has it open:
the exact signal, where other systems only have a quiet period). A writer that takes
seconds between chunks therefore still gives one complete ingest, not a truncated one.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, awatch

from .ingest import files_under, ignored

POLL_WHILE_OPEN = 0.1  # seconds between checks while a writer still has the file open
QUIET_WITHOUT_LEASES = 1.0  # where the open-for-writing check is missing, wait this long instead


@dataclass(frozen=True)
class Inbox:
    """A watched folder, optionally only for names matching a glob (``~/Downloads/*.json``)."""

    folder: Path
    pattern: str | None = None

    @classmethod
    def parse(cls, value: str | Path) -> "Inbox":
        path = Path(value).expanduser()
        if any(c in path.name for c in "*?["):
            return cls(path.parent.resolve(), path.name)
        return cls(path.resolve())

    def accepts(self, path: Path) -> bool:
        if ignored(path.name) or not path.is_relative_to(self.folder):
            return False
        return self.pattern is None or fnmatch.fnmatch(path.name, self.pattern)

    def files(self, under: Path | None = None) -> list[Path]:
        """The files already there (in the inbox, or in one folder of it), oldest first."""
        found = [p for p in files_under([under or self.folder]) if self.accepts(p)]
        return sorted(found, key=_mtime)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def open_for_writing(path: Path) -> bool | None:
    """True while some process has the file open for writing; None where we cannot tell."""
    if sys.platform != "linux":
        return None
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False  # gone or unreadable: the ingest records why
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except BlockingIOError:
        return True
    except OSError:  # a file system without leases, or not our file
        return None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


class Watcher:
    """Watches inboxes and calls ``on_file(path)`` once per settled change."""

    def __init__(self, inboxes: list[Inbox], on_file: Callable[[Path], Awaitable[None]]):
        self.inboxes = inboxes
        self.on_file = on_file
        self._settling: dict[Path, asyncio.Task] = {}
        # Fair (first come, first served): settled files are handed on in the order they were
        # met, the files already there oldest first, and not in whichever order their checks end.
        self._in_order = asyncio.Lock()
        self.ready = asyncio.Event()

    def _accepts(self, path: Path) -> bool:
        return any(inbox.accepts(path) for inbox in self.inboxes)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set; files already present are handed on first."""
        folders = sorted({str(inbox.folder) for inbox in self.inboxes})
        for folder in folders:
            Path(folder).mkdir(parents=True, exist_ok=True)
        changes = awatch(
            *folders,
            watch_filter=lambda change, path: change != Change.deleted and self._accepts(Path(path)),
            stop_event=stop,
            step=30,  # yield changes 30 ms after the last one: the file is then checked
            debounce=400,
            recursive=True,
        )
        # Start watching before listing what is there, so nothing falls in between;
        # a file met both ways is ingested once (the second time its bytes are known).
        pending = asyncio.ensure_future(changes.__anext__())
        await asyncio.sleep(0.05)
        for inbox in self.inboxes:
            for path in inbox.files():
                self.settle(path)
        self.ready.set()
        try:
            while True:
                try:
                    batch = await pending
                except StopAsyncIteration:
                    break
                for _change, path in sorted(batch, key=lambda c: c[1]):
                    self.settle(Path(path))
                pending = asyncio.ensure_future(changes.__anext__())
        finally:
            pending.cancel()
            for task in list(self._settling.values()):
                task.cancel()

    def settle(self, path: Path) -> None:
        """(Re)start waiting for ``path`` to settle; a newer change restarts the wait."""
        previous = self._settling.get(path)
        if previous is not None:
            previous.cancel()
        self._settling[path] = asyncio.create_task(self._when_settled(path))

    async def _when_settled(self, path: Path) -> None:
        quiet = False  # waited the quiet period where leases tell nothing
        try:
            while True:
                async with self._in_order:
                    writing = None if quiet else await asyncio.to_thread(open_for_writing, path)
                    if writing is False or quiet:
                        await self._hand_on(path)
                        return
                quiet = writing is None
                await asyncio.sleep(QUIET_WITHOUT_LEASES if quiet else POLL_WHILE_OPEN)
        except asyncio.CancelledError:
            return

    async def _hand_on(self, path: Path) -> None:
        if self._settling.get(path) is asyncio.current_task():
            del self._settling[path]
        if path.is_file():
            await self.on_file(path)
        elif path.is_dir():  # a folder moved in brings files that raised no events of their own
            for inbox in self.inboxes:
                for inner in inbox.files(path):
                    self.settle(inner)
