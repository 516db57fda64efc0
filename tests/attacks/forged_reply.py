import os, struct
for fd in range(3, 10):
    try:
        os.write(fd, struct.pack(">I", 7) + b"garbage")
    except OSError:
        pass
