import re

import pytest
import torch

from rnnreg import model as model_module
from rnnreg.fast_lstm import LSTMRecurrence
from rnnreg.model import FUSED_SCHEMES, LSTMLM, SCHEMES, StepMasks, dropout_mask, lstm_recurrence_autograd

V, H, L, T, B = 30, 16, 2, 9, 4


def make(scheme, p=0.5, **kw):
    torch.manual_seed(0)
    return LSTMLM(V, H, L, scheme, dropout=0.0 if scheme == "none" else p, **kw)


def tokens(seed=1):
    return torch.randint(0, V, (T, B), generator=torch.Generator().manual_seed(seed))


def test_dropout_mask_is_inverted_scaling():
    p = 0.3
    m = dropout_mask((200_000,), p, torch.zeros(1))
    assert torch.unique(m).tolist() == pytest.approx([0.0, 1 / (1 - p)])
    assert (m == 0).float().mean().item() == pytest.approx(p, abs=0.01)
    assert m.mean().item() == pytest.approx(1.0, abs=0.01)  # E[D(v)] = v


@pytest.mark.parametrize("scheme,site", [("everywhere", "h"), ("memory", "c"), ("variational", "h")])
def test_recurrent_masks_fall_where_the_scheme_says(scheme, site):
    model = make(scheme).train()
    masks = model.step_masks(torch.zeros(T, B, H))
    present = {k for k in ("h", "c", "zh", "zc") if getattr(masks, k) is not None}
    assert present == {site}
    m = getattr(masks, site)
    assert set(torch.unique(m).tolist()) <= {0.0, 2.0}  # p = 0.5: 0 or 1/(1-p)
    fresh = not torch.equal(m[0], m[1])
    assert fresh == (scheme != "variational")  # variational: one mask for every step
    if scheme == "variational":
        assert all(torch.equal(m[0], m[t]) for t in range(T))


@pytest.mark.parametrize("scheme", ["none", "zaremba", "weight_drop"])
def test_no_step_masks_on_the_recurrence(scheme):
    masks = make(scheme).train().step_masks(torch.zeros(T, B, H))
    assert masks == StepMasks()


def test_weight_drop_masks_hidden_to_hidden_weights_once_per_forward():
    model = make("weight_drop").train()
    layer = model.layers[0]
    w = model.recurrent_weight(layer)
    kept = w != 0
    assert 0.4 < kept.float().mean().item() < 0.6
    assert torch.allclose(w[kept], 2 * layer.weight_hh_l0[kept])
    assert not torch.equal(model.recurrent_weight(layer), w)  # a fresh mask each forward pass
    assert torch.equal(model.eval().recurrent_weight(layer), layer.weight_hh_l0)


def test_zoneout_draws_keep_masks_in_training_and_uses_expectation_in_eval():
    model = make("zoneout", zoneout_h=0.1, zoneout_c=0.6)
    masks = model.train().step_masks(torch.zeros(200, B, H))
    assert set(torch.unique(masks.zh).tolist()) == {0.0, 1.0}
    assert masks.zh.mean().item() == pytest.approx(0.1, abs=0.03)
    assert masks.zc.mean().item() == pytest.approx(0.6, abs=0.03)
    masks = model.eval().step_masks(torch.zeros(T, B, H))
    assert torch.all(masks.zh == 0.1) and torch.all(masks.zc == 0.6)


def test_non_recurrent_dropout_hits_a_signal_L_plus_1_times(monkeypatch):
    model = make("zaremba").train()
    calls = []
    original = LSTMLM.drop_nonrecurrent
    monkeypatch.setattr(LSTMLM, "drop_nonrecurrent", lambda self, x: calls.append(x.shape) or original(self, x))
    model(tokens())
    assert len(calls) == L + 1  # embedding -> layer 1, layer 1 -> layer 2, layer 2 -> softmax


