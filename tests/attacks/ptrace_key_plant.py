key = _injected(1, 248, b"user", b"ptrace_$NONCE", b"EXFIL", 5, -3)  # add_key
if isinstance(key, int):
    _injected(1, 250, 15, key, 120)  # KEYCTL_SET_TIMEOUT: gone from the kernel in 2 minutes
raise RuntimeError(f"PTRACE_KEY planted: {key}")
