"""Figures for the notebook "Convolutional networks, step by step".

Every number drawn here is computed by the reference layer functions passed in
as ``ref`` (a mapping from function name to function), called on small seeded
inputs.  Arrays follow the notebook's NHWC layout: (m, n_H, n_W, n_C).

Usage::

    paths = draw_all(ref, "images")
"""

import pathlib

import matplotlib

matplotlib.use("Agg")  # headless and byte-reproducible; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

DPI = 100

# One palette for all figures, so a colour means the same thing everywhere.
PALETTE = {
    "red": "#e15759",
    "green": "#59a14f",
    "blue": "#4e79a7",
    "pad": "#dcdcdc",  # zero-padding cells
    "pad_text": "#7a7a7a",
    "line": "#555555",  # cell borders
    "text": "#222222",
    "window": "#f28e2b",  # current window / selected slice (outline)
    "window_fill": "#fde3c8",
    "filter": "#e3d7ea",  # filter W
    "product": "#fff3bf",  # element-wise products
    "output": "#d5ecea",  # computed output values
    "output_new": "#76b7b2",  # the output value being computed right now
    "grad": "#f6d5d6",  # gradients
    "muted": "#f4f4f4",  # cells that receive nothing / are False
    # one fill per pooling window (2x2 windows of a 4x4 input)
    "windows": ("#fde3c8", "#d5ecea", "#e3d7ea", "#f6d5d6"),
}

FONT = {"title": 14, "label": 12, "cell": 11, "small": 10}


# ---------------------------------------------------------------- helpers ---


def _fmt(value, decimals):
    """Format a number with a fixed number of decimals, never as '-0.0'."""
    text = f"{float(value):.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text


def _tint(colour, amount):
    """Mix `colour` with white; amount 0 gives white, 1 gives the colour."""
    rgb = np.array(to_rgb(colour))
    return tuple(1.0 - amount * (1.0 - rgb))


def _canvas(width, height, ppu):
    """Figure whose single axes uses 'cell units': x to the right, y downwards.

    `ppu` is pixels per unit, so one grid cell is `ppu` pixels square.
    """
    fig = plt.figure(figsize=(width * ppu / DPI, height * ppu / DPI), dpi=DPI, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    return fig, ax


def _save_png(fig, path):
    """Save without the software/version text so the bytes are reproducible."""
    fig.savefig(path, dpi=DPI, facecolor="white", metadata={"Software": None})
    plt.close(fig)
    return path


def _text(ax, x, y, text, size=FONT["label"], **kwargs):
    """Centred text in cell units."""
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    kwargs.setdefault("color", PALETTE["text"])
    return ax.text(x, y, text, fontsize=size, **kwargs)


def _grid(
    ax,
    values,
    x0,
    y0,
    decimals=0,
    fill="white",
    fills=None,
    text_colours=None,
    bold=None,
    labels=None,
    size=FONT["cell"],
    cell=1.0,
):
    """Draw a 2-D array as a grid of square cells with its numbers inside.

    The top-left corner is at (x0, y0).  `fills`, `text_colours`, `bold` and
    `labels` are optional per-cell overrides with the same shape as `values`.
    """
    values = np.asarray(values)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            face = fill if fills is None else fills[i][j]
            ax.add_patch(
                Rectangle((x0 + j * cell, y0 + i * cell), cell, cell, facecolor=face, edgecolor=PALETTE["line"], lw=1)
            )
            label = _fmt(values[i, j], decimals) if labels is None else labels[i][j]
            colour = PALETTE["text"] if text_colours is None else text_colours[i][j]
            weight = "bold" if bold is not None and bold[i][j] else "normal"
            _text(ax, x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, label, size=size, color=colour, weight=weight)


def _outline(ax, x, y, width, height, colour=PALETTE["window"], lw=3.5):
    """Thick rectangle outline (a window or a selected slice)."""
    ax.add_patch(Rectangle((x, y), width, height, facecolor="none", edgecolor=colour, lw=lw, zorder=5))


def _arrow(ax, start, end, colour=PALETTE["line"], style="-|>", lw=1.6):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": style, "color": colour, "lw": lw, "shrinkA": 0, "shrinkB": 0},
    )