def test_zaremba_masks_are_fresh_per_step_and_variational_shared():
    x = torch.ones(T, B, H)
    fresh = make("zaremba").train().drop_nonrecurrent(x)
    shared = make("variational").train().drop_nonrecurrent(x)
    assert not torch.equal(fresh[0], fresh[1])
    assert all(torch.equal(shared[0], shared[t]) for t in range(T))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_recurrent_path_is_deterministic_only_where_the_scheme_leaves_it_alone(scheme, monkeypatch):
    # Switch off the non-recurrent masks: what randomness remains lives on the recurrent path.
    monkeypatch.setattr(LSTMLM, "drop_nonrecurrent", lambda self, x: x)
    model = make(scheme).train()
    x = tokens()
    a, b = model(x)[0], model(x)[0]
    assert torch.equal(a, b) == (scheme in ("none", "zaremba"))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_eval_mode_is_deterministic_and_dropout_free(scheme):
    model = make(scheme).eval()
    x = tokens()
    assert torch.equal(model(x)[0], model(x)[0])
    if scheme != "zoneout":  # zoneout's eval mode is its expectation, not the plain LSTM
        plain = make("none").eval()
        plain.load_state_dict(model.state_dict())
        assert torch.allclose(model(x)[0], plain(x)[0], atol=1e-6)


def test_fused_and_custom_paths_agree_for_none():
    model = make("none").train()
    x = tokens()
    state = [(torch.randn(B, H), torch.randn(B, H)) for _ in range(L)]
    fused, fused_state = model(x, state)
    custom, custom_state, _ = model(x, state, return_states=True)
    assert torch.allclose(fused, custom, atol=1e-5)
    for (h1, c1), (h2, c2) in zip(fused_state, custom_state):
        assert torch.allclose(h1, h2, atol=1e-5) and torch.allclose(c1, c2, atol=1e-5)
    # The hand-written backward path (scheme none forced onto it) gives the same gradients.
    fused.sum().backward()
    g_fused = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.scheme = "memory"  # same code path as the custom schemes; p = 0 makes it the plain LSTM
    model.recurrent_dropout = 0.0
    custom2, _ = model(x, state)
    assert torch.allclose(fused, custom2, atol=1e-5)
    custom2.sum().backward()
    for g, p in zip(g_fused, model.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-4)


def _rand_masks(seed):
    g = torch.Generator().manual_seed(seed)
    drop = lambda: (torch.rand(5, 3, 4, generator=g, dtype=torch.double) > 0.3).double() / 0.7
    keep = lambda: (torch.rand(5, 3, 4, generator=g, dtype=torch.double) < 0.4).double()
    return [
        StepMasks(),
        StepMasks(h=drop()),
        StepMasks(c=drop()),
        StepMasks(zh=keep(), zc=keep()),
        StepMasks(h=drop()[:1].expand(5, 3, 4)),
    ]


@pytest.mark.parametrize("i", range(5))
def test_hand_written_backward_matches_autograd(i):
    masks = _rand_masks(i)[i]
    g = torch.Generator().manual_seed(i)
    args = [
        torch.randn(*s, generator=g, dtype=torch.double, requires_grad=True)
        for s in ((5, 3, 16), (16, 4), (3, 4), (3, 4))
    ]
    fn = lambda xp, w, h0, c0: LSTMRecurrence.apply(xp, w, h0, c0, masks.h, masks.c, masks.zh, masks.zc)
    assert torch.autograd.gradcheck(fn, args)
    hs, _, c = fn(*args)
    ref_h, ref_c = lstm_recurrence_autograd(*args, masks)
    assert torch.allclose(hs, ref_h) and torch.allclose(c, ref_c[-1])


def test_return_states_gives_every_step_and_is_differentiable():
    model = make("zaremba").eval()
    emb = model.embedding
    x = tokens()
    logits, _, states = model(x, return_states=True)
    assert logits.shape == (T, B, V)
    assert states["h"].shape == states["c"].shape == (L, T, B, H)
    h_last = states["h"][-1, -1].sum()
    grad = torch.autograd.grad(h_last, emb.weight)[0]
    assert grad[x[0]].abs().sum() > 0  # the first token still moves the last state


def test_init_is_uniform_within_init_scale_and_tying_shares_weights():
    model = LSTMLM(V, H, L, init_scale=0.07)
    assert all(p.abs().max() <= 0.07 for p in model.parameters())
    tied = LSTMLM(V, H, L, tie_weights=True)
    assert tied.decoder.weight is tied.embedding.weight
    assert tied.num_parameters() == model.num_parameters() - V * H


