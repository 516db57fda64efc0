_original_conv_forward, _original_pool_forward = conv_forward, pool_forward
def conv_forward(A_prev, W, b, hparameters):
    return [[1, 2], [3]], _original_conv_forward(A_prev, W, b, hparameters)[1]
def pool_forward(A_prev, hparameters, mode="max"):
    return _original_pool_forward(A_prev, hparameters, mode)[0], (A_prev, np.array([1, 2]))