def _pad_mask(shape, pad):
    """Boolean array, True on the `pad`-wide border of a 2-D grid."""
    mask = np.ones(shape, dtype=bool)
    mask[pad : shape[0] - pad, pad : shape[1] - pad] = False
    return mask


def _padded_styles(mask, base="white"):
    """Per-cell fills and text colours: grey zeros on the padding border."""
    fills = [[PALETTE["pad"] if m else base for m in row] for row in mask]
    colours = [[PALETTE["pad_text"] if m else PALETTE["text"] for m in row] for row in mask]
    return fills, colours


# ---------------------------------------------------------------- figures ---


def draw_zero_pad(ref, out_dir):
    """zero_pad.png: a (1, 5, 5, 3) image of integers 1..9 before and after
    ``zero_pad(X, 2)`` -> (1, 9, 9, 3), one grid per channel (tinted R, G, B).
    """
    pad = 2
    X = np.random.default_rng(1).integers(1, 10, size=(1, 5, 5, 3)).astype(float)
    X_pad = ref["zero_pad"](X, pad)
    n, n_pad = X.shape[1], X_pad.shape[1]

    gap, margin = 2.0, 1.0
    width = 3 * n_pad + 2 * gap + 2 * margin
    top_y, bottom_y = 3.2, 3.2 + n + 3.6
    fig, ax = _canvas(width, bottom_y + n_pad + 1.0, ppu=28)
    _text(
        ax,
        width / 2,
        0.9,
        "Zero padding adds a border of zeros around every channel",
        size=FONT["title"],
        weight="bold",
    )
    _text(ax, width / 2, 2.1, f"X[0]: shape {X.shape[1:]}   (one example, channels side by side)")

    names = ("channel 0 (R)", "channel 1 (G)", "channel 2 (B)")
    pad_mask = _pad_mask(X_pad.shape[1:3], pad)
    for c, colour in enumerate((PALETTE["red"], PALETTE["green"], PALETTE["blue"])):
        x_left = margin + c * (n_pad + gap)
        # the unpadded grid sits exactly above the interior of the padded one
        fills = [[_tint(colour, 0.15 + 0.6 * v / 9) for v in row] for row in X[0, :, :, c]]
        _grid(ax, X[0, :, :, c], x_left + pad, top_y, fills=fills)
        _text(ax, x_left + pad + n / 2, top_y + n + 0.55, names[c], size=FONT["small"])

        values = X_pad[0, :, :, c]
        fills = [
            [PALETTE["pad"] if m else _tint(colour, 0.15 + 0.6 * v / 9) for v, m in zip(vrow, mrow)]
            for vrow, mrow in zip(values, pad_mask)
        ]
        _, colours = _padded_styles(pad_mask)
        _grid(ax, values, x_left, bottom_y, fills=fills, text_colours=colours)
        _outline(ax, x_left + pad, bottom_y + pad, n, n, colour=PALETTE["line"], lw=2)
        # bracket over the left padding columns of every padded channel
        _arrow(ax, (x_left, bottom_y - 0.35), (x_left + pad, bottom_y - 0.35), style="<|-|>", lw=1.2)
        _text(ax, x_left + pad / 2, bottom_y - 0.9, f"pad = {pad}", size=FONT["small"])

    mid_y = top_y + n + 1.1
    _arrow(ax, (width / 2, mid_y), (width / 2, bottom_y - 1.3), lw=2)
    _text(
        ax,
        width / 2 + 0.5,
        (mid_y + bottom_y - 1.3) / 2,
        f"zero_pad(X, {pad}):  {X.shape[1:]}  →  {X_pad.shape[1:]}",
        ha="left",
    )
    _text(
        ax,
        width / 2,
        bottom_y + n_pad + 0.5,
        "grey cells = padding (zeros); dark outline = the original 5 × 5 image",
        size=FONT["small"],
    )
    return _save_png(fig, out_dir / "zero_pad.png")


