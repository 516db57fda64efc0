_original_zero_pad = zero_pad
def zero_pad(*args, **kwargs):
    open('$LEAK', 'w').write('secret')
    return _original_zero_pad(*args, **kwargs)
_original_distribute_value = distribute_value
def distribute_value(*args, **kwargs):
    assert open('$LEAK').read() == 'secret'
    return _original_distribute_value(*args, **kwargs)
_original_conv_single_step = conv_single_step
def conv_single_step(*args, **kwargs):
    open('$HACK', 'w').write('hacked')
    return _original_conv_single_step(*args, **kwargs)
