"""One look for every arcsim figure: sizes for a one-column paper figure, and one fixed colour
and marker per compressor, so a compressor looks the same in every figure of every paper.
Configurations of one compressor keep its hue: the ratio sets the shade (darker for sparser,
lighter for denser than 0.2), so "topk-0.05" is a dark Top-K blue in every figure.
tests/python/test_plot_style.py checks that every name of the compressor registry is here."""
import math
import os
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# A single column of a two-column paper is about 3.3-3.5 in wide; fonts stay >= 7 pt there.
COLUMN_WIDTH_IN = 3.4
PANEL_HEIGHT_IN = 1.55
# A figure spanning both columns (figure* in LaTeX): the family's small multiples.
PAGE_WIDTH_IN = 7.0

COLOURS = {
    "dense": "#444444",
    "topk": "#1f77b4",
    "randk": "#ff7f0e",
    "arctopk": "#d62728",
    "adtopk": "#2ca02c",
    "dgc": "#9467bd",
    "gaussiank": "#8c564b",
    "redsync": "#e377c2",
    "sidco": "#bcbd22",
    "oktopk": "#17becf",
    "powersgd": "#7b4173",
}
MARKERS = {"dense": "o", "topk": "s", "randk": "^", "arctopk": "D", "adtopk": "v", "dgc": "P", "gaussiank": "X",
           "redsync": "<", "sidco": ">", "oktopk": "h", "powersgd": "*"}
PRETTY = {"dense": "Dense", "topk": "Top-K", "randk": "Rand-K", "arctopk": "ARC-Top-K", "adtopk": "ADTopk",
          "dgc": "DGC", "gaussiank": "GaussianK", "redsync": "RedSync", "sidco": "SIDCo", "oktopk": "Ok-Topk",
          "powersgd": "PowerSGD"}
_FALLBACK = ["#006d2c", "#54278f", "#a50f15", "#08519c", "#636363", "#b15928"]
LINESTYLES = ["-", "--", ":", "-."]


def colour(compressor):
    """The compressor's colour; unknown names get a fixed colour derived from the name itself."""
    if compressor in COLOURS:
        return COLOURS[compressor]
    return _FALLBACK[zlib.crc32(compressor.encode()) % len(_FALLBACK)]


def marker(compressor):
    """The compressor's marker; names this file does not know share one (the colour tells them apart)."""
    return MARKERS.get(compressor, "8")


BASE_RATIO = 0.2  # the ratio drawn in the compressor's own colour (the paper's and the demo's)


def shade(colour_hex, ratio):
    """The colour of a configuration at `ratio`: the compressor's own at 0.2, darker as the ratio
    falls (0.05: 73 %, 0.01: 42 % of the brightness), mixed with white as it grows (0.5: 24 %,
    1: 42 % white). A pure function of the ratio, so every figure and paper agrees."""
    if ratio is None or not (ratio > 0) or math.isclose(ratio, BASE_RATIO):
        return colour_hex
    t = math.log10(BASE_RATIO / ratio)
    r, g, b = (int(colour_hex[i:i + 2], 16) / 255 for i in (1, 3, 5))
    if t > 0:
        f = max(0.4, 1 - 0.45 * t)
        r, g, b = r * f, g * f, b * f
    else:
        w = min(0.6, -0.6 * t)
        r, g, b = r + (1 - r) * w, g + (1 - g) * w, b + (1 - b) * w
    return "#%02x%02x%02x" % tuple(round(min(1, max(0, v)) * 255) for v in (r, g, b))


def display(compressor, label):
    """Legend text: the compressor's usual name, plus whatever the label adds ("topk-0.05" -> "Top-K 0.05")."""
    base = PRETTY.get(compressor, compressor)
    if label == compressor:
        return base
    if label.startswith(compressor + "-"):
        return base + " " + label[len(compressor) + 1:]
    return label


def apply():
    plt.rcParams.update({
        "font.size": 7,
        "axes.titlesize": 7,
        "axes.labelsize": 7,
        "legend.fontsize": 6.5,
        "xtick.labelsize": 6.5,
        "ytick.labelsize": 6.5,
        "lines.linewidth": 1.2,
        "lines.markersize": 3.5,
        "axes.grid": True,
        "grid.linewidth": 0.4,
        "grid.alpha": 0.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "pdf.fonttype": 42,   # embedded TrueType: editable text, accepted by paper systems
        "ps.fonttype": 42,
        "savefig.dpi": 300,
        "figure.dpi": 100,
    })


def grid(n_panels, ncols=2, sharey=False, width=None, panel_height=None):
    """A figure one column wide (or `width` inches) with n panels, `ncols` per row (one when there
    is only one). sharey: every panel on one y scale, tick labels only on the left column."""
    ncols = 1 if n_panels == 1 else min(ncols, n_panels)
    nrows = (n_panels + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharey=sharey,
                             figsize=(width or COLUMN_WIDTH_IN, 0.55 + (panel_height or PANEL_HEIGHT_IN) * nrows))
    flat = [a for row in axes for a in row]
    for a in flat[n_panels:]:
        a.set_visible(False)
    if sharey:
        for i, a in enumerate(flat[:n_panels]):
            if i % ncols:
                a.tick_params(labelleft=False)
    return fig, flat[:n_panels]


def save(fig, path_stem):
    """Writes <stem>.pdf and <stem>.png, each to a temporary file in the same directory renamed
    over the final name, so a reader never sees half a figure; no creation dates, so re-plotting
    gives the same PDF."""
    out = []
    for ext, kw in (("pdf", {"metadata": {"CreationDate": None, "Creator": None}}),
                    ("png", {"metadata": {"Software": None}})):
        final = f"{path_stem}.{ext}"
        tmp = os.path.join(os.path.dirname(final) or ".", f".{os.path.basename(final)}.tmp")
        try:
            fig.savefig(tmp, format=ext, bbox_inches="tight", **kw)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        out.append(final)
    plt.close(fig)
    return out


def variant(colour_hex, n):
    """The n-th configuration of one compressor: its colour, then darker, then lighter shades, so
    two configurations stay apart where dashes cannot (bars, patches)."""
    if n == 0:
        return colour_hex
    r, g, b = (int(colour_hex[i:i + 2], 16) / 255 for i in (1, 3, 5))
    f = [0.55, 1.45, 0.75, 1.25][(n - 1) % 4]
    if f < 1:
        r, g, b = r * f, g * f, b * f
    else:
        t = f - 1
        r, g, b = r + (1 - r) * t, g + (1 - g) * t, b + (1 - b) * t
    return "#%02x%02x%02x" % tuple(round(min(1, max(0, v)) * 255) for v in (r, g, b))


def series_shade(colour_hex, i, n):
    """The i-th of n series of one configuration (one per bandwidth or node count in the family's
    small multiples): from a dark shade of its colour (i = 0) to a light one (i = n - 1)."""
    if n <= 1:
        return colour_hex
    t = i / (n - 1)
    r, g, b = (int(colour_hex[k:k + 2], 16) / 255 for k in (1, 3, 5))
    if t < 0.5:
        f = 0.55 + 0.9 * t          # 0.55 .. 1.0 of the brightness
        r, g, b = r * f, g * f, b * f
    else:
        w = (t - 0.5) * 1.0          # 0 .. 0.5 white
        r, g, b = r + (1 - r) * w, g + (1 - g) * w, b + (1 - b) * w
    return "#%02x%02x%02x" % tuple(round(min(1, max(0, v)) * 255) for v in (r, g, b))