def draw_conv_single_step(ref, out_dir):
    """conv_single_step.png: a (3, 3, 1) slice times a (3, 3, 1) filter W,
    element by element, summed, plus b of shape (1, 1, 1), gives one number Z.
    """
    rng = np.random.default_rng(2)
    a_slice = np.round(rng.uniform(-1, 1, size=(3, 3, 1)), 1)
    W = np.round(rng.uniform(-1, 1, size=(3, 3, 1)), 1)
    b = np.round(rng.uniform(-1, 1, size=(1, 1, 1)), 1)
    products = a_slice * W
    # the sum alone is the same step with a zero bias
    total = ref["conv_single_step"](a_slice, W, np.zeros((1, 1, 1)))
    Z = ref["conv_single_step"](a_slice, W, b)

    fig, ax = _canvas(19.0, 6.6, ppu=50)
    _text(ax, 9.5, 0.6, "One convolution step: Z = sum(a_slice ⊙ W) + b", size=FONT["title"], weight="bold")
    y0 = 2.0
    blocks = [
        (0.5, a_slice[:, :, 0], "white", "a_slice (one channel)", 1),
        (4.5, W[:, :, 0], PALETTE["filter"], "filter W (3 × 3)", 1),
        (8.5, products[:, :, 0], PALETTE["product"], "a_slice ⊙ W", 2),
    ]
    for x0, values, fill, label, decimals in blocks:
        _grid(ax, values, x0, y0, decimals=decimals, fill=fill)
        _text(ax, x0 + 1.5, y0 - 0.45, label, size=FONT["small"])
    _text(ax, 4.0, y0 + 1.5, "⊙", size=20)
    _text(ax, 8.0, y0 + 1.5, "=", size=20)

    # single-value cells: sum, b, Z
    row = y0 + 1.0
    _arrow(ax, (11.7, row + 0.5), (12.5, row + 0.5))
    singles = [
        (12.6, total, PALETTE["product"], "sum of 9", 2),
        (15.0, b.item(), PALETTE["filter"], "b", 1),
        (17.4, Z, PALETTE["output_new"], "Z", 2),
    ]
    for x0, value, fill, label, decimals in singles:
        _grid(ax, [[value]], x0 - 0.2, row, decimals=decimals, fill=fill, cell=1.4)
        _text(ax, x0 + 0.5, row - 0.45, label, size=FONT["small"])
    _text(ax, 14.3, row + 0.7, "+", size=18)
    _text(ax, 16.7, row + 0.7, "=", size=18)

    _text(
        ax,
        9.5,
        5.85,
        f"conv_single_step(a_slice, W, b) = {_fmt(Z, 2)}     (shapes: a_slice, W (3, 3, 1); b (1, 1, 1))",
        size=FONT["small"],
    )
    return _save_png(fig, out_dir / "conv_single_step.png")


def _conv_sliding_data(ref):
    """Inputs and outputs of the animation: (1, 5, 5, 1) integers 1..4,
    W (3, 3, 1, 1) in {-1, 0, 1}, b = 1, pad 1, stride 2 -> Z (1, 3, 3, 1)."""
    rng = np.random.default_rng(3)
    A = rng.integers(1, 5, size=(1, 5, 5, 1)).astype(float)
    W = rng.integers(-1, 2, size=(3, 3, 1, 1)).astype(float)
    b = np.ones((1, 1, 1, 1))
    hparameters = {"pad": 1, "stride": 2}
    Z, _ = ref["conv_forward"](A, W, b, hparameters)
    A_pad = ref["zero_pad"](A, hparameters["pad"])
    return A_pad[0, :, :, 0], W[:, :, 0, 0], b.item(), hparameters, Z[0, :, :, 0]


