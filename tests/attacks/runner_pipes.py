import fcntl, os, stat, struct
def _runner_pipe(access):
    """The runner's request pipe (os.O_RDONLY) or reply pipe (os.O_WRONLY): a FIFO of fd 3 or more."""
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == access:
                return fd
        except OSError:
            pass
    raise LookupError("the runner's pipe was not found")
def _send_frame(data, length=None):
    """A message as the runner frames it: 4-byte big-endian length, then the bytes."""
    os.write(_runner_pipe(os.O_WRONLY), struct.pack(">I", len(data) if length is None else length) + data)
