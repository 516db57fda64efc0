import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
mine = {os.getpid()}
attached, refused = [], 0
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) not in mine:
        if libc.ptrace(16, int(entry), None, None) == 0:  # PTRACE_ATTACH
            attached.append(int(entry))
            libc.ptrace(17, int(entry), None, None)  # PTRACE_DETACH
        else:
            refused += 1
raise RuntimeError(f"PTRACE attached to {attached or 'nothing'}, refused {'some' if refused else 'none'}")
