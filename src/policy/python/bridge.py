"""ofql-eval's bridge to a Python policy (src/policy/python-policy.ts starts one per worker).

    python3 bridge.py [--no-numpy]          serve one policy over stdin/stdout
    python3 bridge.py --check FILE          print {"python", "numpy", "error"} as JSON and exit

Frames, both ways: a 4-byte little-endian header length, the UTF-8 JSON header, then
`header["bytes"]` bytes of little-endian float64 data. Nothing is ever unpickled.

Requests: {"op": "init", "file", "spec", "deadline"} -> {"ok", "python", "numpy", "context", "description"};
{"op": "act", "n", "context", "deadline"} + obs (n x observationSize), [episodeSeeds (n), steps (n)]
-> {"ok", "shape"} + actions; {"op": "close"}. A failure answers {"ok": false, "error", "traceback"}.

The user's code never sees the frame descriptors: fd 1 is pointed at stderr (so print() goes to the
log) and fd 0 at /dev/null. The bridge exits when its stdin closes (the worker thread ended) or its
parent changes, and faulthandler ends a call that overruns its deadline even if it holds the GIL.
"""
import ast
import faulthandler
import inspect
import json
import os
import queue
import struct
import sys
import threading
import time
import traceback
from array import array

MIN_PYTHON = (3, 8)
PARENT_POLL_S = 0.5
# Extra seconds past the evaluator's own deadline before the bridge ends itself (a backstop).
DEADLINE_GRACE_S = 5.0
HEADER = struct.Struct("<I")
BIG_ENDIAN = sys.byteorder == "big"


def numpy_or_none(allowed):
    if not allowed:
        return None
    try:
        import numpy
    except Exception:
        return None
    return numpy


def check(path):
    """Cheap checks before any worker starts: the interpreter, the file's syntax, make_policy at top level."""
    np = numpy_or_none(True)
    out = {"python": "%d.%d.%d" % sys.version_info[:3], "numpy": np.__version__ if np else None, "error": None}
    if sys.version_info[:2] < MIN_PYTHON:
        out["error"] = "Python %d.%d or newer is needed, this is %s" % (MIN_PYTHON + (out["python"],))
        return out
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
    except SyntaxError as e:
        out["error"] = "%s, line %s: SyntaxError: %s" % (path, e.lineno, e.msg)
        return out
    except OSError as e:
        out["error"] = "cannot read %s: %s" % (path, e)
        return out
    if not binds_top_level(tree, "make_policy"):
        out["error"] = "%s defines no make_policy(spec) at top level" % path
    return out


def binds_top_level(tree, name):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[-1]) == name:
                    return True
    return False


class Frames:
    """Reads frames on a thread (so a closed stdin is noticed even while user code runs) and writes them."""

    def __init__(self, fd_in, fd_out):
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.inbox = queue.Queue()
        threading.Thread(target=self.read_loop, daemon=True).start()

    def read_exact(self, n):
        chunks = []
        while n > 0:
            b = os.read(self.fd_in, min(n, 1 << 20))
            if not b:
                os._exit(0)  # the worker is gone: so are we
            chunks.append(b)
            n -= len(b)
        return b"".join(chunks)

    def read_loop(self):
        while True:
            (size,) = HEADER.unpack(self.read_exact(HEADER.size))
            header = json.loads(self.read_exact(size).decode("utf-8"))
            payload = self.read_exact(int(header.get("bytes", 0)))
            self.inbox.put((header, payload))

    def next(self):
        return self.inbox.get()

    def send(self, header, payload=b""):
        header = dict(header, bytes=len(payload))
        head = json.dumps(header).encode("utf-8")
        data = HEADER.pack(len(head)) + head + payload
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]


def watch_parent():
    parent = os.getppid()
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(0)


def floats(payload, start, count):
    a = array("d")
    a.frombytes(payload[start * 8:(start + count) * 8])
    if BIG_ENDIAN:
        a.byteswap()
    return a


