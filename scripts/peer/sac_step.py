"""PyTorch peer of one SAC gradient step, for `npm run bench:sac` (scripts/bench-sac.ts).

The update of src/sac/ (rlkit's SAC as D4RL ran it) written the way a PyTorch user would: ReLU
MLPs of `depth` x `hidden`, tanh-Gaussian actor with the log-std clamp, twin Q nets and targets,
the TD target with the entropy term, reparameterised actor loss, tuned temperature, three Adam
optimizers, soft target update.

Reads one JSON object of sizes on argv[1], prints one JSON line {"ms": [...], "torch": ..., "blas": ...}.
Run it with Debian's /usr/bin/python3 (python3-torch) and OPENBLAS_NUM_THREADS=<threads>.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# The shared modules (scripts/export/torch_nets.py), found from this file so that it runs from anywhere.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from torch_nets import loaded_blas, mlp  # noqa: E402


def relu_mlp(sizes):
    return mlp(sizes, nn.ReLU)


class Twin(nn.Module):
    def __init__(self, s, a, h, depth):
        super().__init__()
        self.q1 = relu_mlp([s + a] + [h] * depth + [1])
        self.q2 = relu_mlp([s + a] + [h] * depth + [1])

    def forward(self, s, a):
        x = torch.cat([s, a], dim=1)
        return self.q1(x), self.q2(x)


def sample(actor, s, a_dim):
    out = actor(s)
    mean, log_std = out[:, :a_dim], out[:, a_dim:].clamp(-20, 2)
    std = log_std.exp()
    eps = torch.randn_like(mean)
    u = mean + std * eps
    a = torch.tanh(u)
    log_pi = (-0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(1, keepdim=True)
    log_pi = log_pi - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(1, keepdim=True)
    return a, log_pi


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    S, A, B, H, D = cfg["obsDim"], cfg["actDim"], cfg["batch"], cfg["hidden"], cfg["depth"]
    gamma, tau = 0.99, 0.005
    actor = relu_mlp([S] + [H] * D + [2 * A])
    critic, target = Twin(S, A, H, D), Twin(S, A, H, D)
    target.load_state_dict(critic.state_dict())
    log_alpha = torch.zeros(1, requires_grad=True)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=3e-4)
    alpha_opt = torch.optim.Adam([log_alpha], lr=3e-4)
    s, s2 = torch.randn(B, S), torch.randn(B, S)
    a = torch.tanh(torch.randn(B, A))
    rew, nd = torch.randn(B, 1), torch.ones(B, 1)

    def train_step():
        alpha = log_alpha.exp().detach()
        with torch.no_grad():
            a2, log_pi2 = sample(actor, s2, A)
            q1t, q2t = target(s2, a2)
            y = rew + nd * gamma * (torch.min(q1t, q2t) - alpha * log_pi2)
        q1, q2 = critic(s, a)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()

        a_new, log_pi = sample(actor, s, A)
        q1n, q2n = critic(s, a_new)
        actor_loss = (alpha * log_pi - torch.min(q1n, q2n)).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        alpha_loss = -(log_alpha * (log_pi.detach() - A)).mean()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()
        with torch.no_grad():
            for pt, p in zip(target.parameters(), critic.parameters()):
                pt.mul_(1 - tau).add_(p, alpha=tau)

    for _ in range(cfg["warmup"]):
        train_step()
    out = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        for _ in range(cfg["steps"]):
            train_step()
        out.append((time.perf_counter() - t0) * 1000 / cfg["steps"])
    print(json.dumps({"ms": out, "torch": torch.__version__, "blas": loaded_blas()}))


if __name__ == "__main__":
    main()
