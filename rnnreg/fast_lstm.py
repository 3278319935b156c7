r"""The LSTM recurrence with a hand-written backward: what trains the schemes that mask h, c or zone out.

:func:`rnnreg.model.lstm_step` is the readable step; autograd through it builds a graph node per
operation per step, and backward then runs a dozen small kernels a step plus T small ``W_hh``
gradient matmuls. :class:`LSTMRecurrence` computes the same numbers (``tests/test_model.py``
holds them equal, values and gradients, for every scheme) with the gradient written out below.

Forward, step t (``xp_t = W_ih x_t + b`` for all T steps in one matmul, before the loop;
``m^h``, ``m^c`` dropout masks, ``d^h``, ``d^c`` zoneout keep-draws, all optional)::

    h'_{t-1} = m^h_t * h_{t-1}                      c'_{t-1} = m^c_t * c_{t-1}
    a_t = xp_t + W_hh h'_{t-1}                      pre-activations of the gates i, f, g, o
    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o)    g = tanh(a_g)
    c~_t = f * c'_{t-1} + i * g                     h~_t = o * tanh(c~_t)
    c_t = d^c_t * c_{t-1} + (1 - d^c_t) * c~_t      h_t = d^h_t * h_{t-1} + (1 - d^h_t) * h~_t

Backward, t = T..1, with ``dh_t`` (from the layer above at t, plus from step t+1) and ``dc_t``.
The chain rule through the five lines above, bottom to top (sigma' = sigma (1 - sigma),
tanh' = 1 - tanh^2)::

    dh~ = (1 - d^h_t) dh_t
    dc~ = (1 - d^c_t) dc_t + dh~ * o * (1 - tanh^2 c~_t)
    da_i = dc~ * g * i (1 - i)        da_f = dc~ * c'_{t-1} * f (1 - f)
    da_g = dc~ * i * (1 - g^2)        da_o = dh~ * tanh(c~_t) * o (1 - o)
    dxp_t = da_t
    dh_{t-1} = m^h_t * (da_t W_hh) + d^h_t * dh_t   (+ the layer above's gradient at t-1)
    dc_{t-1} = m^c_t * f * dc~ + d^c_t * dc_t
    dW_hh = sum_t da_t^T h'_{t-1}

Speed: the factors that multiply ``dc~`` and ``dh~`` (``g i (1-i)``, ``c' f (1-f)``, ...) do not
depend on the incoming gradient, so they are computed for all T steps at once before the loop;
``dW_hh`` is one matmul over all T*B rows after it. The forward runs one sigmoid over all four
gates (tanh then overwrites g) and writes into (T, B, .) buffers in place.
"""

from __future__ import annotations

import torch

__all__ = ["LSTMRecurrence"]


class LSTMRecurrence(torch.autograd.Function):
    """One LSTM layer over T steps: ``apply(xp, w_hh, h0, c0, mh, mc, zh, zc) -> (hs, h_T, c_T)``.

    ``xp``: (T, B, 4H) input projections; masks: (T, B, H) or None (see the module docstring).
    """

    @staticmethod
    def forward(ctx, xp, w_hh, h0, c0, mh, mc, zh, zc):
        steps, (batch, hidden) = xp.size(0), h0.shape
        w_hh_t = w_hh.t()
        acts = torch.empty_like(xp)  # sigma(i), sigma(f), tanh(g), sigma(o) of every step
        hs, cs, tcs = (xp.new_empty(steps, batch, hidden) for _ in range(3))
        g_slice = slice(2 * hidden, 3 * hidden)
        h, c = h0, c0
        for t in range(steps):
            gates = torch.addmm(xp[t], h if mh is None else h * mh[t], w_hh_t)  # xp_t + h W_hh^T
            a = acts[t]
            torch.sigmoid(gates, out=a)
            torch.tanh(gates[:, g_slice], out=a[:, g_slice])
            i, f, g, o = a.chunk(4, 1)
            f_c = f * (c if mc is None else c * mc[t])
            if zc is None:
                c_new = torch.addcmul(f_c, i, g, out=cs[t])
            else:  # zoneout: c_t = d^c c_{t-1} + (1 - d^c) c~
                c_new = torch.addcmul(f_c, i, g)
                torch.lerp(c_new, c, zc[t], out=cs[t])
            tc = torch.tanh(c_new, out=tcs[t])
            if zh is None:
                torch.mul(o, tc, out=hs[t])
            else:
                torch.lerp(o * tc, h, zh[t], out=hs[t])
            h, c = hs[t], cs[t]
        ctx.save_for_backward(w_hh, h0, c0, hs, cs, acts, tcs, mh, mc, zh, zc)
        return hs, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, d_hs, d_h, d_c):
        w_hh, h0, c0, hs, cs, acts, tcs, mh, mc, zh, zc = ctx.saved_tensors
        steps, batch, hidden = hs.shape
        # What each step saw, and the gradient-independent factors, for all T steps at once.
        h_in = torch.cat((h0[None], hs[:-1]))
        c_in = torch.cat((c0[None], cs[:-1]))
        h_in = h_in if mh is None else h_in * mh
        c_in = c_in if mc is None else c_in * mc
        i, f, g, o = acts.chunk(4, 2)
        factors = torch.cat((g * i * (1 - i), c_in * f * (1 - f), i * (1 - g * g), tcs * o * (1 - o)), 2)
        factors = factors.view(steps, batch, 4, hidden)
        d_tanh_c = o * (1 - tcs * tcs)
        f_back = f if mc is None else f * mc
        zh_off = None if zh is None else 1 - zh  # zoneout: the share of each unit that updates
        zc_off = None if zc is None else 1 - zc

        d_gates = torch.empty_like(acts)
        d_gates4 = d_gates.view(steps, batch, 4, hidden)
        dh, dc = d_h + d_hs[-1], d_c
        for t in reversed(range(steps)):
            dh_new = dh if zh is None else dh * zh_off[t]
            dc_new = dc if zc is None else dc * zc_off[t]
            dc_new = torch.addcmul(dc_new, dh_new, d_tanh_c[t])
            torch.mul(factors[t, :, :3], dc_new[:, None], out=d_gates4[t, :, :3])  # da_i, da_f, da_g
            torch.mul(factors[t, :, 3], dh_new, out=d_gates4[t, :, 3])  # da_o
            dh_prev = d_gates[t] @ w_hh  # da_t W_hh
            if mh is not None:
                dh_prev = dh_prev * mh[t]
            if zh is not None:
                dh_prev = torch.addcmul(dh_prev, dh, zh[t])
            dc_prev = dc_new * f_back[t]
            if zc is not None:
                dc_prev = torch.addcmul(dc_prev, dc, zc[t])
            if t > 0:
                dh_prev = dh_prev + d_hs[t - 1]
            dh, dc = dh_prev, dc_prev
        d_w = (h_in.reshape(-1, hidden).t() @ d_gates.view(-1, 4 * hidden)).t()  # this order: ~20% faster on CPU
        return d_gates, d_w, dh, dc, None, None, None, None
