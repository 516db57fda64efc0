import os, subprocess, time
sleeper = subprocess.Popen(["sleep", "302.$NONCE"])
here = os.open(".", os.O_RDONLY)
os.chdir(os.environ["HOME"])
for _ in range(1500):
    os.mkdir("d")
    os.chdir("d")
os.fchdir(here)
time.sleep(0.6)
raise RuntimeError("DEEP folders: 1500 levels, sleeper " + ("running" if sleeper.poll() is None else "ended"))
