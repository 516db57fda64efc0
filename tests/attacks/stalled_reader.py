import json, signal, sys, time
_runner = sys.modules["__main__"]
def _stalled_read_message(stream):
    header = _runner.read_exactly(stream, 4)
    if len(header) < 4:
        return None
    length = int.from_bytes(header, "big")
    if length > 100_000:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        time.sleep(3600)
    return json.loads(_runner.read_exactly(stream, length))
_runner.read_message = _stalled_read_message
