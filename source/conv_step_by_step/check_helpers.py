"""The helpers of the notebooks' check cells, imported by each notebook's setup cell.

Imported first, before NumPy, this module keeps NumPy's matrix library (BLAS) to one thread: the
arrays of this course are small, and on a machine with several cores the threads of a
multi-threaded BLAS mostly wait for each other (in one learner's run of assignment 2, training
took 220 s with them and 45 s without). It also makes a check cell that reaches a function still a stub say so in one
line, and keeps the record that `progress()` prints at the end of a notebook.
"""

import os
import sys

_IN_JUPYTER = "IPython" in sys.modules and sys.modules["IPython"].get_ipython() is not None
if "numpy" not in sys.modules:  # read when NumPy loads its BLAS: this must come before `import numpy`
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[_variable] = "1"
elif _IN_JUPYTER:  # a kernel that loaded NumPy before this cell ran: limit its BLAS now
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass

import ast  # noqa: E402
import copy  # noqa: E402
import dis  # noqa: E402
import inspect  # noqa: E402
import linecache  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402


def show(array, prefix):
    """A number in full (repr), an array as NumPy prints it (8 decimals), aligned after `prefix`."""
    return repr(array.item()) if array.ndim == 0 else np.array2string(array, prefix=prefix)


def compare(label, yours, expected, rtol=1e-6, atol=1e-8):
    """Print `yours` beside `expected`; raise AssertionError naming what differs: shape or values.

    expected: a tuple is a shape (`yours` is then a shape too); anything else is an array or a
              number, printed to 8 decimals, hence the absolute tolerance of 1e-8.
    """
    print(label)
    if isinstance(expected, tuple):
        print(f"    yours:    {yours}\n    expected: {expected}")
        if tuple(yours) != expected:
            raise AssertionError(
                f"{label}: the shape is {tuple(yours)}, expected {expected}{axes_named(yours, expected)}"
            )
    else:
        yours, expected = np.asarray(yours), np.asarray(expected)
        print("    yours:    " + show(yours, "    yours:    "))
        print("    expected: " + show(expected, "    expected: "))
        if yours.shape != expected.shape:
            raise AssertionError(f"{label} has shape {yours.shape}, expected shape {expected.shape}")
        if expected.dtype == bool and yours.dtype != bool:
            raise AssertionError(f"{label} has dtype {yours.dtype}, expected dtype bool (True/False)")
        same = np.array_equal(yours, expected) if expected.dtype == bool else np.allclose(yours, expected, rtol, atol)
        if not same:
            raise AssertionError(f"{label}: the shape is right, the values differ from the expected ones")
    print("    ✓")


AXES = ("m (axis 0)", "the height n_H (axis 1)", "the width n_W (axis 2)", "the channels (axis 3)")


def axes_named(yours, expected) -> str:
    """For two 4-D shapes: which axes differ, e.g. ': the width n_W (axis 2) is wrong'."""
    if len(yours) != 4 or len(expected) != 4:
        return ""
    wrong = [AXES[k] for k in range(4) if yours[k] != expected[k]]
    return f": {' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong" if wrong else ""


def expect(label, passed, why):
    """Print `label` and ✓ when `passed`; otherwise raise AssertionError(why), which names the cause."""
    print(label)
    if not passed:
        raise AssertionError(why)
    print("    ✓")


def check_contract(function, *args, dtype=None, **kwargs):
    """Call function(*args, **kwargs) on copies and hold it to the course's contract; return its result.

    The contract: it uses only its arguments (no variable of the notebook), leaves its inputs as
    they were, and returns new arrays (not an input, nor a view of one). With `dtype` (say
    np.float32), every float array among the arguments is given in that dtype, and every float
    array it returns must have it.
    """
    name = function.__name__
    label = f"{name}: uses only its arguments, leaves them unchanged, returns new arrays"
    label += f", in {np.dtype(dtype).name}" if dtype is not None else ""
    read = globals_read(function)
    if read:
        names = ", ".join(f"`{n}`" for n in read)
        raise AssertionError(f"{name} reads the notebook's variable {names} instead of its own arguments")
    if dtype is not None:
        args, kwargs = cast_floats(args, dtype), cast_floats(kwargs, dtype)
    bound = inspect.signature(function).bind(*args, **kwargs)
    before = copy.deepcopy(dict(bound.arguments))
    result = function(*args, **kwargs)
    for parameter, value in bound.arguments.items():
        if not same_values(value, before[parameter]):
            raise AssertionError(
                f"{name} changed its input {parameter}: the caller's array must stay as it was given "
                "(an in-place operation such as `*=`, `+=`, `out=` or an assignment into a slice writes "
                "into the array it was passed, or into a view of it)"
            )
    settings = [f"{p} = {v!r}" for p, v in bound.arguments.items() if isinstance(v, (int, float, str))]
    when = f" when {' and '.join(settings)}" if settings else ""
    for returned in outputs(result):
        for parameter, value in bound.arguments.items():
            if returned is value:
                raise AssertionError(f"{name} returned its input {parameter} itself{when}: return a new array")
            if isinstance(value, np.ndarray) and np.shares_memory(returned, value):
                raise AssertionError(
                    f"{name} returned a view of its input {parameter}{when} (they share memory): return a new array"
                )
        if dtype is not None and returned.dtype.kind == "f" and returned.dtype != dtype:
            raise AssertionError(
                f"{name} returned dtype {returned.dtype} for {np.dtype(dtype).name} inputs: the dtype must be "
                "the one it is given (make new arrays with the input's dtype)"
            )
    print(label + "\n    ✓")
    return result


