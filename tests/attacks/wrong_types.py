def zero_pad(X, pad):
    return "padded"
def conv_single_step(a_slice_prev, W, b):
    return {"Z": 1.0}
def conv_forward(A_prev, W, b, hparameters):
    return None
def distribute_value(dz, shape):
    return [["x"] * shape[1]] * shape[0]
