outcomes = []
for keyring in (-3, -4):  # add_key to the session and the user keyring
    outcomes.append(_outcome(libc.syscall(ctypes.c_long(248), b"user", b"hostile_$NONCE", b"EXFIL",
                                          ctypes.c_size_t(5), ctypes.c_long(keyring))))
raise RuntimeError("ADD_KEY " + ", ".join(outcomes))
