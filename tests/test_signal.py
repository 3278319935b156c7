import math

import pytest
import torch

from rnnreg.analysis.signal import (
    analytic_curves,
    distinct_masks,
    recurrent_masks,
    relative_variance,
    simulate_linear,
    simulate_lstm,
)


def within(est, reference, sigmas):
    """Each lag's Monte-Carlo mean lies within ``sigmas`` standard errors of ``reference``."""
    return (est.mean - reference).abs() <= sigmas * est.stderr + 1e-12


def test_relative_variance_of_k_masks():
    assert relative_variance(0.5, 0).item() == 0
    assert relative_variance(0.5, 1).item() == pytest.approx(1.0)  # p/(1-p)
    assert relative_variance(0.5, 3).item() == pytest.approx(7.0)
    # SNR falls exponentially: ratio of successive SNRs tends to (1 - p) (everywhere: one mask more per lag).
    s = analytic_curves("everywhere", 0.3, torch.arange(20, 40))["snr"]
    assert (s[1:] / s[:-1]).tolist() == pytest.approx([0.7] * 19, rel=1e-3)


def test_masks_met_on_the_way_from_input_to_softmax():
    lags = torch.arange(6)
    assert distinct_masks("zaremba", lags, 2).tolist() == [3] * 6  # L+1 whatever the lag
    assert distinct_masks("everywhere", lags, 2).tolist() == [3, 4, 5, 6, 7, 8]
    assert distinct_masks("everywhere", lags, 2, path="c").tolist() == [3] * 6  # the cell path is free
    assert distinct_masks("memory", lags, 2, path="c").tolist() == [3, 4, 5, 6, 7, 8]
    assert distinct_masks("variational", lags, 3).tolist() == [4, 5, 5, 5, 5, 5]
    assert distinct_masks("none", lags).tolist() == [0] * 6
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
    assert within(est, expected, sigmas=4).all(), (est.mean, expected, est.stderr)
    assert est.stderr[1:].gt(0).all()


def test_shared_mask_is_one_mask_without_mixing_but_compounds_with_it():
    p, lag = 0.3, 10
    expected = relative_variance(p, recurrent_masks("variational", torch.arange(lag + 1)))
    diagonal = simulate_linear("variational", p, lag, mixing="identity", seed=2)
    assert within(diagonal, expected, sigmas=4).all()
    mixed = simulate_linear("variational", p, lag, mixing="orthogonal", seed=2)
    assert mixed.mean[-1] > 10 * expected[-1]  # the book reports this: sharing alone does not stop it


def test_zaremba_leaves_the_recurrence_noise_free_in_every_simulation():
    assert simulate_linear("zaremba", 0.5, 5, samples=200).mean.abs().max() < 1e-12
    lstm = simulate_lstm("zaremba", 0.5, 5, samples=100)
    assert lstm["h"].mean.abs().max() < 1e-12 and lstm["c"].mean.abs().max() < 1e-12


def test_recurrent_noise_grows_with_lag_in_the_lstm():
    lstm = simulate_lstm("everywhere", 0.5, 8, samples=400, seed=0)
    assert lstm["h"].mean[8] > 2 * lstm["h"].mean[1] > 0
    assert math.isclose(lstm["response_norm"][0].item(), 1.0)


def test_chapters_02_and_03_count_the_same_masks_for_every_scheme():
    # chapter 02's path table (schemes.masks_on_path) and chapter 03's analytic curves
    # (signal.distinct_masks, path=None: whichever path the scheme masks) must agree.
    from rnnreg.analysis import schemes

    for scheme in schemes.SCHEMES:
        for k in (0, 1, 5, 20):
            assert distinct_masks(scheme, k, 2).item() == schemes.masks_on_path(scheme, 2, k)["distinct"], (scheme, k)
    assert distinct_masks("memory", [0, 5], 2).tolist() == [3, 8]  # the cell path, a fresh mask per step
    assert distinct_masks("memory", [0, 5], 2, path="h").tolist() == [3, 3]


def test_analytic_curves_count_masks_per_lag():
    curve = {s: analytic_curves(s, 0.5, [0, 5]) for s in ("everywhere", "zaremba", "memory")}
    assert curve["everywhere"]["masks"][1] == 8 and curve["everywhere"]["relative_variance"][1] == 255
    assert curve["zaremba"]["masks"][1] == 3 and curve["zaremba"]["relative_variance"][1] == 7
    # the cell path, a fresh mask per step
    assert curve["memory"]["relative_variance"].tolist() == curve["everywhere"]["relative_variance"].tolist()


# -- signal vs mask noise in a model's Jacobian ------------------------------------------------------


def test_unbiased_estimator_matches_the_exact_expectation():
    """Average the estimator over every equally likely M-tuple of a four-outcome g: exactly ||E g||^2."""
    import itertools

    from rnnreg.analysis.signal import unbiased_mean_sq_norm

    outcomes = torch.tensor([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [2.0, 2.0, 0.0], [0.0, 0.0, 3.0]], dtype=torch.float64)
    exact = outcomes.mean(0).pow(2).sum()
    for m in (2, 3):
        tuples = torch.stack([outcomes[list(t)] for t in itertools.product(range(4), repeat=m)], 1)  # (m, 4^m, 3)
        assert unbiased_mean_sq_norm(tuples).mean().item() == pytest.approx(exact.item(), rel=1e-12)
        biased = tuples.mean(0).pow(2).sum(-1).mean()
        assert biased.item() > exact.item() + 0.1  # ||mean g||^2 alone overestimates it
    with pytest.raises(ValueError, match="at least 2 draws"):
        unbiased_mean_sq_norm(outcomes[:1])


