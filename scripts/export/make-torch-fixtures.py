#!/usr/bin/env python3
"""
Make the PyTorch fixtures of test/fixtures/torch/ (tiny OFQL actor / critic state dicts and the
values torch computes from them). Torch is needed only to (re)make them; the tests read the
committed files without torch.

    /usr/bin/python3 scripts/export/make-torch-fixtures.py        # torch 1.13 (Debian python3-torch)

Networks (the OFQL actor in DQL's module layout, docs/pytorch-checkpoints.md): obs 11, act 3
(hopper), hidden 8, depth 2, time embedding 4.

Files written (all small):
  actor.pth            DQL-style wrapper: model.{time_mlp,r_time_mlp,mid_layer,final_layer}.*  (float32)
  critic.pth           DQL Critic: q1_model.{0,2,4}.*, q2_model.*
  actor-f16.pth, actor-bf16.pth, actor-f64.pth   the same actor stored as float16 / bfloat16 / float64
  actor-legacy.pth     the actor in torch's legacy (non-zip) format
  actor-proto4.pth     the actor pickled with protocol 4 (STACK_GLOBAL, FRAME, MEMOIZE)
  actor-strided.pth    the actor with non-contiguous / offset / shared-storage tensors (same values)
  actor-deflate.pth    actor.pth re-zipped with DEFLATE entries (Python's zipfile, no ZIP64)
  actor-bigendian.pth  actor.pth with byte-swapped storages and a 'byteorder' = 'big' record
  actor-mlp.pth        the MLP's own state dict (no 'model.' prefix)
  actor.safetensors, critic.safetensors   torch layout ([out, in]) safetensors
  agent.pt             a whole agent: actor.model.*, ema_model.model.* (different weights), critic.*, critic_target.*
  dql-actor.pth        a DQL diffusion actor (one time embedding, schedule buffers): not an OFQL actor
  views.pth            assorted views: transpose, step slice, expand (stride 0), offset, 0-d, empty, int64, bool
  with-config/         actor.pth + critic.pth + config.json (timeScale 1000, envId, sampler, critic)
  malicious.pth        a state dict whose pickle calls os.system (GLOBAL 'posix system') -- never load it with torch.load
  malicious-proto4.pth the same idea with builtins.exec through STACK_GLOBAL (protocol 4)
  malicious-legacy.pth the same idea in the legacy format
  expected.json        inputs and torch's outputs (velocities, one-step actions, Q values) and tensor values
"""
import io
import json
import os
import struct
import zipfile
from collections import OrderedDict

import torch
import torch.nn as nn

from torch_nets import SinusoidalPosEmb, TwinCritic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "torch")
S, A, H, T, DEPTH = 11, 3, 8, 4, 2
MARKERS = {
    "malicious.pth": "/tmp/ofql-eval-pwned-malicious",
    "malicious-proto4.pth": "/tmp/ofql-eval-pwned-proto4",
    "malicious-legacy.pth": "/tmp/ofql-eval-pwned-legacy",
}


def time_mlp():
    return nn.Sequential(SinusoidalPosEmb(T), nn.Linear(T, 2 * T), nn.Mish(), nn.Linear(2 * T, T))


class OfqlMLP(nn.Module):
    """DQL's MLP (agents/model.py) plus OFQL's r embedding: u(a_t, r, t; s)."""

    def __init__(self, time_scale=1.0):
        super().__init__()
        self.time_scale = time_scale
        self.time_mlp = time_mlp()
        self.r_time_mlp = time_mlp()
        layers, fan_in = [], A + 2 * T + S
        for _ in range(DEPTH):
            layers += [nn.Linear(fan_in, H), nn.Mish()]
            fan_in = H
        self.mid_layer = nn.Sequential(*layers)
        self.final_layer = nn.Linear(H, A)

    def forward(self, x, r, t, state):
        te = self.time_mlp(t * self.time_scale)
        re = self.r_time_mlp(r * self.time_scale)
        return self.final_layer(self.mid_layer(torch.cat([x, te, re, state], dim=1)))


class Wrapper(nn.Module):
    """A DQL-style actor module whose `.model` is the network (keys 'model.*')."""

    def __init__(self, model):
        super().__init__()
        self.model = model


def Critic():
    """DQL agents/ql_diffusion.py Critic at the fixtures' sizes (scripts/export/torch_nets.py)."""
    return TwinCritic(S, A, H, DEPTH)


class Agent(nn.Module):
    def __init__(self, actor, ema, critic, target):
        super().__init__()
        self.actor = Wrapper(actor)
        self.ema_model = Wrapper(ema)
        self.critic = critic
        self.critic_target = target


