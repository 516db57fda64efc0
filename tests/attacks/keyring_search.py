def _planted_key():
    outcomes = []
    for keyring in (-3, -4):  # KEYCTL_SEARCH in the session and the user keyring
        found = libc.syscall(ctypes.c_long(250), ctypes.c_long(10), ctypes.c_long(keyring), b"user",
                             b"hostile_$NONCE", ctypes.c_long(0))
        if found >= 0:
            return found
        outcomes.append(_outcome(found))
    found = libc.syscall(ctypes.c_long(249), b"user", b"hostile_$NONCE", None, ctypes.c_long(0))
    if found >= 0:
        return found
    raise LookupError("KEY not found: " + ", ".join(outcomes + [_outcome(found)]))
_original_zero_pad = zero_pad
def zero_pad(*args, **kwargs):
    _planted_key()
    return _original_zero_pad(*args, **kwargs)