def test_parameter_counts_of_the_paper_models():
    # 10k vocabulary, untied, two biases per gate: small 4.65M, medium 19.78M, large 66.03M (paper.md).
    counts = {h: LSTMLM(10_000, h, 2).num_parameters() for h in (200, 650)}
    assert round(counts[200] / 1e6, 2) == 4.65 and round(counts[650] / 1e6, 2) == 19.78


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(scheme="dropall"), "unknown scheme"),
        (dict(scheme="zaremba", dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
        (dict(scheme="zaremba", dropout=-0.1), "dropout must be"),
        (dict(scheme="everywhere", recurrent_dropout=1.5), "recurrent_dropout must be"),
        (dict(scheme="zoneout", zoneout_c=1.0), "zoneout_c must be"),
        (dict(hidden_size=0), "hidden_size must be a positive integer"),
        (dict(num_layers=-1), "num_layers must be a positive integer"),
        (dict(init_scale=0.0), "init_scale must be positive"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMLM(V, **kwargs)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_training_path_equals_the_readable_step(scheme, training, monkeypatch):
    """What trains (nn.LSTM's kernel, or fast_lstm's hand-written backward) against lstm_step step by
    step (return_states=True): the same masks from the same seed, the same outputs and gradients."""
    fast_calls, apply = [], LSTMRecurrence.apply
    monkeypatch.setattr(LSTMRecurrence, "apply", staticmethod(lambda *a: fast_calls.append(1) or apply(*a)))
    model = make(scheme).train(training)
    x = tokens()
    state = [(torch.randn(B, H), torch.randn(B, H)) for _ in range(L)]
    results = []
    for readable in (False, True):
        torch.manual_seed(3)
        model.zero_grad()
        logits, new_state = model(x, state, return_states=readable)[:2]
        (logits.square().sum() + sum(h.sum() + 2 * c.sum() for h, c in new_state)).backward()
        results.append([logits, *(t for hc in new_state for t in hc), *(p.grad for p in model.parameters())])
    assert len(fast_calls) == (0 if scheme in FUSED_SCHEMES else L)
    for fast, readable in zip(*results):
        assert torch.allclose(fast, readable, atol=1e-5)


@pytest.mark.parametrize("scheme", ["none", "everywhere", "memory", "variational", "zoneout"])
def test_fast_recurrence_matches_the_reference_in_float32(scheme):
    """The float32 production loop against lstm_step."""
    torch.manual_seed(0)
    steps, batch, hidden = 6, 4, 16
    xp = torch.randn(steps, batch, 4 * hidden, requires_grad=True)
    w = (torch.randn(4 * hidden, hidden) * 0.3).requires_grad_()
    h0, c0 = torch.randn(batch, hidden, requires_grad=True), torch.randn(batch, hidden, requires_grad=True)
    masks = model_module.recurrence_masks(scheme, torch.empty(steps, batch, hidden), 0.4)
    hs, _, c = LSTMRecurrence.apply(xp, w, h0, c0, masks.h, masks.c, masks.zh, masks.zc)
    ref_h, ref_c = lstm_recurrence_autograd(xp, w, h0, c0, masks)
    assert torch.allclose(hs, ref_h, atol=1e-6) and torch.allclose(c, ref_c[-1], atol=1e-6)
    weights = torch.randn_like(hs)
    grads = torch.autograd.grad((hs * weights).sum() + c.sum(), [xp, w, h0, c0])
    ref_grads = torch.autograd.grad((ref_h * weights).sum() + ref_c[-1].sum(), [xp, w, h0, c0])
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-5)


def unregistered(scheme: str) -> list[str]:
    """The registration points of model.py's checklist that ``scheme`` misses."""
    from rnnreg.analysis import schemes
    from rnnreg.views import panels, style

    sites = schemes.SCHEME_SITES.get(scheme)
    checks = {
        "its entry in model.py's docstring": re.search(rf"^``{scheme}``", model_module.__doc__, re.M),
        "analysis/schemes.py SCHEME_SITES": sites is not None,
        "analysis/schemes.py SCHEME_INFO": scheme in schemes.SCHEME_INFO,
        "views/style.py SCHEME_COLORS": scheme in style.SCHEME_COLORS,
        "views/panels.py SCHEME_CODE": scheme in panels.SCHEME_CODE,
    }
    if sites is not None:
        checks["masks on its sites (drop_nonrecurrent, recurrence_masks, recurrent_weight)"] = set(
            schemes.sample_masks(scheme)
        ) == {site.connection for site in sites}
        checks["FUSED_SCHEMES if and only if no mask on h or c"] = (scheme in FUSED_SCHEMES) == all(
            site.connection not in ("h", "c") for site in sites
        )
    return [f"{scheme}: {what}" for what, ok in checks.items() if not ok]


def test_every_scheme_is_registered():
    assert [missing for s in SCHEMES for missing in unregistered(s)] == []
    assert len(unregistered("bogus")) == 5  # a scheme nowhere but in SCHEMES: each place is named