def _tiny(scheme, dropout=0.5, recurrent=None, layers=2, init_scale=0.5, seed=0):
    from rnnreg.model import LSTMLM

    torch.manual_seed(seed)
    return LSTMLM(40, 16, layers, scheme, dropout, recurrent, init_scale=init_scale)


IDS = torch.randint(0, 40, (1500,), generator=torch.Generator().manual_seed(0))


def test_mask_noise_is_all_signal_without_masks():
    from rnnreg.analysis.signal import mask_noise

    for model, training in ((_tiny("none", 0.0), True), (_tiny("everywhere", 0.5), False), (_tiny("zoneout"), False)):
        r = mask_noise(model, IDS, max_lag=6, positions=16, draws=3, warmup=5, training=training)
        assert r.fraction.tolist() == pytest.approx([1.0] * 7, abs=1e-9)
        assert r.total.tolist() == pytest.approx(r.eval_total.tolist(), rel=1e-6)


def test_mask_noise_names_the_tokens_it_needs():
    from rnnreg.analysis.signal import mask_noise

    with pytest.raises(ValueError, match="need at least 12 tokens"):
        mask_noise(_tiny("none", 0.0), IDS[:11], max_lag=6, positions=4, draws=2, warmup=5)


def test_mask_noise_grows_with_the_lag_only_on_a_masked_recurrent_path():
    from rnnreg.analysis.signal import mask_noise

    fresh = mask_noise(_tiny("everywhere", 0.1, 0.8), IDS, max_lag=8, positions=64, draws=12, warmup=5)
    assert fresh.fraction[8] < 0.5 * fresh.fraction[1]
    memory = mask_noise(_tiny("memory", 0.1, 0.8), IDS, max_lag=8, positions=64, draws=12, warmup=5)
    assert memory.fraction[8] < 0.5 * memory.fraction[1]
    # zaremba, one layer, the paper's init scale (near-linear): between x_(t-k) and h_t sits only the
    # input mask at t-k, so the fraction is that of one mask, 1 - p, whatever the lag
    zaremba = mask_noise(
        _tiny("zaremba", 0.5, layers=1, init_scale=0.1), IDS, max_lag=10, positions=64, draws=12, warmup=5
    )
    assert zaremba.fraction.tolist() == pytest.approx([0.5] * 11, abs=0.05)
    two = mask_noise(_tiny("zaremba", 0.5), IDS, max_lag=10, positions=64, draws=12, warmup=5)
    assert (two.fraction[1:] >= 0.9 * two.fraction[1]).all()  # two layers: no fall with the lag either
    assert (fresh.stderr > 0).all()


def test_mask_noise_is_seeded_and_leaves_the_random_state_alone():
    from rnnreg.analysis.signal import mask_noise

    model = _tiny("weight_drop", 0.3, 0.5)  # one DropConnect mask per forward pass: a draw is a pass
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = mask_noise(model, IDS, max_lag=4, positions=8, draws=4, warmup=3, seed=1)
    assert torch.equal(torch.get_rng_state(), before) and model.training
    b = mask_noise(model, IDS, max_lag=4, positions=8, draws=4, warmup=3, seed=1)
    assert a.fraction.tolist() == b.fraction.tolist() and (a.fraction < 1).all()
    assert {"lag", "fraction", "stderr", "signal", "total", "eval_total", "median", "low", "high"} == set(a.as_dict())
    assert (a.low <= a.fraction + 1e-12).all() and (a.fraction <= a.high + 1e-12).all()


def test_window_statistics_ratio_of_sums_median_and_bootstrap():
    """A few windows with a huge total drive the ratio of sums; the median of the windows' own fractions
    does not move, and the bootstrap interval over windows widens to show it."""
    from rnnreg.analysis.signal import window_statistics

    total = torch.ones(1, 100, dtype=torch.float64)
    signal = 0.5 * total
    calm = window_statistics(signal, total)
    assert calm["fraction"].item() == pytest.approx(0.5) and calm["median"].item() == pytest.approx(0.5)
    assert calm["low"].item() == pytest.approx(0.5) and calm["high"].item() == pytest.approx(0.5)
    assert calm["stderr"].item() == pytest.approx(0.0, abs=1e-12)
    total[0, :3] = 100.0  # three windows whose rare mask draws blow up the masked power, with no signal
    signal[0, :3] = 0.0
    wild = window_statistics(signal, total)
    assert wild["fraction"].item() == pytest.approx(48.5 / 397)  # the ratio of sums follows the three
    assert wild["median"].item() == pytest.approx(0.5)  # the median does not
    assert wild["low"].item() < 0.1 < wild["fraction"].item() < 0.25 < wild["high"].item()  # a wide interval
