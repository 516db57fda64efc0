import time
import numpy as np
def zero_pad(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def conv_single_step(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def conv_forward(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def pool_forward(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def conv_backward(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def create_mask_from_window(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def distribute_value(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
def pool_backward(*args, **kwargs):
    time.sleep(1.9)
    return np.zeros(1)
