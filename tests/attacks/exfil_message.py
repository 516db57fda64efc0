def conv_forward(A_prev, W, b, hparameters):
    raise ValueError("EX" + "FIL " + _secret(A_prev))
