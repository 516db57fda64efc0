import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def _outcome(result):
    return f"key {result}" if result >= 0 else os.strerror(ctypes.get_errno())
