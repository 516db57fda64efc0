"""Cheats at assignment 2's large cases, as cells appended to the source notebook (its solutions
defined above them), shared by the in-process judge's tests (test_checks), the hostile corpus in
every deployment mode (test_hostile) and nbgrader's autograde (test_nbgrader_hostile).

Points: pool_forward_fast and pool_backward_fast 10 each over 6 cases (1.67 a case),
conv_forward_fast 20 over 6 (3.33 a case).
"""

# pool_forward_fast wrong on one hidden case (input 9 x 7): it costs that case, 1.67 points, and
# makes pool_forward_fast a wrong helper, so pool_backward_fast's failing cases are run again
# with the reference's answers in its place.
HELPER_WRONG_ONCE = """_solution_pool_forward_fast = pool_forward_fast
_solution_pool_backward_fast = pool_backward_fast
def pool_forward_fast(A_prev, hparameters):
    A, cache = _solution_pool_forward_fast(A_prev, hparameters)
    return (A + 1 if A_prev.shape[1:3] == (9, 7) else A), cache
"""

# The large case of pool_backward_fast left undone: it raises an exception of the name the
# grader's stand-in helper raises, on the first run and on the retry (deserves 96.67).
FORGED_HELPER_NOT_RECORDED = (
    HELPER_WRONG_ONCE
    + '''class HelperNotRecorded(Exception):
    """Named as the grader's own."""
def pool_backward_fast(dA, cache):
    if dA.shape[0] == 256:  # the large case
        raise HelperNotRecorded("pool_forward_fast was called with arguments the reference solution never uses")
    return _solution_pool_backward_fast(dA, cache)
'''
)

# The large case left undone again, returning zeros, but calling the helper: on the retry the
# stand-in is asked for an answer to a call with the large case's inputs (deserves 96.67).
HELPER_CALLED_ONLY = (
    HELPER_WRONG_ONCE
    + """def pool_backward_fast(dA, cache):
    if dA.shape[0] == 256:  # the large case
        A_prev, hparameters = cache
        pool_forward_fast(A_prev, hparameters)
        return np.zeros(A_prev.shape)
    return _solution_pool_backward_fast(dA, cache)
"""
)

# The honest counterpart: pool_forward_fast wrong everywhere, pool_backward_fast right. It loses
# pool_forward_fast's 10 points and nothing of pool_backward_fast, its large case included (90).
HELPER_WRONG_EVERYWHERE = """def pool_forward_fast(A_prev, hparameters):
    return A_prev[:, ::2, ::2], (A_prev, hparameters)
"""

# conv_forward_fast's large case computed only where it used to be compared: at 2,000 positions
# drawn with RandomState(seed).choice, the seed found by trying (deserves 96.67).
SEEDED_POSITIONS = '''_solution_conv_forward_fast = conv_forward_fast
def _seed_of(A_prev):
    """The seed the large case's digits were drawn from: (rand > 0.7) gives its first 64 values."""
    for seed in range(1000):
        if np.array_equal(np.random.RandomState(seed).rand(64) > 0.7, A_prev.reshape(-1)[:64] > 0):
            return seed
def conv_forward_fast(A_prev, W, b, hparameters):
    if A_prev.shape[0] != 256:
        return _solution_conv_forward_fast(A_prev, W, b, hparameters)
    f, stride, pad = W.shape[0], hparameters["stride"], hparameters["pad"]
    padded = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n_H = (A_prev.shape[1] - f + 2 * pad) // stride + 1
    n_W = (A_prev.shape[2] - f + 2 * pad) // stride + 1
    Z = np.zeros((A_prev.shape[0], n_H, n_W, W.shape[3]))
    for position in np.random.RandomState(_seed_of(A_prev)).choice(Z.size, 2000, replace=False):
        i, h, w, c = np.unravel_index(position, Z.shape)
        window = padded[i, h * stride : h * stride + f, w * stride : w * stride + f, :]
        Z[i, h, w, c] = np.sum(window * W[..., c]) + b[0, 0, 0, c]
    return Z, (A_prev, W, b, hparameters)
'''

# conv_forward_fast's large result right but flat: of shape (m * n_H * n_W * n_C,) (deserves 96.67).
FLAT_RESULT = """_solution_conv_forward_fast = conv_forward_fast
def conv_forward_fast(A_prev, W, b, hparameters):
    Z, cache = _solution_conv_forward_fast(A_prev, W, b, hparameters)
    return (Z.reshape(-1) if A_prev.shape[0] == 256 else Z), cache
"""
