"""Interactive explorers for "Convolutional networks, step by step" (ipywidgets, drawn as HTML tables).

    conv_explorer()  the window of a convolution on the padded input, the filter, their product,
                     the output map filling in, and the output-size formula with the current numbers
    pool_explorer()  max and average pooling of the same window, and where each sends the gradient back

Move a slider and the picture follows. They work on one small single-channel image and compute
what they draw with a few lines of NumPy of their own: they do not need your functions.
ipywidgets is imported only when an explorer is made (the grader loads this module without it).
"""

import html

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IMAGE = np.random.default_rng(3).integers(0, 4, (6, 6))  # a 6 × 6 single-channel input, small integers
FILTERS = {f: np.random.default_rng(10 + f).integers(-1, 2, (f, f)) for f in range(1, 5)}  # weights -1, 0, 1
BIAS = 1
POOL_INPUT = np.random.default_rng(5).permutation(36).reshape(6, 6)  # distinct values: no ties for the max

CELL = (
    "width:2.1em;height:2.1em;text-align:center;vertical-align:middle;border:1px solid #bbb;"
    "font-family:monospace;font-size:13px;padding:0;"
)
STYLE = {
    "pad": "background:#eeeeee;color:#999;",
    "window": "background:#ffd966;border:2px solid #b8860b;",
    "filter": "background:#cfe2ff;",
    "product": "background:#ffe9a8;",
    "done": "background:#d4edda;",
    "current": "background:#2e7d32;color:white;font-weight:bold;",
    "empty": "background:#fafafa;color:#ccc;",
    "max": "background:#e8590c;color:white;font-weight:bold;",
    "gradient": "background:#f3d9fa;",
}


def number(value) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


def table(values, role: str, title: str, style=lambda i, j: "", text=number) -> str:
    """An HTML table of `values` (2-D), one cell per value, under a title."""
    rows = "".join(
        "<tr>"
        + "".join(f'<td style="{CELL}{style(i, j)}">{text(values[i][j])}</td>' for j in range(len(values[i])))
        + "</tr>"
        for i in range(len(values))
    )
    return (
        f'<div style="display:inline-block;vertical-align:top;margin:0 18px 8px 0">'
        f'<div style="font-weight:bold;margin-bottom:4px">{html.escape(title)}</div>'
        f'<table data-role="{role}" data-rows="{len(values)}" data-cols="{len(values[0]) if len(values) else 0}"'
        f' style="border-collapse:collapse">{rows}</table></div>'
    )


def output_size(n: int, f: int, pad: int, stride: int) -> int:
    return (n + 2 * pad - f) // stride + 1


def windows(x: np.ndarray, f: int, stride: int) -> np.ndarray:
    """Every f × f window of the 2-D array x, `stride` apart: shape (n_H, n_W, f, f)."""
    return sliding_window_view(x, (f, f))[::stride, ::stride]


def position_controls(description: str):
    """A slider for which output position is shown, and a Play button that steps through them."""
    import ipywidgets as widgets

    position = widgets.IntSlider(value=0, min=0, max=0, description=description, continuous_update=True)
    play = widgets.Play(value=0, min=0, max=0, interval=700, description="play")
    widgets.jslink((play, "value"), (position, "value"))
    return position, play


def keep_in_range(position, play, count: int) -> None:
    for control in (play, position):
        control.max = count - 1
        control.value = min(control.value, count - 1)


