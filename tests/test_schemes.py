"""rnnreg.analysis.schemes: the site table agrees with the model, and sampled masks have the right structure."""

import pytest
import torch

from rnnreg.analysis import schemes
from rnnreg.model import SCHEMES


def test_every_scheme_is_described():
    assert set(schemes.SCHEME_SITES) == set(SCHEMES)
    assert schemes.sites("none") == ()
    assert {s.connection for s in schemes.sites("zaremba")} == {"input", "between", "output"}
    assert not any(s.recurrent for s in schemes.sites("zaremba"))
    with pytest.raises(ValueError):
        schemes.sites("bogus")


def test_sites_table():
    df = schemes.sites_table()
    assert list(df.index) == list(SCHEMES)
    assert df.loc["variational", "h(t−1) → h(t)"] == "shared"
    assert df.loc["zaremba", "h(t−1) → h(t)"] == ""
    assert df.loc["weight_drop", "W_hh (recurrent weights)"] == "weights"


def test_masks_on_path():
    # Zaremba: L + 1 masks however far the signal travels (the paper's method)
    for steps in (0, 5, 50):
        assert schemes.masks_on_path("zaremba", 2, steps) == {"applications": 3, "distinct": 3}
        assert schemes.masks_on_path("zaremba", 3, steps)["applications"] == 4
    assert schemes.masks_on_path("everywhere", 2, 5) == {"applications": 8, "distinct": 8}
    assert schemes.masks_on_path("variational", 2, 5) == {"applications": 8, "distinct": 4}
    assert schemes.masks_on_path("zoneout", 2, 5)["applications"] == 3
    assert schemes.masks_on_path("none", 2, 5)["applications"] == 0


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sample_masks_match_the_sites(scheme):
    m = schemes.sample_masks(scheme, steps=12, units=10, rate=0.5, seed=1)
    assert set(m) == {s.connection for s in schemes.sites(scheme)}
    for conn, mask in m.items():
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
        assert mask.shape == ((40, 10) if conn == "w_hh" else (12, 10))
    kinds = {s.connection: s.mask for s in schemes.sites(scheme)}
    for conn, kind in kinds.items():
        if kind == "shared":
            assert (m[conn] == m[conn][:1]).all()
        if kind == "fresh" and conn != "w_hh":
            assert not (m[conn] == m[conn][:1]).all()


def test_sample_masks_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = schemes.sample_masks("everywhere", seed=5)
    after = torch.rand(3)
    assert torch.equal(before, after)
    b = schemes.sample_masks("everywhere", seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = schemes.sample_masks("everywhere", seed=6)
    assert not torch.equal(a["h"], c["h"])


def test_rates():
    kept = {k: float(m.mean()) for k, m in schemes.sample_masks("zaremba", steps=200, units=50, rate=0.3).items()}
    assert all(abs(v - 0.7) < 0.03 for v in kept.values())
    masks = schemes.sample_masks("zoneout", steps=200, units=50, zoneout_c=0.5, zoneout_h=0.05)
    z = {k: float(m.mean()) for k, m in masks.items()}  # share kept: 1 - z
    assert abs(z["c"] - 0.5) < 0.03 and abs(z["h"] - 0.95) < 0.02
