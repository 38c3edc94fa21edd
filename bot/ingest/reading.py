"""Open and read one article file below the corpus folder: never blocking, never leaving it.

The one function that opens an article file (read_article). A listing is old
news by the time a file is opened: a FIFO swapped in would block a plain open()
for ever, and a link re-pointed (or a folder on the way replaced by a link)
would pull in a file from outside the folder. So the path is opened one part at
a time from the corpus folder's own descriptor, each part with O_NOFOLLOW (a
link found on the way is refused, except an article that is itself a link,
whose target is checked and opened the same way), the file with O_NONBLOCK,
and what was opened is judged by fstat on the descriptor: a regular file of at
most MAX_ARTICLE_BYTES, or it is refused with a reason.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_ARTICLE_BYTES = 20 * 1024 * 1024

_FILE_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_FOLDER_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFDIR: "a folder",
}


class LinkError(ValueError):
    """A link on the way to the file leads outside the folder or changed while it was opened."""


def check_size(size: int) -> None:
    """Refuse a file larger than MAX_ARTICLE_BYTES, saying how large it is."""
    if size > MAX_ARTICLE_BYTES:
        raise ValueError(f"is {size / 1e6:.0f} MB, over the {MAX_ARTICLE_BYTES // 2**20} MiB limit")


def special_kind(info: os.stat_result) -> str:
    """Say what a file that is not a regular file is, completing "the file ..."."""
    kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
    return f"is {kind}, not a regular file"


def read_article(root: str | os.PathLike[str], rel: str) -> tuple[bytes, os.stat_result]:
    """Read the file at rel ("a/b.txt") below root, with its fstat from before the read.

    Raises ValueError (completing "the file ...") for a file that is not a
    regular file, is too large, or lies outside root through a link; OSError
    when it cannot be read (FileNotFoundError when it is gone).
    """
    if os.open not in os.supports_dir_fd:  # not POSIX: the best a plain open can do
        fd = os.open(os.path.join(root, rel), _FILE_FLAGS | getattr(os, "O_BINARY", 0))
    else:
        root_fd = os.open(root, _FOLDER_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
        try:
            try:
                fd = _open_below(root_fd, rel)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.EMLINK):
                    raise
                fd = _open_link_target(root, root_fd, rel)
        finally:
            os.close(root_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(special_kind(info))
        check_size(info.st_size)
        data = _read_at_most(fd, MAX_ARTICLE_BYTES + 1)
    finally:
        os.close(fd)
    # Bounded: the file may have grown since fstat.
    check_size(len(data))
    return data, info


def _open_below(root_fd: int, rel: str) -> int:
    """Open rel below the folder root_fd one part at a time, following no link."""
    *folders, name = rel.split("/")
    if not name or any(part in ("", ".", "..") for part in folders) or name in (".", ".."):
        raise ValueError("has a path that leaves the corpus folder")
    fd = root_fd
    try:
        for part in folders:
            try:
                below = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
            except NotADirectoryError:
                # Linux says this of a link opened as a folder without following it.
                if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise OSError(errno.ELOOP, "A folder on the way is a link", rel) from None
                # A folder on the way became a file: the article is gone.
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", rel) from None
            if fd != root_fd:
                os.close(fd)
            fd = below
        return os.open(name, _FILE_FLAGS, dir_fd=fd)
    finally:
        if fd != root_fd:
            os.close(fd)


def _open_link_target(root: str | os.PathLike[str], root_fd: int, rel: str) -> int:
    """Open the target of an article that is a link, if it lies below root."""
    real_root = Path(os.path.realpath(root))
    try:
        target = Path(os.path.realpath(os.path.join(root, rel), strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkError("is a link that loops") from None
        raise
    if not target.is_relative_to(real_root) or target == real_root:
        raise LinkError("is a link that leads outside the corpus folder")
    inside = target.relative_to(real_root).as_posix()
    try:
        # The target's path holds no link (realpath resolved them all): one found now
        # was put there since, and is refused like any other.
        return _open_below(root_fd, inside)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise LinkError("changed into a link while it was opened") from None
        raise


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:
            # Only a special file would block, and those are refused before reading.
            raise ValueError("is not a regular file") from None
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