def conv_explorer(image=IMAGE, filters=FILTERS, b=BIAS):
    """Sliders for f, stride and pad over a small image; shows one window of the convolution at a time."""
    import ipywidgets as widgets

    f = widgets.IntSlider(value=3, min=1, max=max(filters), description="f")
    stride = widgets.IntSlider(value=1, min=1, max=3, description="stride")
    pad = widgets.IntSlider(value=1, min=0, max=2, description="pad")
    position, play = position_controls("window")
    picture = widgets.HTML()
    n = image.shape[0]

    def draw(_=None):
        size = output_size(n, f.value, pad.value, stride.value)
        keep_in_range(position, play, size * size)
        h, w = divmod(position.value, size)
        W = filters[f.value]
        padded = np.pad(image, pad.value)
        Z = np.einsum("hwij,ij->hw", windows(padded, f.value, stride.value), W) + b
        top, left = h * stride.value, w * stride.value
        window = padded[top : top + f.value, left : left + f.value]

        def input_style(i, j):
            inside = top <= i < top + f.value and left <= j < left + f.value
            border = not (pad.value <= i < pad.value + n and pad.value <= j < pad.value + n)
            return (STYLE["window"] if inside else "") + (STYLE["pad"] if border and not inside else "")

        def output_style(i, j):
            k = i * size + j
            return STYLE["current"] if k == position.value else STYLE["done"] if k < position.value else STYLE["empty"]

        shown = [[Z[i, j] if i * size + j <= position.value else "" for j in range(size)] for i in range(size)]
        formula = (
            f"n_H = n_W = ⌊(n_prev − f + 2·pad) / stride⌋ + 1 = ⌊({n} − {f.value} + 2·{pad.value}) / "
            f"{stride.value}⌋ + 1 = {size}"
        )
        picture.value = (
            table(
                padded,
                "input",
                f"input {n} × {n}, padded with {pad.value}: {n + 2 * pad.value} × {n + 2 * pad.value}",
                input_style,
            )
            + table(W, "filter", f"filter W ({f.value} × {f.value})", lambda i, j: STYLE["filter"])
            + table(window * W, "product", "window × W, element by element", lambda i, j: STYLE["product"])
            + table(
                shown,
                "output",
                f"output Z ({size} × {size})",
                output_style,
                text=lambda v: "" if v == "" else number(v),
            )
            + f'<div data-role="step" style="font-family:monospace;margin:4px 0">Z[{h}, {w}] = sum(window × W) + b'
            f" = {number((window * W).sum())} + {b} = {number(Z[h, w])}; the window starts at row {top},"
            f" column {left} of the padded input (h·stride, w·stride)</div>"
            + f'<div data-role="formula" style="font-family:monospace;margin:4px 0">{html.escape(formula)}</div>'
        )

    for control in (f, stride, pad, position):
        control.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([f, stride, pad]), widgets.HBox([position, play]), picture])


def pool_explorer(x=POOL_INPUT, dz=4.0):
    """Sliders for f and stride; max and average pooling of the same window, and their gradients."""
    import ipywidgets as widgets

    f = widgets.IntSlider(value=2, min=1, max=3, description="f")
    stride = widgets.IntSlider(value=2, min=1, max=3, description="stride")
    position, play = position_controls("window")
    picture = widgets.HTML()
    n = x.shape[0]

    def draw(_=None):
        size = output_size(n, f.value, 0, stride.value)
        keep_in_range(position, play, size * size)
        h, w = divmod(position.value, size)
        views = windows(x, f.value, stride.value)
        top, left = h * stride.value, w * stride.value
        window = x[top : top + f.value, left : left + f.value]
        i_max, j_max = np.unravel_index(np.argmax(window), window.shape)
        to_max, to_all = np.zeros(x.shape), np.zeros(x.shape)
        to_max[top + i_max, left + j_max] = dz
        to_all[top : top + f.value, left : left + f.value] = dz / f.value**2

        def inside(i, j):
            return top <= i < top + f.value and left <= j < left + f.value

        def input_style(i, j):
            return STYLE["max"] if (i, j) == (top + i_max, left + j_max) else STYLE["window"] if inside(i, j) else ""

        def output_style(i, j):
            k = i * size + j
            return STYLE["current"] if k == position.value else STYLE["done"] if k < position.value else STYLE["empty"]

        def filled(values):
            return [[values[i, j] if i * size + j <= position.value else "" for j in range(size)] for i in range(size)]

        blank = lambda v: "" if v == "" else number(v)
        zero_dot = lambda v: "·" if v == 0 else number(v)
        picture.value = (
            table(x, "input", f"input ({n} × {n}), window f = {f.value}", input_style)
            + table(filled(views.max(axis=(2, 3))), "max", f"max pooling ({size} × {size})", output_style, blank)
            + table(
                filled(views.mean(axis=(2, 3))), "average", f"average pooling ({size} × {size})", output_style, blank
            )
            + f'<div data-role="window" style="font-family:monospace;margin:4px 0">window at output ({h}, {w}):'
            f" max = {number(window.max())} (at row {top + i_max}, column {left + j_max}),"
            f" average = {number(window.mean())}</div>"
            + f'<div style="margin:8px 0 4px">The gradient dA[{h}, {w}] = {number(dz)} goes back to the input:</div>'
            + table(
                to_max,
                "max-gradient",
                "max: all of it to the maximum",
                lambda i, j: STYLE["max"] if to_max[i, j] else STYLE["window"] if inside(i, j) else "",
                zero_dot,
            )
            + table(
                to_all,
                "average-gradient",
                f"average: {number(dz)} / {f.value * f.value} to every position",
                lambda i, j: STYLE["gradient"] if inside(i, j) else "",
                zero_dot,
            )
        )

    for control in (f, stride, position):
        control.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([f, stride]), widgets.HBox([position, play]), picture])
