"""One look for every arcsim figure: sizes for a one-column paper figure, and one fixed colour
and marker per compressor, so a compressor looks the same in every figure of every paper.
Configurations of one compressor keep its hue: the ratio sets the shade (darker for sparser,
lighter for denser than 0.2), so "topk-0.05" is a dark Top-K blue in every figure.
tests/python/test_plot_style.py checks that every name of the compressor registry is here."""
import errno
import math
import os
import secrets
import stat
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


class WriteError(OSError):
    """A figure (or figures.txt) could not be written: one line naming the file."""


class Staged:
    """Every file of one `plot` run, written by one exclusive atomic writer and made visible
    together: stage() writes a file's bytes to a temporary created with O_CREAT | O_EXCL |
    O_NOFOLLOW (an unpredictable name in the target's own directory: a symlink planted at the
    temporary's path is never followed, it makes the create fail and another name is drawn) and
    fsyncs it; nothing is renamed until commit(), which renames every temporary over its final
    name (os.replace: a link at the final name is replaced, never followed; a final name that is a
    symlink, directory, FIFO or device is refused at stage time, before anything changes).
    discard() removes the temporaries: an error while rendering or writing (a full disk) leaves
    the previous figures as they were."""

    def __init__(self):
        self.pending = []  # (temporary, final)

    def _check_final(self, final):
        try:
            st = os.lstat(final)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            what = "a symlink" if stat.S_ISLNK(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) else \
                "a FIFO, socket or device"
            raise WriteError(errno.EEXIST, f"{final}: expected a regular file to write (or none), found {what}: "
                                           "refusing to replace it")
        if any(f == final for _, f in self.pending):
            raise WriteError(errno.EEXIST, f"{final}: written twice by one plot run")

    def _create(self, final):
        d = os.path.dirname(final) or "."
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(64):
            tmp = os.path.join(d, f".{os.path.basename(final)}.tmp.{secrets.token_hex(6)}")
            try:
                return os.open(tmp, flags, 0o666), tmp
            except FileExistsError:  # taken (or a planted link): another name
                continue
            except OSError as e:
                raise WriteError(e.errno, f"{final}: cannot create a temporary file in {d}: {e.strerror}") from None
        raise WriteError(errno.EEXIST, f"{final}: cannot create a temporary file in {d}: every name tried exists")

    def stage(self, final, produce):
        """Writes what produce(binary file) writes to a new temporary for `final`; returns final."""
        self._check_final(final)
        fd, tmp = self._create(final)
        self.pending.append((tmp, final))
        try:
            with os.fdopen(fd, "wb") as f:
                produce(f)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise WriteError(e.errno, f"{final}: cannot write: {e.strerror or e}") from None
        return final

    def stage_text(self, final, text):
        return self.stage(final, lambda f: f.write(text.encode("utf-8")))

    def commit(self):
        """Renames every temporary over its final name (the old files stay until this point)."""
        dirs = set()
        try:
            while self.pending:
                tmp, final = self.pending[0]
                os.replace(tmp, final)
                self.pending.pop(0)
                dirs.add(os.path.dirname(final) or ".")
        except OSError as e:
            raise WriteError(e.errno, f"{final}: cannot rename {tmp} over it: {e.strerror}") from None
        for d in dirs:  # the renames themselves on disk
            try:
                dfd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except OSError:
                continue
            try:
                os.fsync(dfd)
            except OSError:
                pass
            finally:
                os.close(dfd)

    def discard(self):
        for tmp, _ in self.pending:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        self.pending = []


# The current plot run's files: save() stages into it; plot_results.main() commits or discards.
STAGED = Staged()

_META = {"pdf": {"metadata": {"CreationDate": None, "Creator": None}}, "png": {"metadata": {"Software": None}}}


def save(fig, path_stem, staged=None):
    """Renders <stem>.pdf and <stem>.png through the run's exclusive atomic writer (Staged):
    each to its own new temporary, fsynced; they replace the final names only at commit(), with
    every other figure of the run, so a reader never sees half a figure or a mix of old and new
    ones. No creation dates, so re-plotting gives the same PDF."""
    staged = staged or STAGED
    out = []
    try:
        for ext, kw in _META.items():
            final = f"{path_stem}.{ext}"
            staged.stage(final, lambda f, ext=ext, kw=kw: fig.savefig(f, format=ext, bbox_inches="tight", **kw))
            out.append(final)
    finally:
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
