#!/usr/bin/env python3
"""Turn a PyTorch policy into an ONNX file that `ofql-eval --policy model.onnx` runs.

The contract (README, "ONNX policies"): one float32 input `[n, observationSize]` with a dynamic
batch dimension n, and one float32 output `[n, actionSize]` (actions in [-1, 1]). A stochastic
policy takes a second float32 input `[n, actionSize]` named `noise`, which the harness fills with
standard normals from each episode's seed, so results do not depend on the worker count.
Observation normalisation and the final tanh belong inside the model.

Usage
  # any nn.Module mapping obs [n, S] -> actions [n, A]: call export_policy() from your own code
  #   from to_onnx import export_policy; export_policy(actor, obs_size=11, path="actor.onnx")
  # a stable-baselines3 SAC / TD3 / DDPG checkpoint (needs stable_baselines3 installed):
  python3 scripts/export/to_onnx.py --sb3 model.zip --algo sac -o policy.onnx [--obs-stats vecnormalize.json]
  # the small models under test/fixtures/onnx/ (made with Debian's torch 1.13):
  /usr/bin/python3 scripts/export/to_onnx.py --fixtures test/fixtures/onnx

Only torch is needed (torch.onnx.export writes the file without the `onnx` package).
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

from torch_nets import mlp

OPSET = 17


def export_policy(module, obs_size, path, noise_size=None):
    """Write `module` (obs -> action, or (obs, noise) -> action) as an ONNX file with dynamic batch."""
    module = module.eval()
    inputs = (torch.zeros(2, obs_size),)
    names = ["obs"]
    if noise_size is not None:
        inputs += (torch.zeros(2, noise_size),)
        names.append("noise")
    axes = {name: {0: "n"} for name in names + ["action"]}
    with torch.no_grad():
        torch.onnx.export(module, inputs, path, input_names=names, output_names=["action"],
                          dynamic_axes=axes, opset_version=OPSET)


class Sb3DeterministicActor(nn.Module):
    """stable-baselines3's actor with deterministic=True (SAC: tanh of the mean; TD3/DDPG: mu),
    after an optional VecNormalize observation normalisation folded in as constants."""

    def __init__(self, policy, obs_mean=None, obs_var=None, clip_obs=10.0, epsilon=1e-8):
        super().__init__()
        self.actor = policy.actor
        self.normalise = obs_mean is not None
        if self.normalise:
            self.register_buffer("mean", torch.as_tensor(obs_mean, dtype=torch.float32))
            self.register_buffer("std", torch.sqrt(torch.as_tensor(obs_var, dtype=torch.float32) + epsilon))
            self.clip_obs = clip_obs

    def forward(self, obs):
        if self.normalise:
            obs = torch.clamp((obs - self.mean) / self.std, -self.clip_obs, self.clip_obs)
        return self.actor(obs, deterministic=True) if hasattr(self.actor, "action_dist") else self.actor(obs)


def export_sb3(model_path, algo, out, obs_stats=None):
    from stable_baselines3 import DDPG, SAC, TD3  # only this path needs stable-baselines3
    cls = {"sac": SAC, "td3": TD3, "ddpg": DDPG}[algo]
    model = cls.load(model_path, device="cpu")
    mean = var = None
    clip_obs = 10.0
    if obs_stats is not None:
        # VecNormalize's statistics as JSON: {"mean": [...], "var": [...], "clip_obs": 10.0}
        # (e.g. json.dump({"mean": vn.obs_rms.mean.tolist(), "var": vn.obs_rms.var.tolist(), "clip_obs": vn.clip_obs}, f)).
        with open(obs_stats) as f:
            stats = json.load(f)
        mean, var, clip_obs = stats["mean"], stats["var"], stats.get("clip_obs", clip_obs)
    obs_size = model.observation_space.shape[0]
    export_policy(Sb3DeterministicActor(model.policy, mean, var, clip_obs), obs_size, out)


# ----------------------------------------------------------------------------------------------
# Test fixtures (test/onnx-policy.test.ts): tiny seeded models for hopper (11 -> 3)
# ----------------------------------------------------------------------------------------------
HOPPER_OBS, HOPPER_ACT = 11, 3


class TanhMlp(nn.Module):
    def __init__(self, obs_size=HOPPER_OBS, act_size=HOPPER_ACT, hidden=16):
        super().__init__()
        self.net = mlp([obs_size, hidden, hidden, act_size])

    def forward(self, obs):
        return torch.tanh(self.net(obs))


class NoisyTanhMlp(TanhMlp):
    """A stochastic policy: tanh(mlp(obs) + 0.3 * noise)."""

    def forward(self, obs, noise):
        return torch.tanh(self.net(obs) + 0.3 * noise)


class TwoOutputs(TanhMlp):
    def forward(self, obs):
        a = torch.tanh(self.net(obs))
        return a, a.sum(dim=1, keepdim=True)


class DoubleInput(TanhMlp):
    """float64 observations: refused by the contract (float32 only)."""

    def forward(self, obs):
        return torch.tanh(self.net(obs.float()))


def write_fixtures(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    policy = TanhMlp()
    export_policy(policy, HOPPER_OBS, os.path.join(folder, "hopper-tanh-mlp.onnx"))
    obs = torch.linspace(-1.0, 1.0, 4 * HOPPER_OBS).reshape(4, HOPPER_OBS)
    noise = torch.linspace(-2.0, 2.0, 4 * HOPPER_ACT).reshape(4, HOPPER_ACT)
    noisy = NoisyTanhMlp()
    noisy.load_state_dict(policy.state_dict())
    export_policy(noisy, HOPPER_OBS, os.path.join(folder, "hopper-noisy-mlp.onnx"), noise_size=HOPPER_ACT)
    with torch.no_grad():
        expected = {
            "made_by": "scripts/export/to_onnx.py --fixtures (torch %s)" % torch.__version__,
            "obs": obs.tolist(),
            "noise": noise.tolist(),
            "action": policy(obs).tolist(),
            "noisy_action": noisy(obs, noise).tolist(),
        }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    # Models the contract refuses (each test names what it expects in the message).
    export_policy(TanhMlp(obs_size=HOPPER_OBS + 1), HOPPER_OBS + 1, os.path.join(folder, "wrong-obs-size.onnx"))
    export_policy(TanhMlp(act_size=HOPPER_ACT + 1), HOPPER_OBS, os.path.join(folder, "wrong-action-size.onnx"))
    two = TwoOutputs()
    with torch.no_grad():
        torch.onnx.export(two, (torch.zeros(2, HOPPER_OBS),), os.path.join(folder, "two-outputs.onnx"),
                          input_names=["obs"], output_names=["action", "value"],
                          dynamic_axes={"obs": {0: "n"}, "action": {0: "n"}, "value": {0: "n"}}, opset_version=OPSET)
        torch.onnx.export(DoubleInput(), (torch.zeros(2, HOPPER_OBS, dtype=torch.float64),),
                          os.path.join(folder, "float64-input.onnx"), input_names=["obs"], output_names=["action"],
                          dynamic_axes={"obs": {0: "n"}, "action": {0: "n"}}, opset_version=OPSET)
        # A fixed batch of 1 (no dynamic_axes): accepted, run one row at a time.
        torch.onnx.export(policy, (torch.zeros(1, HOPPER_OBS),), os.path.join(folder, "hopper-batch1.onnx"),
                          input_names=["obs"], output_names=["action"], opset_version=OPSET)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sb3", help="stable-baselines3 model .zip")
    p.add_argument("--algo", choices=["sac", "td3", "ddpg"], default="sac")
    p.add_argument("--obs-stats", help="VecNormalize statistics as JSON {mean, var, clip_obs}, folded into the model")
    p.add_argument("-o", "--out", help="output .onnx")
    p.add_argument("--fixtures", metavar="DIR", help="write the test fixtures into DIR")
    a = p.parse_args(argv)
    if a.fixtures:
        write_fixtures(a.fixtures)
    elif a.sb3 and a.out:
        export_sb3(a.sb3, a.algo, a.out, a.obs_stats)
    else:
        p.error("give --sb3 MODEL.zip -o OUT.onnx, or --fixtures DIR")


if __name__ == "__main__":
    main(sys.argv[1:])