def globals_read(function) -> list[str]:
    """The names of the notebook's variables (not functions or modules) that `function` reads."""
    codes, names = [function.__code__], []
    while codes:
        code = codes.pop()
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
        names += [op.argval for op in dis.get_instructions(code) if op.opname == "LOAD_GLOBAL"]
    space = function.__globals__
    plain = lambda v: not callable(v) and not isinstance(v, types.ModuleType)
    return sorted({n for n in names if n in space and plain(space[n])})


def cast_floats(values, dtype):
    """`values` (a tuple, dict or array, nested) with every float array cast to `dtype`."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values.astype(dtype)
    if isinstance(values, dict):
        return {k: cast_floats(v, dtype) for k, v in values.items()}
    if isinstance(values, tuple):
        return tuple(cast_floats(v, dtype) for v in values)
    return values


def same_values(a, b) -> bool:
    """Equal arrays (NaN equal to NaN), or containers of them, recursively."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
    return True  # numbers and strings are passed by value


def outputs(result) -> list[np.ndarray]:
    """The arrays a function returned: the result, or the arrays of its tuple and their dicts' values.

    A nested tuple (the cache of a forward pass) may hold the inputs; it is left out.
    """
    items = result if isinstance(result, tuple) else (result,)
    found = []
    for item in items:
        found += list(item.values()) if isinstance(item, dict) else [item]
    return [item for item in found if isinstance(item, np.ndarray)]


# ---- Progress: what each check cell said when it last ran -------------------------------------

CHECKED = {}  # {exercise: {source of a check cell: "passed", or why not}}
_current = []  # the exercise of the check cell now running (set by checking())


def checking(exercise):
    """First line of a check cell: what it checks, for progress()."""
    _current[:] = [exercise]


def record(result):
    """IPython's post_run_cell hook: the outcome of a check cell, under its exercise."""
    if not _current:
        return
    exercise, error = _current.pop(), result.error_in_exec
    if error is None:
        outcome = "passed"
    elif isinstance(error, NotImplementedError) and not str(error):
        stub = traceback.extract_tb(error.__traceback__)[-1].name
        outcome = f"{stub} is not implemented yet"
    else:
        message = str(error) if isinstance(error, AssertionError) else f"{type(error).__name__}: {error}"
        outcome = "its check fails: " + message.splitlines()[0]
    CHECKED.setdefault(exercise, {})[result.info.raw_cell] = outcome


def progress(*exercises):
    """Print, for each exercise, whether its check cells passed when they last ran."""
    passed = 0
    print("Your checks, as they last ran (run a check cell again after you change its function):")
    for exercise in exercises:
        outcomes = list(CHECKED.get(exercise, {}).values())
        failed = [o for o in outcomes if o != "passed"]
        if not outcomes:
            print(f"  · {exercise}: its check has not run yet")
        elif failed:
            print(f"  ✗ {exercise}: {failed[0]}")
        else:
            passed += 1
            print(f"  ✓ {exercise}: passed")
    if passed == len(exercises):
        print(f"All {passed} exercises pass their checks: you are done. Grading runs more cases; see above.")
    else:
        print(f"{passed} of {len(exercises)} exercises pass their checks; done when all do.")


# ---- One line instead of a traceback for a stub ----------------------------------------------

UNMADE = {}  # a variable that a cell stopped by a stub did not make: (the stub, its code then)


def stub_in_one_line(shell, etype, value, tb, tb_offset=None):
    """In Jupyter, a cell that reaches a function still a stub says so in one line, and so does a
    later cell that needs a variable such a cell could not make. Any other error (one with a
    message of its own, or raised elsewhere) shows its traceback as usual."""
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    last = frames[-1]
    cell = next((f for f in frames if f.tb_frame.f_code.co_name == "<module>"), last)
    function = shell.user_ns.get(last.tb_frame.f_code.co_name)
    a_stub = getattr(function, "__code__", None) is last.tb_frame.f_code and not str(value)
    if etype is NotImplementedError and a_stub:
        made = (function.__name__, function.__code__)
        print(f"… {function.__name__} is not implemented yet: this cell runs once it is.")
    elif etype is NameError and last is cell and value.name in UNMADE:
        made = UNMADE[value.name]
        stub, code = made
        if getattr(shell.user_ns.get(stub), "__code__", None) is code:
            print(f"… skipped: it needs `{value.name}`, which an earlier cell could not make ", end="")
            print(f"({stub} is not implemented yet).")
        else:
            print(
                f"… `{value.name}` is not made yet: {stub} has changed since the cell that makes it stopped; ", end=""
            )
            print("run that cell again.")
    else:
        shell.showtraceback((etype, value, frames[0]), tb_offset=tb_offset)
        return
    assigned = ast.walk(ast.parse("".join(linecache.getlines(cell.tb_frame.f_code.co_filename))))
    UNMADE.update({n.id: made for n in assigned if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})


if _IN_JUPYTER:  # not in grading, which runs the cells as plain Python
    _shell = sys.modules["IPython"].get_ipython()
    _shell.set_custom_exc((NotImplementedError, NameError), stub_in_one_line)
    _shell.events.register("post_run_cell", record)
