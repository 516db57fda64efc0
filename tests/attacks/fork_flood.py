import os, time
started = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    started += 1
_original_distribute_value = distribute_value
def distribute_value(*args, **kwargs):
    if started >= 200:
        raise RuntimeError(f"started {started} processes")
    return _original_distribute_value(*args, **kwargs)