def _conv_frame(a_pad, W, b, hparameters, Z, step):
    """Render one animation frame as an RGB PIL image (700 x 350 px).

    Output cells with index < `step` are filled in; `step == Z.size` is the
    final frame with no window.
    """
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    n_H, n_W = Z.shape
    width, height = 700 / 33, 350 / 33  # 700 x 350 px at 33 px per cell
    fig, ax = _canvas(width, height, ppu=33)
    _text(
        ax,
        width / 2,
        0.55,
        f"Convolution: 3 × 3 filter, pad = {pad}, stride = {stride}",
        size=FONT["title"],
        weight="bold",
    )

    x_in, x_w, x_out, y0 = 0.6, 9.8, 15.8, 2.0
    fills, colours = _padded_styles(_pad_mask(a_pad.shape, pad))
    _grid(ax, a_pad, x_in, y0, fills=fills, text_colours=colours)
    _text(ax, x_in + 3.5, y0 - 0.45, "a_prev_pad (grey = padding)", size=FONT["small"])
    _grid(ax, W, x_w, y0 + 2, fill=PALETTE["filter"])
    _text(ax, x_w + 1.5, y0 + 1.5, f"W,  b = {_fmt(b, 0)}", size=FONT["small"])
    _text(ax, 8.7, y0 + 3.5, "∗", size=20)
    _arrow(ax, (13.3, y0 + 3.5), (15.3, y0 + 3.5), lw=2)

    done = [[i * n_W + j < step for j in range(n_W)] for i in range(n_H)]
    current = step if step < Z.size else None
    out_fills = [[PALETTE["output"] if d else "white" for d in row] for row in done]
    labels = [[_fmt(Z[i, j], 0) if done[i][j] else "" for j in range(n_W)] for i in range(n_H)]
    if current is not None:
        h, w = divmod(current, n_W)
        out_fills[h][w] = PALETTE["output_new"]
        labels[h][w] = _fmt(Z[h, w], 0)
    _grid(ax, Z, x_out, y0 + 2, fills=out_fills, labels=labels)
    _text(ax, x_out + 1.5, y0 + 1.5, "Z", size=FONT["small"])

    if current is None:
        n_prev = a_pad.shape[0] - 2 * pad
        line1 = f"done: Z has shape {Z.shape}; each value is sum(window ⊙ W) + b"
        line2 = f"n_H = (n_H_prev - f + 2·pad) // stride + 1 = ({n_prev} - {f} + 2·{pad}) // {stride} + 1 = {n_H}"
    else:
        vs, hs = h * stride, w * stride
        ve, he = vs + f, hs + f
        _outline(ax, x_in + hs, y0 + vs, f, f)
        _outline(ax, x_out + w, y0 + 2 + h, 1, 1)
        line1 = f"h = {h}, w = {w}:   vert_start:vert_end = {vs}:{ve},   horiz_start:horiz_end = {hs}:{he}"
        line2 = f"Z[{h}, {w}] = sum(a_prev_pad[{vs}:{ve}, {hs}:{he}] ⊙ W) + b = {_fmt(Z[h, w], 0)}"
    _text(ax, width / 2, 9.6, line1, size=FONT["small"])
    _text(ax, width / 2, 10.1, line2, size=FONT["small"])

    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    plt.close(fig)
    return Image.fromarray(rgb)


def conv_sliding_frames(ref):
    """All frames of conv_sliding.gif as RGB images (one per output value,
    plus a final frame with the complete output)."""
    a_pad, W, b, hparameters, Z = _conv_sliding_data(ref)
    return [_conv_frame(a_pad, W, b, hparameters, Z, step) for step in range(Z.size + 1)]


def _snap_palette(image, tolerance=10):
    """Move palette entries that are near a PALETTE colour (or white) onto it.

    Median-cut averages each colour box, so flat fills such as the white
    background would otherwise come out slightly grey.
    """
    keys = [to_rgb(c) for c in PALETTE.values() if isinstance(c, str)]
    keys += [to_rgb(c) for c in PALETTE["windows"]] + [(1.0, 1.0, 1.0)]
    keys = np.round(np.array(keys) * 255).astype(int)
    colours = np.array(image.getpalette(), dtype=int).reshape(-1, 3)
    for k, colour in enumerate(colours):
        distance = np.abs(keys - colour).max(axis=1)
        if distance.min() <= tolerance:
            colours[k] = keys[distance.argmin()]
    image.putpalette(colours.astype(np.uint8).ravel().tolist())
    return image


