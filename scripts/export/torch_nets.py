"""The PyTorch building blocks that the export, fixture and peer scripts share (DQL's modules).

Imported by scripts/export/to_onnx.py and scripts/export/make-torch-fixtures.py (same folder) and
by scripts/peer/ofql_step.py and sac_step.py (through a path relative to those files, so they run standalone).
"""
import math
import os

import torch
import torch.nn as nn


class SinusoidalPosEmb(nn.Module):
    """DQL agents/helpers.py SinusoidalPosEmb; takes times of shape (B,) or (B, 1)."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        half = self.dim // 2
        emb = math.log(10000) / (half - 1)
        emb = torch.exp(torch.arange(half, dtype=torch.float32) * -emb)
        emb = (x if x.dim() == 2 else x[:, None]) * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


def mlp(sizes, activation=nn.Mish):
    """Linear layers of the given sizes with `activation` (DQL: Mish) between them (none after the last)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class TwinCritic(nn.Module):
    """DQL agents/ql_diffusion.py Critic: two Mish MLPs Q(s, a) of `depth` hidden layers (keys q1_model.*, q2_model.*)."""

    def __init__(self, s, a, h, depth):
        super().__init__()
        self.q1_model = mlp([s + a] + [h] * depth + [1])
        self.q2_model = mlp([s + a] + [h] * depth + [1])

    def forward(self, s, a):
        x = torch.cat([s, a], dim=1)
        return self.q1_model(x), self.q2_model(x)


def loaded_blas():
    """The BLAS library this process mapped (after a matmul), to tell OpenBLAS from the reference BLAS."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line.lower()}
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "unknown"
