"""Every compressor of the registry (as the arcsim binary names it) has its own colour and marker
in plots/style.py; a configuration's colour is its compressor's hue, shaded by its ratio alone."""
import colorsys
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "plots"))
import registry  # noqa: E402
import style  # noqa: E402

# The family the registry is growing to; the binary's list must be a subset of what style knows.
FAMILY = ["dense", "topk", "randk", "arctopk", "adtopk", "dgc", "gaussiank", "redsync", "sidco", "oktopk", "powersgd"]


def hue(hex_colour):
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)


def test_every_registry_name_has_a_colour_and_a_marker(arcsim_bin):
    names = registry.compressor_names(arcsim_bin)
    assert "dense" in names and "arctopk" in names, names
    missing = [n for n in names if n not in style.COLOURS or n not in style.MARKERS or n not in style.PRETTY]
    assert not missing, f"add a colour, marker and display name to plots/style.py for: {missing}"


def test_the_binarys_list_is_the_kernels_registry(arcsim_bin):
    arcsim_kernels = pytest.importorskip("arcsim_kernels")  # the binding is built with arcsim: absent only in a partial build
    assert hasattr(arcsim_kernels, "compressors"), "the binding lost compressors()"
    assert registry.compressor_names(arcsim_bin) == list(arcsim_kernels.compressors())


def test_the_family_has_distinct_colours_and_markers():
    assert set(FAMILY) <= set(style.COLOURS) and set(FAMILY) <= set(style.MARKERS)
    colours = [style.colour(n) for n in FAMILY]
    assert len(set(colours)) == len(colours)
    markers = [style.marker(n) for n in FAMILY]
    assert len(set(markers)) == len(markers)
    # No two colours are near-identical (distance in RGB, 0..441).
    rgb = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours]
    for i in range(len(rgb)):
        for j in range(i + 1, len(rgb)):
            d = sum((a - b) ** 2 for a, b in zip(rgb[i], rgb[j])) ** 0.5
            assert d > 40, (FAMILY[i], FAMILY[j], d)
    # An unknown name still gets a fixed colour (the same on every call).
    assert style.colour("future-method") == style.colour("future-method")


def test_ratio_sets_the_shade_of_the_compressors_hue():
    base = style.colour("topk")
    assert style.shade(base, 0.2) == base
    h0, l0, _ = hue(base)
    lights = []
    for ratio in [1.0, 0.5, 0.2, 0.1, 0.05, 0.01]:
        c = style.shade(base, ratio)
        h, l, _ = hue(c)
        assert h == pytest.approx(h0, abs=0.02), (ratio, c)  # the same hue
        lights.append(l)
    assert lights == sorted(lights, reverse=True)  # sparser is darker
    assert len(set(lights)) == len(lights)
    assert style.shade(base, None) == base


def test_plot_configs_map_labels_to_their_compressors_shades():
    import plot_results
    rows = [{"point": 0, "label": "dense", "compressor": "dense", "ratio": 1.0},
            {"point": 1, "label": "topk-0.2", "compressor": "topk", "ratio": 0.2},
            {"point": 2, "label": "topk-0.05", "compressor": "topk", "ratio": 0.05},
            {"point": 3, "label": "topk-0.05-ef21", "compressor": "topk", "ratio": 0.05},
            {"point": 4, "label": "dgc-0.05", "compressor": "dgc", "ratio": 0.05}]
    cfgs = plot_results.configs(rows)
    assert [c[0] for c in cfgs] == ["dense", "topk-0.2", "topk-0.05", "topk-0.05-ef21", "dgc-0.05"]
    col = {c[0]: plot_results.colour(c[1], c[0]) for c in cfgs}
    assert col["dense"] == style.colour("dense")
    assert col["topk-0.2"] == style.colour("topk")
    assert col["topk-0.05"] == style.shade(style.colour("topk"), 0.05)
    assert col["dgc-0.05"] == style.shade(style.colour("dgc"), 0.05)
    # Same compressor and ratio, other options: another shade and another dash.
    assert col["topk-0.05-ef21"] != col["topk-0.05"]
    dashes = {c[0]: c[2] for c in cfgs}
    assert len({dashes["topk-0.2"], dashes["topk-0.05"], dashes["topk-0.05-ef21"]}) == 3
    # The ratio, not the order, decides the shade: topk-0.05 alone gets the same colour.
    plot_results.LABEL_COLOUR.clear()
    alone = plot_results.configs([{"point": 0, "label": "topk-0.05", "compressor": "topk", "ratio": 0.05}])
    assert plot_results.colour("topk", alone[0][0]) == col["topk-0.05"]
