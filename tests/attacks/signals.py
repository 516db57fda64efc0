import os, signal
for pid, sig in ((os.getppid(), signal.SIGKILL), (1, signal.SIGTERM), (-1, signal.SIGKILL)):
    try:
        os.kill(pid, sig)
    except OSError as error:
        print(error)
