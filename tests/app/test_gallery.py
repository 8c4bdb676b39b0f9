"""The Generate gallery is one figure whose data is replaced in place (no child models swapped,
so no browser event can name a model the server has dropped)."""

from __future__ import annotations

import numpy as np

from radioviz.app.gallery import COLUMNS, TILE, Gallery, tile_positions


def test_tiles_fill_rows_from_the_top():
    x, y = tile_positions(6)
    assert x.tolist()[: COLUMNS + 1] == [0, 70, 140, 210, 0]
    assert y[0] > y[COLUMNS] == 0 and len(set(y[:COLUMNS])) == 1


def test_show_replaces_the_data_of_the_same_models():
    g = Gallery()
    source, fig = g.source, g.figure
    rng = np.random.default_rng(0)
    g.show([rng.random((TILE, TILE)) for _ in range(6)], [f"#{i}" for i in range(6)], "**m** · H")
    assert len(source.data["image"]) == 6 and source.data["title"][5] == "#5" and fig.visible
    h6 = fig.height
    g.show([rng.random((TILE, TILE)) for _ in range(2)], ["#0", "#1"], "**m** · non-halo")
    assert g.source is source and g.figure is fig  # same models, new data
    assert len(source.data["image"]) == 2 and fig.height < h6 and "non-halo" in g.head.object
    assert source.data["image"][0].dtype == np.float32
