import ctypes, os, subprocess
outcomes = []
command = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=4g none /tmp && echo MOUNTED"],
                         capture_output=True, text=True)
outcomes.append("unshare -rm: " + (command.stdout + command.stderr).strip())
libc = ctypes.CDLL(None, use_errno=True)
for name, flags in (("user+mount", 0x10000000 | 0x00020000), ("mount", 0x00020000)):
    if libc.unshare(flags) == 0:
        mounted = libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=4g")
        outcomes.append(f"unshare({name}) done, mount: {os.strerror(ctypes.get_errno()) if mounted else 'MOUNTED'}")
    else:
        outcomes.append(f"unshare({name}): {os.strerror(ctypes.get_errno())}")
raise RuntimeError("UNSHARE " + "; ".join(outcomes))
