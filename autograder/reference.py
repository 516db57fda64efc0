"""Reference data in HDF5: every case's inputs and the reference solution's outputs.

Layout of <assignment>.h5:
    /<exercise>/<case>/inputs/<name>    an array dataset, or an attribute of inputs/ for a number
                                        or a string; a tuple of ints is a dataset marked tuple=True
    /<exercise>/<case>/outputs/<k>      the k-th output of the reference solution (k = 0, 1, ...)
Cases keep their order through the attribute `order` on each case group.
"""
import copy
from pathlib import Path

import h5py
import numpy as np

from .assignments import exercises


def write_reference(path: Path, assignment: str, ref: dict) -> None:
    """Compute every case of `assignment` with the reference functions in `ref`; write them to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", track_order=True) as h5:
        for ex in exercises(assignment):
            group = h5.create_group(ex.name)
            for order, (case_name, inputs) in enumerate(ex.cases(ref)):
                outputs = ex.call(ref[ex.name], copy.deepcopy(inputs))
                case = group.create_group(case_name)
                case.attrs["order"] = order
                write_inputs(case.create_group("inputs"), inputs)
                out_group = case.create_group("outputs")
                for k, value in enumerate(outputs):
                    out_group.create_dataset(str(k), data=np.asarray(value), track_times=False)


def write_inputs(group, inputs: dict) -> None:
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            group.create_dataset(name, data=value, track_times=False)
        elif isinstance(value, tuple):
            group.create_dataset(name, data=np.asarray(value, dtype=np.int64), track_times=False)
            group[name].attrs["tuple"] = True
        else:
            group.attrs[name] = value


def read_inputs(group) -> dict:
    inputs = {}
    for name, value in group.attrs.items():
        inputs[name] = value.item() if isinstance(value, np.generic) else value
    for name, dataset in group.items():
        data = dataset[()]
        inputs[name] = tuple(int(v) for v in data) if dataset.attrs.get("tuple") else data
    return inputs


def read_cases(path: Path, exercise: str) -> list[tuple[str, dict, tuple]]:
    """[(case name, inputs, expected outputs)] for one exercise, in the order they were written."""
    with h5py.File(path, "r") as h5:
        group = h5[exercise]
        names = sorted(group, key=lambda name: group[name].attrs["order"])
        return [
            (name, read_inputs(group[name]["inputs"]),
             tuple(group[name]["outputs"][str(k)][()] for k in range(len(group[name]["outputs"]))))
            for name in names
        ]


def same_content(path_a: Path, path_b: Path) -> bool:
    """True when two reference files hold the same groups, attributes and array values."""
    def flatten(path):
        items = {}
        with h5py.File(path, "r") as h5:
            def visit(name, obj):
                items[name + "@attrs"] = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
                if isinstance(obj, h5py.Dataset):
                    items[name] = (obj.dtype.str, obj[()].tolist() if obj.shape != () else obj[()].item())
            h5.visititems(visit)
        return items
    return flatten(path_a) == flatten(path_b)
