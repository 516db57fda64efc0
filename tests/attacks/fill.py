import os, time
written, refusal = 0, "no refusal"
try:
    while written < 1536 << 20:
        fd = os.open(os.path.join($FOLDER, f"fill{written >> 26}"), os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, 64 << 20)
        finally:
            os.close(fd)
        written += 64 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"FILL {'stopped within' if written <= 1 << 30 else 'went beyond'} the limit: "
                   f"{written >> 20} MiB, then {refusal}")
