"""Reference data in HDF5: every case's inputs, the reference outputs, and recorded helper answers.

Layout of <assignment>.h5:
    /<exercise>/<case>/inputs/<name>    an array dataset, or an attribute of inputs/ for a number
                                        or a string; a tuple of ints is a dataset marked tuple=True;
                                        a dict (a network's parameters) is a group of the same kind
    /<exercise>/<case>/outputs/<k>      the k-th output of the reference solution (k = 0, 1, ...)
    /<exercise>/<case>/helpers/<helper>/keys, answers
                                        every call the reference made to a helper exercise during
                                        this case: runner.helper_key of the arguments, and the answers
                                        as one gzip-compressed UTF-8 JSON list of runner.encode forms,
                                        where {"__argument__": k} stands for the call's k-th argument
                                        handed back (see recorded_form)
Cases keep their order through the attribute `order` on each case group. The recorded helper
answers let the grader replace a learner's wrong helper without shipping any solution code.
"""

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..assignments import Exercise, judged_functions
from .runner import decode, encode, helper_key, seal

# Recorded answers larger than this are left out (conv_windows' in conv_backward_fast's large case,
# about 100 MiB: a helper without points), and a case that needs them stays failed. Those of a
# helper with points of its own fit (pool_forward_fast's in pool_backward_fast's large case, 4.3 MiB),
# so that case is judged by what the learner's code returns given them, like every other.
MAX_HELPER_ANSWERS = 16 * 2**20


