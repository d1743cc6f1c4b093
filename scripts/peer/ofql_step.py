"""PyTorch peer of one OFQL training step, for `npm run bench:train` (scripts/bench-train.ts).

The same step as src/ofql/train-step.ts at the same sizes, written the way a PyTorch user would
(DQL's modules, forward-mode AD for the MeanFlow target's JVP -- zhuyu-cs/MeanFlow uses
torch.func.jvp, which measured 15 % slower here on torch 1.13 -- Adam, clip_grad_norm_): critic TD target from the EMA actor's one-step action and the target critic,
twin-critic MSE, actor = MeanFlow loss + eta * Q loss, EMA every 5 steps, target soft update.

Reads one JSON object of sizes on argv[1], prints one JSON line {"ms": [...per-repeat ms per step]}.
Run it with Debian's /usr/bin/python3 (python3-torch) and OPENBLAS_NUM_THREADS=<threads>.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import torch.autograd.forward_ad as fwAD

# The shared modules (scripts/export/torch_nets.py), found from this file so that it runs from anywhere.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from torch_nets import SinusoidalPosEmb, TwinCritic as Critic, loaded_blas, mlp  # noqa: E402


class Actor(nn.Module):
    def __init__(self, s, a, h, depth, e):
        super().__init__()
        self.t_embed = nn.Sequential(SinusoidalPosEmb(e), nn.Linear(e, 2 * e), nn.Mish(), nn.Linear(2 * e, e))
        self.r_embed = nn.Sequential(SinusoidalPosEmb(e), nn.Linear(e, 2 * e), nn.Mish(), nn.Linear(2 * e, e))
        self.net = mlp([a + 2 * e + s] + [h] * depth + [a])

    def forward(self, at, r, t, s):
        return self.net(torch.cat([at, self.t_embed(t), self.r_embed(r), s], dim=1))


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    S, A, B, H, D, E = cfg["obsDim"], cfg["actDim"], cfg["batch"], cfg["hidden"], cfg["depth"], cfg["timeEmb"]
    eta, gamma, tau, gn = cfg["eta"], 0.99, 0.005, cfg["gradNorm"]
    actor, critic = Actor(S, A, H, D, E), Critic(S, A, H, D)
    ema, critic_target = Actor(S, A, H, D, E), Critic(S, A, H, D)
    ema.load_state_dict(actor.state_dict())
    critic_target.load_state_dict(critic.state_dict())
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=3e-4)
    s, s2 = torch.randn(B, S), torch.randn(B, S)
    a = torch.rand(B, A) * 2 - 1
    rew, nd = torch.randn(B, 1), torch.ones(B, 1)
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)

    def one_step(net, eps, state):
        return (eps - net(eps, zeros, ones, state)).clamp(-1, 1)

    def train_step(i):
        with torch.no_grad():
            a2 = one_step(ema, torch.randn(B, A), s2)
            q1t, q2t = critic_target(s2, a2)
            y = rew + nd * gamma * torch.min(q1t, q2t)
        q1, q2 = critic(s, a)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        critic_opt.zero_grad()
        critic_loss.backward()
        nn.utils.clip_grad_norm_(critic.parameters(), gn)
        critic_opt.step()

        t = torch.sigmoid(torch.randn(B, 1) - 0.4)
        r = torch.minimum(t, torch.sigmoid(torch.randn(B, 1) - 0.4))
        r[: B // 2] = t[: B // 2]
        eps = torch.randn(B, A)
        at = (1 - t) * a + t * eps
        v = eps - a
        with torch.no_grad(), fwAD.dual_level():
            u_dual = actor(fwAD.make_dual(at, v), r, fwAD.make_dual(t, torch.ones_like(t)), s)
            u_tgt = v - (t - r) * fwAD.unpack_dual(u_dual).tangent
        bc = F.mse_loss(actor(at, r, t, s), u_tgt)
        a_new = one_step(actor, torch.randn(B, A), s)
        qa, qb = critic(s, a_new)
        actor_loss = bc + eta * (-qa.mean() / qb.abs().mean().detach())
        actor_opt.zero_grad()
        actor_loss.backward()
        nn.utils.clip_grad_norm_(actor.parameters(), gn)
        actor_opt.step()
        with torch.no_grad():
            if i % 5 == 0:
                for pe, p in zip(ema.parameters(), actor.parameters()):
                    pe.mul_(0.995).add_(p, alpha=0.005)
            for pt, p in zip(critic_target.parameters(), critic.parameters()):
                pt.mul_(1 - tau).add_(p, alpha=tau)

    for i in range(cfg["warmup"]):
        train_step(i)
    out = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        for i in range(cfg["steps"]):
            train_step(i)
        out.append((time.perf_counter() - t0) * 1000 / cfg["steps"])
    print(json.dumps({"ms": out, "torch": torch.__version__, "blas": loaded_blas()}))


if __name__ == "__main__":
    main()
