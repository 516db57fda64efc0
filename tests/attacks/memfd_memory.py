import os, time
held, refusal = 0, "no refusal"
try:
    for number in range(5):
        fd = os.memfd_create(f"hog{number}")
        os.posix_fallocate(fd, 0, 256 << 20)
        held += 256 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"HOG {'refused within' if held <= 1 << 30 else 'held beyond'} the limit: "
                   f"{held >> 20} MiB, then {refusal}")
