import time
top = os.path.join(_writable_folder(), "hide_$NONCE")
os.mkdir(top)
here = os.open(".", os.O_RDONLY)
os.chdir(top)
for _ in range(20):
    os.mkdir("d" * 250)
    os.chdir("d" * 250)
os.fchdir(here)
written, refusal = 0, "no refusal"
try:
    while written < 1536 << 20:
        fd = os.open(os.path.join(top, f"fill{written >> 27}"), os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, 128 << 20)
        finally:
            os.close(fd)
        written += 128 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"FILL {'stopped within' if written <= 1 << 30 else 'went beyond'} the limit: "
                   f"{written >> 20} MiB, then {refusal}")
