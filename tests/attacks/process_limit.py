import os
children, refusal = 0, "no refusal"
while children < 500:
    try:
        pid = os.fork()
    except OSError as error:
        refusal = str(error)
        break
    if pid == 0:
        try:
            os.setsid()
            os.execv("/bin/sleep", ["sleep", "301.$NONCE"])
        finally:
            os._exit(1)
    children += 1
raise RuntimeError(f"FORKED {children} children, then {refusal}")