class Evil:
    """Pickles as a call of `fn(arg)`: what a malicious .pth does."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def rows(t):
    return [[float(x) for x in r] for r in t.detach().tolist()]


def save_safetensors(sd, path):
    """Minimal safetensors writer (torch layout, F32), so the script needs no extra package."""
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = v.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def rezip(src, dst, transform=None, extra=None, compression=zipfile.ZIP_STORED):
    """Copy a torch zip with Python's zipfile (optionally transforming entries / adding some)."""
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", compression=compression) as zo:
        stem = zi.namelist()[0].split("/")[0]
        for name in zi.namelist():
            data = zi.read(name)
            if transform:
                data = transform(name, data)
            zo.writestr(name, data)
        for name, data in (extra or {}).items():
            zo.writestr(f"{stem}/{name}", data)


def main():
    os.makedirs(os.path.join(OUT, "with-config"), exist_ok=True)
    torch.manual_seed(20250807)
    mlp = OfqlMLP()
    # Not the default init only: make every weight matter (larger biases too).
    with torch.no_grad():
        for p in mlp.parameters():
            p.add_(0.1 * torch.randn_like(p))
    critic = Critic()
    actor_sd = Wrapper(mlp).state_dict()
    critic_sd = critic.state_dict()

    def save(obj, name, **kw):
        torch.save(obj, os.path.join(OUT, name), **kw)

    save(actor_sd, "actor.pth")
    save(critic_sd, "critic.pth")
    save(OrderedDict((k, v.half()) for k, v in actor_sd.items()), "actor-f16.pth")
    save(OrderedDict((k, v.bfloat16()) for k, v in actor_sd.items()), "actor-bf16.pth")
    save(OrderedDict((k, v.double()) for k, v in actor_sd.items()), "actor-f64.pth")
    save(actor_sd, "actor-legacy.pth", _use_new_zipfile_serialization=False)
    save(actor_sd, "actor-proto4.pth", pickle_protocol=4)
    save(mlp.state_dict(), "actor-mlp.pth")
    save_safetensors(actor_sd, os.path.join(OUT, "actor.safetensors"))
    save_safetensors(critic_sd, os.path.join(OUT, "critic.safetensors"))

    # Strided / shared storages with the same values as actor.pth.
    st = OrderedDict(actor_sd)
    w0 = actor_sd["model.mid_layer.0.weight"]
    st["model.mid_layer.0.weight"] = w0.t().contiguous().t()  # strides (1, H): a transpose view
    fw, fb = actor_sd["model.final_layer.weight"], actor_sd["model.final_layer.bias"]
    pool = torch.cat([torch.full((5,), 123.0), fw.reshape(-1), fb, torch.full((2,), -7.0)])
    st["model.final_layer.weight"] = pool[5 : 5 + A * H].view(A, H)  # offset 5 into a shared storage
    st["model.final_layer.bias"] = pool[5 + A * H : 5 + A * H + A]  # same storage, later offset
    tb = actor_sd["model.time_mlp.1.bias"]
    inter = torch.stack([tb, torch.full_like(tb, 555.0)], dim=1).reshape(-1)
    st["model.time_mlp.1.bias"] = inter[0::2]  # stride 2 into a storage with junk between
    save(st, "actor-strided.pth")
    views_ok = all(torch.equal(st[k], actor_sd[k]) for k in actor_sd)
    assert views_ok
    assert not st["model.mid_layer.0.weight"].is_contiguous()

    src = os.path.join(OUT, "actor.pth")
    rezip(src, os.path.join(OUT, "actor-deflate.pth"), compression=zipfile.ZIP_DEFLATED)

    def swap(name, data):
        if "/data/" not in name:
            return data
        n = len(data) // 4
        return struct.pack(f">{n}f", *struct.unpack(f"<{n}f", data))

    rezip(src, os.path.join(OUT, "actor-bigendian.pth"), transform=swap, extra={"byteorder": b"big"})

    # A whole agent with a distinct EMA actor and target critic.
    ema = OfqlMLP()
    target = Critic()
    agent = Agent(mlp, ema, critic, target)
    save(agent.state_dict(), "agent.pt")

    # A DQL diffusion actor: one time embedding, input A + T + S, schedule buffers.
    class DqlMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.time_mlp = time_mlp()
            self.mid_layer = nn.Sequential(nn.Linear(A + T + S, H), nn.Mish(), nn.Linear(H, H), nn.Mish())
            self.final_layer = nn.Linear(H, A)

    class Diffusion(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = DqlMLP()
            self.register_buffer("betas", torch.linspace(1e-4, 2e-2, 5))
            self.register_buffer("alphas_cumprod", torch.cumprod(1 - torch.linspace(1e-4, 2e-2, 5), 0))

    save(Diffusion().state_dict(), "dql-actor.pth")

    # Assorted views, dtypes and shapes.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    views = OrderedDict()
    views["transpose"] = base.t()
    views["step_slice"] = base[:, 1::2]
    views["expand"] = torch.tensor([1.5, -2.5]).reshape(2, 1).expand(2, 3)
    views["offset_row"] = base[2]
    views["scalar"] = torch.tensor(3.25)
    views["empty"] = torch.zeros(0, 3)
    views["long"] = torch.tensor([-(2**40), 7, 2**53 + 1], dtype=torch.int64)
    views["bool"] = torch.tensor([True, False, True])
    views["half_t"] = base.half().t()
    views["nested"] = OrderedDict([("inner", torch.tensor([1.0, 2.0]))])  # flattened as 'nested.inner'
    views["step"] = 1000  # not a tensor: listed as skipped
    save(views, "views.pth")

    # config.json beside an actor: time scale, env, sampler, critic.
    mlp_scaled = OfqlMLP(time_scale=1000.0)
    mlp_scaled.load_state_dict(mlp.state_dict())
    torch.save(actor_sd, os.path.join(OUT, "with-config", "actor.pth"))
    torch.save(critic_sd, os.path.join(OUT, "with-config", "critic.pth"))
    with open(os.path.join(OUT, "with-config", "config.json"), "w") as f:
        json.dump({"envId": "hopper-medium-v2", "ofql": {"timeScale": 1000}, "sampler": {"name": "best-of-n", "n": 4}, "critic": "critic.pth", "note": "ignored"}, f, indent=2)
        f.write("\n")

    # Malicious pickles (never torch.load these): os.system / builtins.exec writing a marker file.
    evil = OrderedDict(actor_sd)
    evil["model.zz_payload"] = Evil(os.system, f"touch {MARKERS['malicious.pth']}")
    save(evil, "malicious.pth")
    evil4 = OrderedDict([("model.payload", Evil(exec, f"open({MARKERS['malicious-proto4.pth']!r}, 'w').write('x')"))])
    save(evil4, "malicious-proto4.pth", pickle_protocol=4)
    evil_l = OrderedDict([("model.payload", Evil(os.system, f"touch {MARKERS['malicious-legacy.pth']}"))])
    save(evil_l, "malicious-legacy.pth", _use_new_zipfile_serialization=False)

    # What torch computes.
    g = torch.Generator().manual_seed(7)
    B = 4
    obs = torch.randn(B, S, generator=g)
    eps = torch.randn(B, A, generator=g)
    pairs = [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5), (0.1, 0.9)]

    def outputs(net):
        with torch.no_grad():
            u = [rows(net(eps, torch.full((B,), r), torch.full((B,), t), obs)) for r, t in pairs]
            one = eps - net(eps, torch.zeros(B), torch.ones(B), obs)
        return {"u": u, "oneStep": rows(one)}

    def upcast(sd):
        m = OfqlMLP()
        m.load_state_dict(OrderedDict((k[len("model."):], v.float()) for k, v in sd.items()))
        return m

    expected = {
        "note": "made by scripts/export/make-torch-fixtures.py with torch " + torch.__version__,
        "dims": {"obsDim": S, "actDim": A, "hiddenDim": H, "depth": DEPTH, "timeEmbDim": T},
        "markers": MARKERS,
        "inputs": {"obs": rows(obs), "eps": rows(eps), "pairs": [list(p) for p in pairs]},
        "actor": {
            "actor.pth": outputs(mlp),
            "actor-f16.pth": outputs(upcast(OrderedDict((k, v.half()) for k, v in actor_sd.items()))),
            "actor-bf16.pth": outputs(upcast(OrderedDict((k, v.bfloat16()) for k, v in actor_sd.items()))),
            "agent.pt:ema": outputs(ema),
            "with-config/actor.pth": outputs(mlp_scaled),
        },
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": flat(v)} for k, v in actor_sd.items()},
        "views": {},
    }
    one = torch.tensor(expected["actor"]["actor.pth"]["oneStep"])
    with torch.no_grad():
        q1, q2 = critic(obs, one.clamp(-1, 1))
        tq1, tq2 = target(obs, one.clamp(-1, 1))
    expected["critic"] = {"actions": rows(one.clamp(-1, 1)), "q1": flat(q1), "q2": flat(q2), "targetQ1": flat(tq1), "targetQ2": flat(tq2)}
    for k, v in views.items():
        if isinstance(v, torch.Tensor):
            vals = [int(x) for x in v.reshape(-1).tolist()] if v.dtype in (torch.int64, torch.bool) else flat(v.float())
            if v.dtype == torch.int64:
                vals = [str(x) for x in vals]  # exact beyond 2^53
            expected["views"][k] = {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": vals}
    expected["views"]["nested.inner"] = {"dtype": "float32", "shape": [2], "values": [1.0, 2.0]}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    for m in MARKERS.values():
        assert not os.path.exists(m), f"{m} exists: something executed a malicious fixture"
    print("wrote", OUT)


if __name__ == "__main__":
    main()
