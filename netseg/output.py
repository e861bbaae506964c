"""Writing every output netseg produces: complete or not at all.

One module for every command's ``-o/--output``, ``--evidence`` and standard output:

* a regular file, or a path that does not exist yet, is written atomically: a temporary file
  next to the target, renamed into place once every byte is written and flushed;
* a symbolic link is written through: the temporary file goes next to the link's (final)
  target, which is replaced; the link itself stays;
* anything else that exists (a FIFO, ``/dev/null``, a terminal or another character device,
  a socket) is written directly, never replaced;
* ``-`` (or no path) is standard output, written directly.

Data goes to the operating system in bounded chunks (:data:`CHUNK`), each write checked: a
short or failed write (a full disk, a closed pipe: ``EPIPE`` is an error here, not a silent
death by ``SIGPIPE``) raises :class:`~netseg.errors.OutputError` (exit code 2), as does a path
that cannot be written (a missing or read-only folder, a directory). The message says what
became of the output: a file is left as it was (or not created); a stream (standard output, a
pipe, a device) has an incomplete output, and the message says after how many bytes. Files get
the permissions an ordinary write would give them (``0666`` less the umask), whatever wrote
them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from netseg.errors import OutputError

__all__ = ["CHUNK", "Output", "check_writable", "open_output", "write_output"]

#: Bytes handed to the operating system in one write. One CPython text write of more than
#: 2 GiB is silently cut; nothing here ever asks for more than this.
CHUNK = 1 << 20


def _reason(e: OSError) -> str:
    if e.errno == errno.EPIPE:
        return "cannot be written: the reader closed the pipe"
    return f"cannot be written: {e.strerror or e}"


class Output:
    """A checked, unbuffered binary sink: :meth:`write` writes everything or raises.
    ``fate`` says what a failed write leaves (for the message): ``None`` for a stream, whose
    output is then incomplete; else the sentence for the file (left as it was, not created)."""

    def __init__(self, fd: int | None, name: str, fate: str | None = None) -> None:
        self.fd = fd
        self.name = name
        self.fate = fate
        self.written = 0

    def _failed(self, reason: str) -> OutputError:
        if self.fate is not None:
            return OutputError(self.name, f"{reason}; {self.fate}")
        return OutputError(
            self.name, f"{reason}; the output is incomplete (cut after {self.written:,} bytes)"
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            piece = view[:CHUNK]
            try:
                n = self._write(piece)
            except OSError as e:
                raise self._failed(_reason(e)) from None
            if not n or n < 0:
                raise self._failed("cannot be written: the write was refused")
            self.written += n
            view = view[n:]

    def _write(self, piece: memoryview) -> int:
        if self.fd is not None:
            return os.write(self.fd, piece)
        # standard output replaced by an object without a descriptor (an embedding program,
        # a test harness): its binary buffer, or its text layer
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            n: int | None = buffer.write(piece)
            buffer.flush()
            return len(piece) if n is None else n
        sys.stdout.write(bytes(piece).decode("utf-8", "surrogateescape"))
        return len(piece)


def write_output(
    data: str | bytes | Iterable[bytes], output: str | os.PathLike[str] | None
) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``output`` (None or ``-``: standard output)."""
    with open_output(output) as sink:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if isinstance(data, bytes):
            sink.write(data)
        else:
            for piece in data:
                sink.write(piece)


def _stdout_fd() -> int | None:
    try:
        return sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def open_output(output: str | os.PathLike[str] | None) -> Iterator[Output]:
    """A sink for ``output``; a file appears (or is replaced) only when the block ends without
    an exception. Raises OutputError when the path cannot be written."""
    if output is None or str(output) == "-":
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stdout.flush()  # what was printed before comes first
        yield Output(_stdout_fd(), "standard output")
        return
    name = str(output)
    try:
        st: os.stat_result | None = os.stat(output)  # through symbolic links
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(name, _reason(e)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(name, "cannot be written: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # a FIFO, a device, a socket: written into, never replaced
        try:
            fd = os.open(output, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise OutputError(name, _reason(e)) from None
        try:
            yield Output(fd, name)
        finally:
            os.close(fd)
        return
    # a regular file or a new path; a symbolic link's final target is the file replaced
    with _atomic(Path(os.path.realpath(output)), name) as sink:
        yield sink


@contextlib.contextmanager
def _atomic(target: Path, name: str) -> Iterator[Output]:
    directory = target.parent
    if not directory.is_dir():
        raise OutputError(name, f"cannot be written: the folder {directory} does not exist")
    fate = "it is left as it was" if target.exists() else "it was not created"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        # /proc, a read-only mount: the file is written beside its target or not at all
        why = f"no temporary file can be made in {directory} ({e.strerror or e})"
        raise OutputError(name, f"cannot be written: {why}; {fate}") from None
    try:
        yield Output(fd, name, fate)
        try:
            os.fsync(fd)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise OutputError(name, f"{_reason(e)}; {fate}") from None
        # mkstemp creates 0600; give the file the permissions an ordinary write would have
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        os.close(fd)
        fd = -1
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise OutputError(name, f"{_reason(e)}; {fate}") from None
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_writable(output: str | os.PathLike[str] | None) -> None:
    """Raise OutputError now if ``output`` could not be written later: commands check their
    outputs before long work, so that a replay of hours does not end on a missing folder."""
    if output is None or str(output) == "-":
        return
    name = str(output)
    try:
        st = os.stat(output)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(name, _reason(e)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(name, "cannot be written: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not os.access(output, os.W_OK):
            raise OutputError(name, "cannot be written: permission denied")
        return
    directory = Path(os.path.realpath(output)).parent
    if not directory.is_dir():
        raise OutputError(name, f"cannot be written: the folder {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(name, f"cannot be written: the folder {directory} is not writable")