@dataclass
class Case:
    name: str
    inputs: dict
    expected: tuple
    helpers: dict = field(default_factory=dict)  # helper name -> {key: answer in runner.encode's form}
    _sealed: dict = field(default_factory=dict, repr=False, compare=False)
    # Reads `helpers` when they are first needed (read_all_cases): a large case's are megabytes.
    _read_helpers: Callable[[], dict] | None = field(default=None, repr=False, compare=False)

    def sealed(self, helpers: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """{helper: its recorded answers in this case, sealed as they are sent (runner.seal)}, each
        read and sealed on first use: most submissions never need them."""
        if self._read_helpers:
            self.helpers, self._read_helpers = self._read_helpers(), None
        for helper in helpers:
            if helper not in self._sealed:
                self._sealed[helper] = seal(self.helpers.get(helper, {}))
        return {helper: self._sealed[helper] for helper in helpers}


def run_recording_helpers(ref: dict, ex: Exercise, inputs: dict) -> tuple[tuple, dict]:
    """Run the reference for one case; return its outputs and {helper: {key: answer}} of its helper calls.

    `ref` is the namespace the reference functions were defined in, so their global lookups of
    a helper see the recording wrapper put there for the duration of the call.
    """
    recorded = {helper: {} for helper in ex.helpers}
    originals = {helper: ref[helper] for helper in ex.helpers}

    def recording(helper: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            answer = originals[helper](*args, **kwargs)
            arguments = args + tuple(kwargs.values())
            key, form = helper_key(arguments), recorded_form(answer, arguments)
            if key in recorded[helper] and json.dumps(recorded[helper][key]) != json.dumps(form):
                raise ValueError(f"two calls of {helper} with different answers have the same helper_key")
            recorded[helper][key] = form
            return answer

        return wrapper

    ref.update({helper: recording(helper) for helper in ex.helpers})
    try:
        outputs = ex.call(ref[ex.name], copy.deepcopy(inputs))
    finally:
        ref.update(originals)
    return outputs, recorded


def recorded_form(answer: object, arguments: tuple) -> object:
    """runner.encode(answer), with each array that is one of `arguments` itself written as
    {"__argument__": its index}: a layer's cache hands back its input, which the learner's call
    already holds (in a large case, megabytes the grader need neither store nor send)."""
    for index, argument in enumerate(arguments):
        if answer is argument and isinstance(argument, np.ndarray):
            return {"__argument__": index}
    if type(answer) is tuple:
        return {"__tuple__": [recorded_form(item, arguments) for item in answer]}
    if type(answer) is list:
        return [recorded_form(item, arguments) for item in answer]
    return encode(answer)


def write_reference(path: Path, assignment: str, ref: dict) -> None:
    """Compute every case of `assignment` with the reference functions in `ref`; write them to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", track_order=True) as h5:
        for ex in judged_functions(assignment):
            group = h5.create_group(ex.name)
            for order, (case_name, inputs) in enumerate(ex.cases(ref)):
                outputs, recorded = run_recording_helpers(ref, ex, inputs)
                case = group.create_group(case_name)
                case.attrs["order"] = order
                write_inputs(case.create_group("inputs"), inputs)
                out_group = case.create_group("outputs")
                for k, value in enumerate(outputs):
                    out_group.create_dataset(str(k), data=np.asarray(value), track_times=False)
                for helper, answers in recorded.items():
                    # Answers may be tuples of arrays of any shapes (a layer's output and cache): plain
                    # data as the grader sends it to the learner, as compressed UTF-8 JSON.
                    text = json.dumps(list(answers.values())).encode("utf-8")
                    if not answers or len(text) > MAX_HELPER_ANSWERS:  # e.g. no mask in average pooling
                        continue
                    helper_group = case.create_group(f"helpers/{helper}")
                    helper_group.create_dataset("keys", data=np.array(list(answers), dtype="S40"), track_times=False)
                    helper_group.create_dataset(
                        "answers", data=np.frombuffer(text, dtype=np.uint8), compression="gzip", track_times=False
                    )


def write_inputs(group: h5py.Group, inputs: dict) -> None:
    for name, value in inputs.items():
        if isinstance(value, dict):  # e.g. a network's parameters
            write_inputs(group.create_group(name), value)
        elif isinstance(value, np.ndarray):
            group.create_dataset(name, data=value, track_times=False)
        elif isinstance(value, tuple):
            group.create_dataset(name, data=np.asarray(value, dtype=np.int64), track_times=False)
            group[name].attrs["tuple"] = True
        else:
            group.attrs[name] = value


def read_inputs(group: h5py.Group) -> dict:
    inputs = {}
    for name, value in group.attrs.items():
        inputs[name] = value.item() if isinstance(value, np.generic) else value
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            inputs[name] = read_inputs(item)
            continue
        data = item[()]
        inputs[name] = tuple(int(v) for v in data) if item.attrs.get("tuple") else data
    return inputs


def read_helpers(group: h5py.Group) -> dict[str, dict]:
    """{helper: {key: answer}} of one case, each answer in runner.encode's form."""
    return {
        helper: dict(zip((key.decode() for key in data["keys"][()]), read_answers(data["answers"])))
        for helper, data in group.items()
    }


def read_case_helpers(path: Path, name: str) -> dict[str, dict]:
    """read_helpers of the group `name` in the reference file at `path`."""
    with h5py.File(path, "r") as h5:
        return read_helpers(h5[name])


def read_answers(dataset: h5py.Dataset) -> list:
    """The recorded answers of one helper in one case (encoded), in the order of its keys."""
    return json.loads(dataset[()].tobytes().decode("utf-8"))


@lru_cache(maxsize=8)
def read_all_cases(path: Path) -> dict[str, list[Case]]:
    """{exercise: [Case]} from a reference file, in the order they were written (read once per process)."""
    result = {}
    with h5py.File(path, "r") as h5:
        for exercise, group in h5.items():
            names = sorted(group, key=lambda name: group[name].attrs["order"])
            result[exercise] = [
                Case(
                    name,
                    read_inputs(group[name]["inputs"]),
                    tuple(group[name]["outputs"][str(k)][()] for k in range(len(group[name]["outputs"]))),
                    _read_helpers=partial(read_case_helpers, path, f"{exercise}/{name}/helpers")
                    if "helpers" in group[name]
                    else None,
                )
                for name in names
            ]
    return result


def read_meanwhile(paths: list[Path]) -> Callable[[], None]:
    """Start reading reference files in threads (read_all_cases keeps them); returns a function that
    waits until they are read. A file that cannot be read is left for grading to report."""

    def read(path: Path) -> None:
        try:
            read_all_cases(path)
        except Exception:
            pass

    threads = [threading.Thread(target=read, args=(path,), daemon=True) for path in paths]
    for thread in threads:
        thread.start()

    def wait() -> None:
        for thread in threads:
            thread.join()

    return wait


class ArgumentNames:
    """Stands for a call's arguments where none is at hand: the k-th is the text "argument k"."""

    def __getitem__(self, index: int) -> str:
        return f"argument {index}"


ARGUMENT_NAMES = ArgumentNames()


def same_content(path_a: Path, path_b: Path, rtol: float = 1e-9) -> bool:
    """True when two reference files hold the same groups, attributes and values.

    Floating-point values may differ in their last bits (relative `rtol`, far below the grading
    tolerance): a sum's order, and so its rounding, depends on the machine's BLAS, its threads
    and its processor, and the committed file must not go stale from one machine to the next.
    """

    def flatten(path: Path) -> dict[str, Any]:
        items = {}
        with h5py.File(path, "r") as h5:

            def visit(name: str, obj: h5py.Group | h5py.Dataset) -> None:
                items[name + "@attrs"] = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
                if isinstance(obj, h5py.Dataset):
                    items[name] = (
                        [decode(a, arguments=ARGUMENT_NAMES) for a in read_answers(obj)]
                        if name.endswith("/answers")
                        else obj[()]
                    )

            h5.visititems(visit)
        return items

    def same(a: object, b: object) -> bool:
        if isinstance(a, (list, tuple)):  # recorded helper answers: plain data
            return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if not isinstance(a, np.ndarray) and not isinstance(a, np.generic):
            return a == b
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind == "f":
            return bool(np.allclose(a, b, rtol=rtol, atol=0.0, equal_nan=True))
        return bool(np.array_equal(a, b))

    a, b = flatten(path_a), flatten(path_b)
    return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
