"""Benchmark policies for the Python bridge row of `npm run bench:policy` (scripts/bench-python-policy.ts).

mlp: 3 x 256 ReLU MLP with tanh output in numpy (float32 weights, fixed seed), the same shape as
scripts/bench-mlp-policy.ts; noop: zeros, i.e. the bridge's own cost per call. Chosen by the
OFQL_BENCH_PY_POLICY environment variable.
"""
import os

import numpy as np

HIDDEN = (256, 256, 256)


class Mlp:
    def __init__(self, spec):
        rng = np.random.default_rng(1234)
        dims = (spec["observationSize"],) + HIDDEN + (spec["actionSize"],)
        self.layers = [
            (rng.standard_normal((i, o)).astype(np.float32) * np.float32(np.sqrt(2.0 / i)), np.zeros(o, np.float32))
            for i, o in zip(dims[:-1], dims[1:])
        ]

    def act(self, obs):
        x = obs.astype(np.float32)
        for k, (w, b) in enumerate(self.layers):
            x = x @ w + b
            x = np.tanh(x) if k == len(self.layers) - 1 else np.maximum(x, 0)
        return x


class Noop:
    def __init__(self, spec):
        self.A = spec["actionSize"]

    def act(self, obs):
        return np.zeros((obs.shape[0], self.A))


def make_policy(spec):
    return Noop(spec) if os.environ.get("OFQL_BENCH_PY_POLICY") == "noop" else Mlp(spec)
