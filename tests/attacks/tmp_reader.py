_original_zero_pad = zero_pad
def zero_pad(*args, **kwargs):
    import os
    for path in ('$LEAK', '$HOST_MARKER'):
        if os.path.exists(path):
            break
    else:
        raise FileNotFoundError("nothing shared in /tmp: " + repr(sorted(os.listdir("/tmp"))))
    return _original_zero_pad(*args, **kwargs)