def accepts_context(act):
    try:
        params = list(inspect.signature(act).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class Bridge:
    def __init__(self, frames, np):
        self.frames = frames
        self.np = np
        self.policy = None
        self.context = False
        self.obs_size = 0
        self.act_size = 0

    def serve(self):
        while True:
            header, payload = self.frames.next()
            op = header.get("op")
            arm(header.get("deadline"))
            try:
                if op == "init":
                    reply, data = self.init(header), b""
                elif op == "act":
                    reply, data = self.act(header, payload)
                elif op == "close":
                    self.close()
                    self.frames.send({"ok": True})
                    return
                else:
                    reply, data = {"ok": False, "error": "unknown request %r" % op, "traceback": ""}, b""
            except BaseException as e:  # the user's error goes back to the evaluator, with its traceback
                reply, data = {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()}, b""
            finally:
                faulthandler.cancel_dump_traceback_later()
            self.frames.send(reply, data)

    def init(self, header):
        spec = header["spec"]
        self.obs_size = int(spec["observationSize"])
        self.act_size = int(spec["actionSize"])
        module = load_module(header["file"])
        make = getattr(module, "make_policy", None)
        if not callable(make):
            raise TypeError("%s defines no make_policy(spec)" % header["file"])
        policy = make(spec)
        if not callable(getattr(policy, "act", None)):
            raise TypeError("make_policy(spec) must return an object with an act(obs) method, got %s" % type(policy).__name__)
        self.policy = policy
        self.context = accepts_context(policy.act)
        description = getattr(policy, "description", None)
        return {
            "ok": True,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "numpy": self.np.__version__ if self.np else None,
            "context": self.context,
            "description": description if isinstance(description, str) else None,
        }

    def act(self, header, payload):
        n = int(header["n"])
        O = self.obs_size
        flat = floats(payload, 0, n * O)
        if self.np is not None:
            obs = self.np.frombuffer(flat, dtype=self.np.float64).reshape(n, O)
        else:
            obs = [flat[i * O:(i + 1) * O].tolist() for i in range(n)]
        if self.context and header.get("context"):
            seeds = [int(s) for s in floats(payload, n * O, n)]
            steps = [int(s) for s in floats(payload, n * O + n, n)]
            if self.np is not None:
                seeds, steps = self.np.array(seeds, dtype=self.np.int64), self.np.array(steps, dtype=self.np.int64)
            result = self.policy.act(obs, {"episodeSeeds": seeds, "steps": steps})
        else:
            result = self.policy.act(obs)
        return self.pack(result, n)

    def pack(self, result, n):
        """The actions as float64 bytes, or an error reply naming the shape that came back."""
        want = (n, self.act_size)
        if self.np is not None:
            try:
                a = self.np.asarray(result, dtype=self.np.float64)
            except (TypeError, ValueError) as e:
                return bad_result("act() must return an array-like of shape %s, got %s (%s)" % (want, type(result).__name__, e)), b""
            if a.shape != want:
                return bad_result("act() returned shape %s; expected %s" % (a.shape, want)), b""
            return {"ok": True, "shape": list(want)}, a.astype("<f8", copy=False).tobytes(order="C")
        if hasattr(result, "tolist"):
            result = result.tolist()
        rows = list(result) if isinstance(result, (list, tuple)) else None
        if rows is None or len(rows) != n or any(not isinstance(r, (list, tuple)) or len(r) != self.act_size for r in rows):
            got = "%d rows" % len(rows) if rows is not None else type(result).__name__
            return bad_result("act() must return %d rows of %d numbers, got %s" % (n, self.act_size, got)), b""
        out = array("d", [float(x) for r in rows for x in r])
        if BIG_ENDIAN:
            out.byteswap()
        return {"ok": True, "shape": list(want)}, out.tobytes()

    def close(self):
        close = getattr(self.policy, "close", None)
        if callable(close):
            close()


def bad_result(message):
    return {"ok": False, "error": message, "traceback": "", "shape": True}


def arm(deadline_s):
    """End this process (with the Python traceback on stderr) if the call overruns its deadline."""
    if deadline_s:
        faulthandler.dump_traceback_later(float(deadline_s) + DEADLINE_GRACE_S, exit=True)


def load_module(path):
    import importlib.util

    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # the policy's own modules import as in a script
    spec = importlib.util.spec_from_file_location("ofql_eval_user_policy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv):
    if len(argv) == 2 and argv[0] == "--check":
        sys.stdout.write(json.dumps(check(argv[1])) + "\n")
        return 0
    sys.dont_write_bytecode = True  # no __pycache__ beside the user's file, no races between workers
    # Keep the real stdin/stdout for frames; the user's code gets /dev/null and stderr instead.
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable(file=sys.stderr)
    threading.Thread(target=watch_parent, daemon=True).start()
    Bridge(Frames(fd_in, fd_out), numpy_or_none("--no-numpy" not in argv)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
