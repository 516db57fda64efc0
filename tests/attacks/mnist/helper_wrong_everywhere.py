def pool_forward_fast(A_prev, hparameters):
    return A_prev[:, ::2, ::2], (A_prev, hparameters)
