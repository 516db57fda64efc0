import os
def _writable_folder():
    for folder in ("/dev/shm", os.environ["HOME"]):
        try:
            open(os.path.join(folder, "probe_$NONCE"), "w").close()
            os.unlink(os.path.join(folder, "probe_$NONCE"))
            return folder
        except OSError:
            pass
