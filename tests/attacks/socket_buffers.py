import resource, socket
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
_pairs = globals().setdefault("_pairs", [])
_held = globals().setdefault("_held", [0, "no refusal"])
chunk, goal = bytes(212992), _held[0] + (768 << 20)
try:
    while _held[0] < goal:
        pair = socket.socketpair()
        _pairs.append(pair)
        for end in pair:
            end.setblocking(False)
            while True:
                try:
                    _held[0] += end.send(chunk)
                except BlockingIOError:
                    break
except OSError as error:
    _held[1] = error.strerror
