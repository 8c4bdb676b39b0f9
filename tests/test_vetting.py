import pytest
from astropy.table import Table

from radioviz.scan.vetting import LabelStore


def test_labels_are_saved_on_every_change_and_survive_a_restart(tmp_path):
    path = tmp_path / "labels.ecsv"
    store = LabelStore(path)
    store.set("f1#1", "abell_0122", 14.35, -26.28, 0.97, "halo", "clear diffuse emission")
    assert path.exists() and len(Table.read(path)) == 1
    store.set("f1#2", "abell_0122", 14.5, -26.0, 0.96, "unsure")
    store.set("f1#1", "abell_0122", 14.35, -26.28, 0.97, "not halo", "a blend of two point sources")
    again = LabelStore(path)  # e.g. after the server restarted
    assert len(again) == 2 and again.get("f1#1").label == "not halo"
    assert again.get("f1#1").comment == "a blend of two point sources" and again.get("f1#2").comment == ""
    again.remove("f1#2")
    assert len(LabelStore(path)) == 1
    with pytest.raises(ValueError):
        again.set("x", "f", 0, 0, 0.5, "maybe")


def test_exports(tmp_path):
    store = LabelStore(tmp_path / "l.ecsv")
    store.set("a", "fieldA", 10.0, -20.0, 0.99, "halo")
    store.set("b", "fieldA", 10.5, -20.5, 0.95, "not halo")
    csv = Table.read(store.export(tmp_path / "out.csv"), format="ascii.csv")
    assert list(csv["label"]) == ["halo", "not halo"]
    assert len(Table.read(store.export(tmp_path / "out.ecsv"))) == 2
    reg = store.export(tmp_path / "out.reg").read_text()
    assert reg.count("circle(") == 2 and "color=green" in reg and "color=red" in reg
    from regions import Regions

    assert len(Regions.read(tmp_path / "out.reg", format="ds9")) == 2
    with pytest.raises(ValueError):
        store.export(tmp_path / "out.txt")
