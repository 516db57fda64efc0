_searches = []
def _planted_key():
    while not _searches or (not isinstance(_searches[-1], int) and len(_searches) < 10):
        if _searches:
            time.sleep(0.1)
        _searches.append(_injected(1, 250, 10, -3, b"user", b"ptrace_$NONCE", 0))  # KEYCTL_SEARCH, session
    if not isinstance(_searches[-1], int):
        raise LookupError(f"KEY not found: {_searches[-1]}")
_original_zero_pad = zero_pad
def zero_pad(*args, **kwargs):
    _planted_key()
    return _original_zero_pad(*args, **kwargs)
