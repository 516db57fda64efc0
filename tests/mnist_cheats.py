"""Cheats at assignment 2's large cases, as cells appended to the source notebook (its solutions
defined above them), shared by the in-process judge's tests (test_checks), the hostile corpus in
every deployment mode (test_hostile) and nbgrader's autograde (test_nbgrader_hostile). Their text
is in tests/attacks/mnist/, a file each.

Points: pool_forward_fast and pool_backward_fast 10 each over 6 cases (1.67 a case),
conv_forward_fast 20 over 6 (3.33 a case).
"""

from attack_files import attack

# pool_forward_fast wrong on one hidden case (input 9 x 7): it costs that case, 1.67 points, and
# makes pool_forward_fast a wrong helper, so pool_backward_fast's failing cases are run again
# with the reference's answers in its place.
HELPER_WRONG_ONCE = attack("mnist/helper_wrong_once")

# The large case of pool_backward_fast left undone: it raises an exception of the name the
# grader's stand-in helper raises, on the first run and on the retry (deserves 96.67).
FORGED_HELPER_NOT_RECORDED = HELPER_WRONG_ONCE + attack("mnist/forged_helper_not_recorded")

# The large case left undone again, returning zeros, but calling the helper: on the retry the
# stand-in is asked for an answer to a call with the large case's inputs (deserves 96.67).
HELPER_CALLED_ONLY = HELPER_WRONG_ONCE + attack("mnist/helper_called_only")

# The honest counterpart: pool_forward_fast wrong everywhere, pool_backward_fast right. It loses
# pool_forward_fast's 10 points and nothing of pool_backward_fast, its large case included (90).
HELPER_WRONG_EVERYWHERE = attack("mnist/helper_wrong_everywhere")

# conv_forward_fast's large case computed only where it used to be compared: at 2,000 positions
# drawn with RandomState(seed).choice, the seed found by trying (deserves 96.67).
SEEDED_POSITIONS = attack("mnist/seeded_positions")

# conv_forward_fast's large result right but flat: of shape (m * n_H * n_W * n_C,) (deserves 96.67).
FLAT_RESULT = attack("mnist/flat_result")