def draw_conv_sliding(ref, out_dir):
    """conv_sliding.gif: a 3 x 3 filter sliding over a 5 x 5 input padded to
    7 x 7 with stride 2, filling the 3 x 3 output of conv_forward cell by cell."""
    frames = conv_sliding_frames(ref)
    # one shared palette, built from all frames stacked, keeps colours stable
    stacked = Image.new("RGB", (frames[0].width, frames[0].height * len(frames)))
    for k, frame in enumerate(frames):
        stacked.paste(frame, (0, k * frame.height))
    palette = _snap_palette(stacked.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    durations = [1300] * (len(frames) - 1) + [2600]
    path = out_dir / "conv_sliding.gif"
    indexed[0].save(path, save_all=True, append_images=indexed[1:], duration=durations, loop=0, optimize=False)
    return path


def draw_slice_corners(ref, out_dir):
    """slice_corners.png: where the window for output (h, w) = (1, 2) sits on a
    5 x 5 input padded to 7 x 7 (pad 1), with f = 3 and stride = 2."""
    h, w, stride, f, pad = 1, 2, 2, 3, 1
    A = np.zeros((1, 5, 5, 1))
    a_pad = ref["zero_pad"](A, pad)[0, :, :, 0]
    Z, _ = ref["conv_forward"](A, np.zeros((f, f, 1, 1)), np.zeros((1, 1, 1, 1)), {"pad": pad, "stride": stride})
    n_H, n_W = Z.shape[1:3]
    vert_start, horiz_start = h * stride, w * stride
    vert_end, horiz_end = vert_start + f, horiz_start + f

    fig, ax = _canvas(20.0, 10.8, ppu=50)
    _text(ax, 10.0, 0.6, "Slice corners of the window for one output position", size=FONT["title"], weight="bold")
    x0, y0 = 1.6, 2.2
    n = a_pad.shape[0]
    fills, _ = _padded_styles(_pad_mask(a_pad.shape, pad))
    for i in range(n):
        for j in range(n):
            if vert_start <= i < vert_end and horiz_start <= j < horiz_end:
                fills[i][j] = PALETTE["window_fill"]
    labels = [[""] * n for _ in range(n)]
    _grid(ax, a_pad, x0, y0, fills=fills, labels=labels)
    _outline(ax, x0 + horiz_start, y0 + vert_start, f, f)

    # indices of rows and columns; the slice's rows/columns in bold orange
    for k in range(n):
        in_rows = vert_start <= k < vert_end
        in_cols = horiz_start <= k < horiz_end
        _text(
            ax,
            x0 - 0.45,
            y0 + k + 0.5,
            str(k),
            size=FONT["small"],
            color=PALETTE["window"] if in_rows else PALETTE["text"],
            weight="bold" if in_rows else "normal",
        )
        _text(
            ax,
            x0 + k + 0.5,
            y0 - 0.4,
            str(k),
            size=FONT["small"],
            color=PALETTE["window"] if in_cols else PALETTE["text"],
            weight="bold" if in_cols else "normal",
        )
    _text(ax, x0 - 1.15, y0 + n / 2, "row", size=FONT["small"], rotation=90)
    _text(ax, x0 + n / 2, y0 - 0.95, "column", size=FONT["small"])

    # corner positions are grid lines: start is the line before the first
    # included cell, end the line after the last one (exclusive, as in Python)
    y_start, y_end = y0 + vert_start, y0 + vert_end
    x_start, x_end = x0 + horiz_start, x0 + horiz_end
    for y, label in ((y_start, f"vert_start = {vert_start}"), (y_end, f"vert_end = {vert_end} (exclusive)")):
        ax.plot([x0 + n, x0 + n + 0.6], [y, y], color=PALETTE["window"], lw=2.5)
        _text(ax, x0 + n + 0.7, y, label, size=FONT["small"], ha="left")
    for x, label in ((x_start, f"horiz_start = {horiz_start}"), (x_end, f"horiz_end = {horiz_end} (exclusive)")):
        ax.plot([x, x], [y0 + n, y0 + n + 0.5], color=PALETTE["window"], lw=2.5)
        _text(ax, x, y0 + n + 0.85, label, size=FONT["small"], ha="right" if x == x_start else "left")

    # the output grid, with (h, w) marked
    xo, yo = 14.6, 2.2
    out_fills = [
        [PALETTE["output_new"] if (i, j) == (h, w) else PALETTE["output"] for j in range(n_W)] for i in range(n_H)
    ]
    out_labels = [[f"({i},{j})" for j in range(n_W)] for i in range(n_H)]
    _grid(ax, np.zeros((n_H, n_W)), xo, yo, fills=out_fills, labels=out_labels, size=FONT["small"])
    _outline(ax, xo + w, yo + h, 1, 1)
    _text(ax, xo + n_W / 2, yo - 0.45, f"output Z: {n_H} × {n_W}", size=FONT["small"])

    lines = [
        f"input {A.shape[1]} × {A.shape[2]}, pad = {pad} (grey) → {n} × {n}",
        f"h = {h}, w = {w}, stride = {stride}, f = {f}",
        f"vert_start  = h · stride = {h} · {stride} = {vert_start}",
        f"vert_end    = vert_start + f = {vert_start} + {f} = {vert_end}",
        f"horiz_start = w · stride = {w} · {stride} = {horiz_start}",
        f"horiz_end   = horiz_start + f = {horiz_start} + {f} = {horiz_end}",
        f"a_prev_pad[{vert_start}:{vert_end}, {horiz_start}:{horiz_end}]",
        f"= rows {', '.join(map(str, range(vert_start, vert_end)))}, "
        f"columns {', '.join(map(str, range(horiz_start, horiz_end)))}",
        f"(the end index {vert_end} / {horiz_end} itself is excluded)",
    ]
    for k, line in enumerate(lines):
        _text(ax, 12.9, 5.95 + 0.48 * k, line, size=FONT["small"], ha="left", family="DejaVu Sans Mono")
    return _save_png(fig, out_dir / "slice_corners.png")


def draw_pooling(ref, out_dir):
    """pooling.png: a (1, 4, 4, 1) input holding 1..16 in seeded order, pooled
    with f = 2, stride = 2 by max and by average -> two (1, 2, 2, 1) outputs."""
    A = (np.random.default_rng(4).permutation(16) + 1).reshape(1, 4, 4, 1).astype(float)
    hparameters = {"f": 2, "stride": 2}
    A_max, _ = ref["pool_forward"](A, hparameters, mode="max")
    A_avg, _ = ref["pool_forward"](A, hparameters, mode="average")
    a, f = A[0, :, :, 0], hparameters["f"]

    window_of = [[(i // f) * 2 + j // f for j in range(4)] for i in range(4)]
    fills = [[PALETTE["windows"][k] for k in row] for row in window_of]
    # bold the value that max pooling picks in each window
    is_max = [[a[i, j] == A_max[0, i // f, j // f, 0] for j in range(4)] for i in range(4)]
    out_fills = [[PALETTE["windows"][i * 2 + j] for j in range(2)] for i in range(2)]

    fig, ax = _canvas(16.0, 8.6, ppu=55)
    _text(ax, 8.0, 0.6, "Max pooling vs. average pooling (f = 2, stride = 2)", size=FONT["title"], weight="bold")
    x0, y0 = 1.0, 2.4
    _grid(ax, a, x0, y0, fills=fills, bold=is_max)
    for i in range(2):
        for j in range(2):
            _outline(ax, x0 + 2 * j, y0 + 2 * i, 2, 2, colour=PALETTE["line"], lw=2.5)
    _text(ax, x0 + 2, y0 - 0.5, "input A_prev (4 × 4, one channel)", size=FONT["small"])

    rows = [
        (1.9, A_max, 0, "max pool", "largest value of each window (bold)"),
        (5.4, A_avg, 2, "average pool", "mean of the 4 values of each window"),
    ]
    for y, out, decimals, name, explanation in rows:
        _arrow(ax, (x0 + 4.3, y0 + 2), (8.0, y + 1), lw=1.8)
        _text(ax, 9.0, y - 0.4, name, weight="bold")
        _grid(ax, out[0, :, :, 0], 8.0, y, decimals=decimals, fills=out_fills)
        _text(ax, 10.3, y + 1, explanation, size=FONT["small"], ha="left")
    _text(
        ax,
        8.0,
        8.15,
        "pool_forward(A_prev, {'f': 2, 'stride': 2}, mode) : (1, 4, 4, 1) → (1, 2, 2, 1)",
        size=FONT["small"],
    )
    return _save_png(fig, out_dir / "pooling.png")


def draw_maxpool_mask(ref, out_dir):
    """maxpool_mask.png: a 3 x 3 window, its mask from create_mask_from_window,
    and the gradient mask * dA for dA = 0.7 (only the max's position gets it)."""
    rng = np.random.default_rng(5)
    # distinct values, so exactly one cell is the maximum
    x = rng.choice(np.arange(-9, 10), size=9, replace=False).reshape(3, 3) / 10
    dA = 0.7
    mask = ref["create_mask_from_window"](x)
    grad = mask * dA

    fig, ax = _canvas(17.0, 6.6, ppu=55)
    _text(ax, 8.5, 0.6, "Max-pool backward: the gradient goes only to the maximum", size=FONT["title"], weight="bold")
    y0 = 2.1
    mask_fills = [[PALETTE["window_fill"] if m else PALETTE["muted"] for m in row] for row in mask]
    grad_fills = [[PALETTE["grad"] if m else PALETTE["muted"] for m in row] for row in mask]
    _grid(ax, x, 0.6, y0, decimals=1, bold=mask)
    _text(ax, 2.1, y0 - 0.5, "window x (3 × 3)", size=FONT["small"])
    _arrow(ax, (3.8, y0 + 1.5), (5.0, y0 + 1.5))
    _grid(
        ax,
        mask,
        5.2,
        y0,
        fills=mask_fills,
        bold=mask,
        labels=[["True" if m else "False" for m in row] for row in mask],
        size=FONT["small"],
    )
    _text(ax, 6.7, y0 - 0.5, "mask: True at the maximum", size=FONT["small"])
    _text(ax, 9.35, y0 + 1.5, "×", size=20)
    _grid(ax, [[dA]], 9.9, y0 + 1.0, decimals=1, fill=PALETTE["grad"])
    _text(ax, 10.4, y0 + 0.5, "dA", size=FONT["small"])
    _text(ax, 11.6, y0 + 1.5, "=", size=20)
    _grid(ax, grad, 12.3, y0, decimals=1, fills=grad_fills, bold=mask)
    _text(ax, 13.8, y0 - 0.5, "mask * dA", size=FONT["small"])
    _text(
        ax,
        8.5,
        5.75,
        "create_mask_from_window(x) is True only where x is largest; every other cell gets gradient 0",
        size=FONT["small"],
    )
    return _save_png(fig, out_dir / "maxpool_mask.png")


def draw_distribute_value(ref, out_dir):
    """distribute_value.png: dz = 2.0 spread evenly over a 2 x 2 window by
    ``distribute_value(dz, (2, 2))``, the backward pass of average pooling."""
    dz, shape = 2.0, (2, 2)
    a = ref["distribute_value"](dz, shape)
    f_H, f_W = shape

    fig, ax = _canvas(14.0, 6.0, ppu=60)
    _text(ax, 7.0, 0.6, "Average-pool backward: dz is shared equally by the window", size=FONT["title"], weight="bold")
    y0 = 2.0
    _grid(ax, [[dz]], 1.5, y0 + 0.5, decimals=1, fill=PALETTE["grad"])
    _text(ax, 2.0, y0, "dz", size=FONT["small"])
    _arrow(ax, (2.8, y0 + 1), (6.2, y0 + 1), lw=2)
    _text(ax, 4.5, y0 + 0.6, f"distribute_value(dz, {shape})", size=FONT["small"])
    _grid(ax, a, 6.5, y0, decimals=2, fill=PALETTE["grad"])
    _text(ax, 7.5, y0 - 0.45, f"{f_H} × {f_W} window", size=FONT["small"])
    _text(
        ax,
        9.2,
        y0 + 1,
        f"each cell = dz / (f_H · f_W)\n= {_fmt(dz, 1)} / ({f_H} · {f_W}) = {_fmt(a[0, 0], 2)}",
        ha="left",
        linespacing=1.7,
    )
    _text(
        ax,
        7.0,
        5.2,
        "every input of an average contributed equally, so each gets the same share of the gradient",
        size=FONT["small"],
    )
    return _save_png(fig, out_dir / "distribute_value.png")


FIGURES = (
    draw_zero_pad,
    draw_conv_single_step,
    draw_conv_sliding,
    draw_slice_corners,
    draw_pooling,
    draw_maxpool_mask,
    draw_distribute_value,
)


def draw_all(ref, out_dir):
    """Draw every figure into out_dir (created if missing) and return the written paths, sorted."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return sorted(draw(ref, out_dir) for draw in FIGURES)
