"""The report folder: writes files whole, only when their bytes change, never through a symbolic
link, and keeps a manifest of what it wrote so that the next run removes what it no longer writes
(and nothing else).

    out/manifest.txt           the files the last finished run wrote, one relative path a line
    out/manifest.txt.partial   the journal of a run in progress (or one that stopped): each path
                               is added before its file is written

A run reads both as the files an earlier run may have left, writes its own journal, and when it
finishes removes each earlier file it did not write again (a regular file, reached without a
link; its folder too once empty), then renames the journal to manifest.txt. A run that stops
half-way leaves its journal, so the next run still knows every file it wrote. A file or folder
that is a symbolic link is never written through nor removed: its files are skipped with one line
in `problems`.
"""

import contextlib
import errno
import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from tagger.errors import TaggerError

MANIFEST = "manifest.txt"
JOURNAL = MANIFEST + ".partial"
_HEADER = "# files `tagger report` wrote here; a re-run removes those it no longer writes\n"


class ReportFolder:
    """The files one report run writes into `out` (see the module docstring).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = ReportFolder(tmp)
    ...     _ = folder.write("stories/a/reaction.csv", b"x,y\\n")
    ...     folder.finish()
    ...     (Path(tmp) / MANIFEST).read_text().splitlines()[1:]
    ['stories/a/reaction.csv']
    """

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self._base = os.fspath(self.out)
        self.problems: list[str] = []
        self.written = 0  # files this run holds (changed or not)
        self.changed = 0  # files whose bytes this run changed
        self.removed = 0  # files of earlier runs removed by this one
        # folders checked to be real folders: the top ones, and the last deeper one (a story's
        # files come together), so that memory does not grow with the number of stories
        self._folders: set[str] = set()
        self._last_folder = ""
        self._links: set[str] = set()  # relative paths found to be links (reported once)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._earlier = self._read(MANIFEST) | self._read(JOURNAL)
            self._journal = open(_new_fd(self.out / JOURNAL), "w", encoding="utf-8")  # noqa: SIM115
            self._journal.write(_HEADER)
        except OSError as e:
            raise TaggerError(_cannot_write(self.out / JOURNAL, e, self.out)) from None

    def write(self, relative: str, data: bytes) -> Path | None:
        """Write `data` to out/`relative` whole (a temporary file, then a rename) unless it
        already holds exactly that; None when the path goes through a link (skipped)."""
        path = self._claim(relative)
        if path is None:
            return None
        try:
            if _holds(path, data):
                return path
        except OSError as e:
            raise TaggerError(_cannot_write(path, e, self.out)) from None
        with self._replacing(path) as piece:
            piece.write(data)
        return path

    @contextlib.contextmanager
    def stream(self, relative: str) -> Iterator:
        """A binary file to write out/`relative` piece by piece; on leaving the block it
        replaces the file, unless the file already held the same bytes or the path goes through
        a link (then the pieces go nowhere)."""
        path = self._claim(relative)
        if path is None:
            with open(os.devnull, "wb") as nowhere:
                yield nowhere
            return
        with self._replacing(path) as piece:
            yield piece

    @contextlib.contextmanager
    def _replacing(self, path: Path) -> Iterator:
        """A temporary file beside `path` that replaces it on leaving the block, unless it
        holds the same bytes; removed on any failure."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            try:
                with _new_file(temporary) as piece:
                    yield piece
                if _same_file_bytes(temporary, path):
                    temporary.unlink()
                else:
                    os.replace(temporary, path)
                    self.changed += 1
            except BaseException:
                with contextlib.suppress(OSError):
                    temporary.unlink(missing_ok=True)
                raise
        except OSError as e:
            raise TaggerError(_cannot_write(path, e, self.out)) from None

    def finish(self) -> None:
        """Remove the files of earlier runs that this one did not write, and record this run's
        files as the manifest."""
        for relative in sorted(self._earlier):
            self._remove(relative)
        try:
            self._journal.close()
            os.replace(self.out / JOURNAL, self.out / MANIFEST)
        except OSError as e:
            raise TaggerError(_cannot_write(self.out / MANIFEST, e, self.out)) from None

    def close(self) -> None:
        """Close the journal (after `finish`, or after a failure: the journal stays for the
        next run)."""
        self._journal.close()

    def _claim(self, relative: str) -> Path | None:
        """Record `relative` in the journal and make its folders; None when a link is in the
        way (reported in `problems` once per link)."""
        if self._through_link(relative):
            return None
        try:
            self._journal.write(relative + "\n")
            self._journal.flush()
        except OSError as e:
            raise TaggerError(_cannot_write(self.out / JOURNAL, e, self.out)) from None
        self._earlier.discard(relative)
        self.written += 1
        return Path(self._base, relative)

    def _through_link(self, relative: str) -> bool:
        """Whether out/relative is or goes through a symbolic link; makes the missing folders."""
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            here = "/".join(parts[:depth])
            last = depth == len(parts)
            if not last and (here in self._folders or here == self._last_folder):
                continue
            if here in self._links:
                return True
            path = os.path.join(self._base, here)
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                mode = None
            except OSError as e:
                raise TaggerError(_cannot_write(Path(path), e, self.out)) from None
            if mode is not None and stat.S_ISLNK(mode):
                self._links.add(here)
                self.problems.append(
                    f"skipped {path}: a symbolic link inside the report folder; reports are "
                    "never written through links (remove it and run again)"
                )
                return True
            if last:
                return False
            if mode is None:
                try:
                    os.mkdir(path)
                except OSError as e:
                    raise TaggerError(_cannot_write(Path(path), e, self.out)) from None
            elif not stat.S_ISDIR(mode):
                error = OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
                raise TaggerError(_cannot_write(Path(path), error, self.out))
            if depth == 1:
                self._folders.add(here)
            else:
                self._last_folder = here
        return False

    def _read(self, name: str) -> set[str]:
        """The relative paths a manifest or journal lists (safe ones only: no '..', not
        absolute, not the manifest itself)."""
        try:
            with open(os.open(self.out / name, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8") as f:
                listed = {line.rstrip("\n") for line in f if not line.startswith("#")}
        except FileNotFoundError:
            return set()
        return {
            p
            for p in listed
            if p
            and not PurePosixPath(p).is_absolute()
            and ".." not in PurePosixPath(p).parts
            and p not in (MANIFEST, JOURNAL)
        }

    def _remove(self, relative: str) -> None:
        """Remove out/relative if it is a regular file reached without a link, then its folders
        up to `out` while they are empty."""
        parts = PurePosixPath(relative).parts
        path = self.out.joinpath(*parts)
        for depth in range(1, len(parts) + 1):
            try:
                mode = os.lstat(self.out.joinpath(*parts[:depth])).st_mode
            except OSError:
                return  # gone already, or unreadable: not ours to force
            if stat.S_ISLNK(mode) or (depth == len(parts) and not stat.S_ISREG(mode)):
                return
        try:
            path.unlink()
        except OSError as e:
            raise TaggerError(_cannot_write(path, e, self.out)) from None
        self.removed += 1
        for depth in range(len(parts) - 1, 0, -1):
            try:
                self.out.joinpath(*parts[:depth]).rmdir()
            except OSError:
                return  # not empty: holds other files


def _new_fd(path: Path) -> int:
    """A descriptor of `path` opened for writing from its start (created if missing; a link
    there is an error, never followed)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)


def _new_file(path: Path):
    """`path` opened for binary writing through `_new_fd`."""
    return open(_new_fd(path), "wb")


def _holds(path: Path, data: bytes) -> bool:
    """Whether the regular file at `path` holds exactly `data`."""
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _same_file_bytes(new: Path, old: Path) -> bool:
    try:
        if new.stat().st_size != old.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    with open(new, "rb") as a, open(old, "rb") as b:
        while True:
            block_a, block_b = a.read(1 << 20), b.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True


def _cannot_write(path: Path, error: OSError, out: Path) -> str:
    again = f"`tagger report --out {shlex.quote(str(out))}`"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free some space and run {again} again"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {out} writable, or write the reports elsewhere with `tagger report --out DIR`"
    else:
        fix = f"fix that and run {again} again"
    return f"cannot write {path}: {error.strerror or error}; {fix}"
