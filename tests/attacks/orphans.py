import os, subprocess, time
sleeper = subprocess.Popen(["sleep", "300.$NONCE"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:  # a disguise, where the learner sees a /proc (without namespaces of its own)
            with open("/proc/self/comm", "w") as comm:
                comm.write("$DAEMON_NAME")
        except FileNotFoundError:
            pass
        with open("/tmp/daemon.pid", "w") as pidfile:
            pidfile.write(str(os.getpid()))
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
for _ in range(100):
    if os.path.exists("/tmp/daemon.pid") and os.path.getsize("/tmp/daemon.pid"):
        break
    time.sleep(0.01)
os.kill(int(open("/tmp/daemon.pid").read()), 0)
assert sleeper.poll() is None
