import ctypes, os, time
time.sleep(0.6)
try:
    rows = [line.split() for line in open("/proc/sysvipc/shm").read().splitlines()[1:]]
    held = sum(int(row[3]) for row in rows if int(row[9]) == os.getuid())  # size, creator's uid
except OSError:  # no /proc (a learner with namespaces of its own): ask shmctl(0, SHM_INFO) instead
    info = (ctypes.c_ulong * 6)()
    ctypes.CDLL(None).shmctl(0, 14, info)
    held = info[1] * os.sysconf("SC_PAGE_SIZE")  # shm_tot: pages of all segments in its IPC namespace
raise RuntimeError(f"HOG {'refused within' if held <= 1 << 30 else 'held beyond'} the limit: {held >> 20} MiB")
