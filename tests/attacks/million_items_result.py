def distribute_value(dz, shape):
    return [0] * 1_000_000
