"""One look for every arcsim figure: sizes for a one-column paper figure, and one fixed colour
and marker per compressor, so a compressor looks the same in every figure of every paper.
Configurations of one compressor keep its hue: the ratio sets the shade (darker for sparser,
lighter for denser than 0.2), so "topk-0.05" is a dark Top-K blue in every figure.
tests/python/test_plot_style.py checks that every name of the compressor registry is here."""
import math
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# A single column of a two-column paper is about 3.3-3.5 in wide; fonts stay >= 7 pt there.
COLUMN_WIDTH_IN = 3.4
PANEL_HEIGHT_IN = 1.55

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


def grid(n_panels, ncols=2):
    """A figure one column wide with n panels, two per row (one when there is only one)."""
    ncols = 1 if n_panels == 1 else ncols
    nrows = (n_panels + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH_IN, 0.55 + PANEL_HEIGHT_IN * nrows),
                             squeeze=False)
    flat = [a for row in axes for a in row]
    for a in flat[n_panels:]:
        a.set_visible(False)
    return fig, flat[:n_panels]


def save(fig, path_stem):
    """Writes <stem>.pdf and <stem>.png; no creation dates, so re-plotting gives the same PDF."""
    fig.savefig(path_stem + ".pdf", bbox_inches="tight", metadata={"CreationDate": None, "Creator": None})
    fig.savefig(path_stem + ".png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return [path_stem + ".pdf", path_stem + ".png"]


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
