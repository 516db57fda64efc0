import time
time.sleep(0.6)
raise RuntimeError(f"BUFFERS {'refused within' if _held[0] <= 1 << 30 else 'held beyond'} the limit: "
                   f"{_held[0] >> 20} MiB in {len(_pairs)} socket pairs, then {_held[1]}")
