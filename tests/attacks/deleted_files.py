import time
held, refusal, kept = 0, "no refusal", []
try:
    while held < 1536 << 20:
        path = os.path.join(_writable_folder(), f"deleted_${NONCE}_{held >> 27}")
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.unlink(path)
        kept.append(fd)
        os.posix_fallocate(fd, 0, 128 << 20)
        held += 128 << 20
except OSError as error:
    refusal = error.strerror
time.sleep(0.6)
raise RuntimeError(f"HOG {'refused within' if held <= 1 << 30 else 'held beyond'} the limit: "
                   f"{held >> 20} MiB in deleted files, then {refusal}")
