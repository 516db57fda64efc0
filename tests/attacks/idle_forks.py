import os, time
children = 0
while children < 100:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            block = b"\1" * (8 << 20)
            time.sleep(60)
        finally:
            os._exit(0)
    children += 1
time.sleep(0.6)
raise RuntimeError(f"IDLE FORKS: {children} children of 8 MiB each")
