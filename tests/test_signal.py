import math

import pytest
import torch

from rnnreg.analysis.signal import (
    analytic_curves,
    masks_on_path,
    recurrent_masks,
    relative_variance,
    simulate_linear,
    simulate_lstm,
    simulate_tanh,
    snr,
)


def test_relative_variance_of_k_masks():
    assert relative_variance(0.5, 0).item() == 0
    assert relative_variance(0.5, 1).item() == pytest.approx(1.0)  # p/(1-p)
    assert relative_variance(0.5, 3).item() == pytest.approx(7.0)
    # SNR falls exponentially: ratio of successive SNRs tends to (1 - p).
    s = snr(0.3, torch.arange(20, 40))
    assert (s[1:] / s[:-1]).tolist() == pytest.approx([0.7] * 19, rel=1e-3)


def test_masks_met_on_the_way_from_input_to_softmax():
    lags = torch.arange(6)
    assert masks_on_path("zaremba", lags, 2).tolist() == [3] * 6  # L+1 whatever the lag
    assert masks_on_path("everywhere", lags, 2).tolist() == [3, 4, 5, 6, 7, 8]
    assert masks_on_path("everywhere", lags, 2, path="c").tolist() == [3] * 6  # the cell path is free
    assert masks_on_path("memory", lags, 2, path="c").tolist() == [3, 4, 5, 6, 7, 8]
    assert masks_on_path("variational", lags, 3).tolist() == [4, 5, 5, 5, 5, 5]
    assert masks_on_path("none", lags).tolist() == [0] * 6
    with pytest.raises(ValueError, match="unknown scheme"):
        recurrent_masks("bogus", lags)


def test_analytic_curves_fields():
    c = analytic_curves("everywhere", 0.5, [0, 2], num_layers=2)
    assert c["masks"].tolist() == [3, 5]
    assert c["untouched"].tolist() == pytest.approx([0.125, 0.5**5])
    assert c["relative_variance"].tolist() == pytest.approx([7, 31])


@pytest.mark.parametrize("mixing", ["orthogonal", "identity"])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_simulation_agrees_with_the_analytic_curve_for_fresh_masks(mixing, p):
    # Lags where the Monte-Carlo estimate is not yet dominated by rare surviving draws.
    est = simulate_linear("everywhere", p, max_lag=10 if p < 0.3 else 6, samples=4000, mixing=mixing, seed=1)
    expected = relative_variance(p, recurrent_masks("everywhere", est.lag))
    assert est.within(expected, sigmas=4).all(), (est.mean, expected, est.stderr)
    assert est.stderr[1:].gt(0).all()


def test_shared_mask_is_one_mask_without_mixing_but_compounds_with_it():
    p, lag = 0.3, 10
    expected = relative_variance(p, recurrent_masks("variational", torch.arange(lag + 1)))
    diagonal = simulate_linear("variational", p, lag, mixing="identity", seed=2)
    assert diagonal.within(expected, sigmas=4).all()
    mixed = simulate_linear("variational", p, lag, mixing="orthogonal", seed=2)
    assert mixed.mean[-1] > 10 * expected[-1]  # the book reports this: sharing alone does not stop it


def test_zaremba_leaves_the_recurrence_noise_free_in_every_simulation():
    assert simulate_linear("zaremba", 0.5, 5, samples=200).mean.abs().max() < 1e-12
    assert simulate_tanh("zaremba", 0.5, 5, samples=200).mean.abs().max() < 1e-12
    lstm = simulate_lstm("zaremba", 0.5, 5, samples=100)
    assert lstm["h"].mean.abs().max() < 1e-12 and lstm["c"].mean.abs().max() < 1e-12


def test_recurrent_noise_grows_with_lag_in_tanh_and_lstm():
    tanh = simulate_tanh("everywhere", 0.5, 8, samples=1000, seed=0)
    assert tanh.mean[8] > 5 * tanh.mean[1] > 0
    lstm = simulate_lstm("everywhere", 0.5, 8, samples=400, seed=0)
    assert lstm["h"].mean[8] > 2 * lstm["h"].mean[1] > 0
    assert math.isclose(lstm["response_norm"][0].item(), 1.0)


def test_chapters_02_and_03_count_the_same_masks_for_every_scheme():
    # chapter 02's path table (schemes.masks_on_path) and chapter 03's analytic curves
    # (signal.masks_on_path, path=None: whichever path the scheme masks) must agree.
    from rnnreg.analysis import schemes

    for scheme in schemes.SCHEMES:
        for k in (0, 1, 5, 20):
            assert masks_on_path(scheme, k, 2).item() == schemes.masks_on_path(scheme, 2, k)["distinct"], (scheme, k)
    assert masks_on_path("memory", [0, 5], 2).tolist() == [3, 8]  # the cell path, a fresh mask per step
    assert masks_on_path("memory", [0, 5], 2, path="h").tolist() == [3, 3]
