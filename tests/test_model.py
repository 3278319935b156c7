import pytest
import torch

from rnnreg.model import LSTMLM, SCHEMES, LSTMRecurrence, StepMasks, dropout_mask, lstm_recurrence_autograd

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
    return [StepMasks(), StepMasks(h=drop()), StepMasks(c=drop()), StepMasks(zh=keep(), zc=keep()),
            StepMasks(h=drop()[:1].expand(5, 3, 4))]


@pytest.mark.parametrize("i", range(5))
def test_hand_written_backward_matches_autograd(i):
    masks = _rand_masks(i)[i]
    g = torch.Generator().manual_seed(i)
    args = [torch.randn(*s, generator=g, dtype=torch.double, requires_grad=True)
            for s in ((5, 3, 16), (16, 4), (3, 4), (3, 4))]
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


@pytest.mark.parametrize("kwargs,match", [
    (dict(scheme="dropall"), "unknown scheme"),
    (dict(scheme="zaremba", dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
    (dict(scheme="zaremba", dropout=-0.1), "dropout must be"),
    (dict(scheme="everywhere", recurrent_dropout=1.5), "recurrent_dropout must be"),
    (dict(scheme="zoneout", zoneout_c=1.0), "zoneout_c must be"),
    (dict(hidden_size=0), "hidden_size must be a positive integer"),
    (dict(num_layers=-1), "num_layers must be a positive integer"),
    (dict(init_scale=0.0), "init_scale must be positive"),
])
def test_bad_hyperparameters_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMLM(V, **kwargs)


def test_weight_drop_on_the_fused_kernel_matches_the_step_by_step_reference():
    """The fused path (DropConnect'ed W_hh into nn.LSTM's kernel) and the autograd reference draw the
    same masks from the same seed and give the same outputs and gradients."""
    model = make("weight_drop").train()
    x = tokens()
    results = []
    for return_states in (False, True):
        torch.manual_seed(3)
        model.zero_grad()
        logits = model(x, return_states=return_states)[0]
        logits.square().sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (fused, g_fused), (ref, g_ref) = results
    assert torch.allclose(fused, ref, atol=1e-5)
    for a, b in zip(g_fused, g_ref):
        assert torch.allclose(a, b, atol=1e-4)
    torch.manual_seed(4)
    assert not torch.allclose(model(x)[0], fused)  # a fresh W_hh mask each forward pass


@pytest.mark.parametrize("scheme", ["none", "everywhere", "memory", "variational", "zoneout"])
@pytest.mark.parametrize("onednn", [False, True])
def test_fast_recurrence_matches_the_reference_in_float32(scheme, onednn, monkeypatch):
    """The float32 production loop (with and without oneDNN's packed matmul) against lstm_step."""
    from rnnreg import model as model_module
    if onednn and not model_module._onednn_packing_works():
        pytest.skip("this PyTorch build has no oneDNN matmul")
    monkeypatch.setattr(model_module.RecurrentMatmul, "PACK_MIN_WEIGHT", 0 if onednn else 10**12)
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
