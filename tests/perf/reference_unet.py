#!/usr/bin/python3
"""
The reference U-Net (README, "Training speed") in PyTorch, layer for layer as src/models/unet.ts builds
it (weights named and sized as config.ts's unetLayout lists them), timed on the CPU: one DDPM
training step (epsilon-prediction MSE on random x0, t, labels; Adam) and one forward pass (no grad)
at a fixed batch, with 2 threads and with 1 thread (torch.set_num_threads), median of a few repeats
after a warm-up. Prints one JSON object on stdout (progress on stderr).

Run with Debian's interpreter and PyTorch (apt-get install -y python3-torch; PyTorch 1.13):

    /usr/bin/python3 tests/perf/reference_unet.py [--batch 64] [--reps 3] [--threads 2,1]
    /usr/bin/python3 tests/perf/reference_unet.py --params     # weight names and sizes only

`npm run bench:reference -- --torch` runs it as its peer and compares. Architecture (defaults =
src/cli/bench-reference.ts's REFERENCE_UNET_CONFIG; override with --base/--mult/--res-blocks/...):
  t -> sinusoidal(timeEmbedDim) -> dense -> SiLU -> dense (+ one-hot(label, C+1) x class.embed) = temb
  in.conv 3x3; down: res blocks (+ attention at the deepest level), stride-2 3x3 'same' conv
  (TF 'same': pad 0 before, 1 after on an even side); mid: res, attention, res; up: res+1 blocks on
  concat(h, skip) (+ attention at the deepest level), nearest x2 cropped to the skip's side + 3x3
  conv; out: GroupNorm -> SiLU -> conv3x3.
  Residual block: GN -> SiLU -> conv3x3 + dense(SiLU(temb)); GN -> SiLU -> conv3x3; + x (1x1 conv
  where the channel count changes). Attention: GN -> q, k, v (1x1 = dense) -> softmax(q k^T / sqrt d) v
  -> out -> + x.
Weights are stored in PyTorch's layout (conv [co,ci,kh,kw], dense [out,in]); tfjs stores
[kh,kw,ci,co] and [in,out], so names and element counts match one for one.
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print(json.dumps({"error": f"PyTorch is not importable from {sys.executable}: {e}. "
                      "Install it with: apt-get install -y python3-torch (and run /usr/bin/python3)."}))
    sys.exit(2)


class Layout:
    """Walks the architecture as config.ts's unetLayout does and creates every weight by name."""

    def __init__(self, base, mult, res_blocks, groups, ted, classes, attention, heads, image_size, image_channels):
        self.base, self.res_blocks, self.groups, self.ted = base, res_blocks, groups, ted
        self.classes, self.attention, self.heads = classes, attention, heads
        self.image_size, self.image_channels = image_size, image_channels
        self.chs = [base * m for m in mult]
        self.sizes = [image_size]
        for _ in range(1, len(mult)):
            self.sizes.append(math.ceil(self.sizes[-1] / 2))
        self.tdim = 4 * base
        self.params = {}  # name -> tensor (ordered as unetLayout lists them)
        self._build()

    def _p(self, name, shape, init):
        t = torch.empty(*shape)
        if init == "zeros":
            torch.nn.init.zeros_(t)
        elif init == "ones":
            torch.nn.init.ones_(t)
        else:
            # Glorot-uniform on the tfjs fans: conv fan_in = k*k*ci, fan_out = k*k*co; dense in/out.
            if len(shape) == 4:
                co, ci, kh, kw = shape
                fan_in, fan_out = kh * kw * ci, kh * kw * co
            else:
                fan_out, fan_in = shape  # dense [out, in] (Glorot's limit is symmetric in the fans)
            lim = math.sqrt(6 / (fan_in + fan_out))
            torch.nn.init.uniform_(t, -lim, lim)
        self.params[name] = t.requires_grad_(True)

    def conv(self, name, k, ci, co, init="glorot"):
        self._p(f"{name}.w", (co, ci, k, k), init)
        self._p(f"{name}.b", (co,), "zeros")

    def dense(self, name, din, dout, init="glorot"):
        self._p(f"{name}.w", (dout, din), init)
        self._p(f"{name}.b", (dout,), "zeros")

    def norm(self, name, c):
        self._p(f"{name}.gamma", (c,), "ones")
        self._p(f"{name}.beta", (c,), "zeros")

    def res(self, name, ci, co):
        self.norm(f"{name}.norm1", ci)
        self.conv(f"{name}.conv1", 3, ci, co)
        self.dense(f"{name}.temb", self.tdim, co)
        self.norm(f"{name}.norm2", co)
        self.conv(f"{name}.conv2", 3, co, co, "zeros")
        if ci != co:
            self.conv(f"{name}.skip", 1, ci, co)

    def attn(self, name, c):
        self.norm(f"{name}.norm", c)
        for p in ("q", "k", "v"):
            self.dense(f"{name}.{p}", c, c)
        self.dense(f"{name}.out", c, c, "zeros")

    def _build(self):
        chs, levels = self.chs, len(self.chs)
        self.dense("time.dense0", self.ted, self.tdim)
        self.dense("time.dense1", self.tdim, self.tdim)
        if self.classes > 0:
            self._p("class.embed", (self.classes + 1, self.tdim), "glorot")  # [rows, dim] as in tfjs
        self.conv("in.conv", 3, self.image_channels, chs[0])
        skips, cur = [chs[0]], chs[0]
        for lvl in range(levels):
            for i in range(self.res_blocks):
                self.res(f"down.{lvl}.res.{i}", cur, chs[lvl])
                cur = chs[lvl]
                if self.attention and lvl == levels - 1:
                    self.attn(f"down.{lvl}.attn.{i}", cur)
                skips.append(cur)
            if lvl < levels - 1:
                self.conv(f"down.{lvl}.downsample.conv", 3, cur, cur)
                skips.append(cur)
        self.res("mid.res.0", cur, cur)
        if self.attention:
            self.attn("mid.attn", cur)
        self.res("mid.res.1", cur, cur)
        for lvl in range(levels - 1, -1, -1):
            for i in range(self.res_blocks + 1):
                skip = skips.pop()
                self.res(f"up.{lvl}.res.{i}", cur + skip, chs[lvl])
                cur = chs[lvl]
                if self.attention and lvl == levels - 1:
                    self.attn(f"up.{lvl}.attn.{i}", cur)
            if lvl > 0:
                self.conv(f"up.{lvl}.upsample.conv", 3, cur, cur)
        self.norm("out.norm", cur)
        self.conv("out.conv", 3, cur, self.image_channels, "zeros")


class ReferenceUNet:
    """The forward pass of unet.ts over the named weights of a Layout (NCHW)."""

    def __init__(self, layout):
        self.L = layout
        self.w = layout.params
        half = layout.ted // 2
        scale = math.log(10000) / max(1, half - 1)
        self.freqs = torch.exp(-scale * torch.arange(half, dtype=torch.float32))[None, :]

    def parameters(self):
        return list(self.w.values())

    def conv(self, name, x, stride=1):
        w, b = self.w[f"{name}.w"], self.w[f"{name}.b"]
        k = w.shape[-1]
        if stride == 1:
            return F.conv2d(x, w, b, padding=k // 2)
        # TF 'same' with stride 2: total pad max((out-1)*2 + k - in, 0), the odd one after.
        ih, iw = x.shape[-2:]
        ph = max((math.ceil(ih / 2) - 1) * 2 + k - ih, 0)
        pw = max((math.ceil(iw / 2) - 1) * 2 + k - iw, 0)
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return F.conv2d(x, w, b, stride=2)

    def dense(self, name, x):
        return F.linear(x, self.w[f"{name}.w"], self.w[f"{name}.b"])

    def gn(self, name, x):
        return F.group_norm(x, self.L.groups, self.w[f"{name}.gamma"], self.w[f"{name}.beta"], eps=1e-5)

    def res(self, name, x, temb_act):
        h = self.conv(f"{name}.conv1", F.silu(self.gn(f"{name}.norm1", x)))
        h = h + self.dense(f"{name}.temb", temb_act)[:, :, None, None]
        h = self.conv(f"{name}.conv2", F.silu(self.gn(f"{name}.norm2", h)))
        skip = x if x.shape[1] == h.shape[1] else self.conv(f"{name}.skip", x)
        return skip + h

    def attn(self, name, x):
        b, c, hh, ww = x.shape
        heads = self.L.heads
        d = c // heads
        flat = self.gn(f"{name}.norm", x).reshape(b, c, hh * ww).transpose(1, 2)  # [b, hw, c]

        def split(t):
            return t.reshape(b, hh * ww, heads, d).transpose(1, 2).reshape(b * heads, hh * ww, d)

        q = split(self.dense(f"{name}.q", flat) * (1 / math.sqrt(d)))
        k = split(self.dense(f"{name}.k", flat))
        v = split(self.dense(f"{name}.v", flat))
        a = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)
        mixed = torch.bmm(a, v).reshape(b, heads, hh * ww, d).transpose(1, 2).reshape(b, hh * ww, c)
        out = self.dense(f"{name}.out", mixed)
        return x + out.transpose(1, 2).reshape(b, c, hh, ww)

    def __call__(self, x, t, labels):
        L = self.L
        levels = len(L.chs)
        args = t.float()[:, None] * self.freqs
        temb0 = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
        temb = self.dense("time.dense1", F.silu(self.dense("time.dense0", temb0)))
        if L.classes > 0:
            one_hot = F.one_hot(labels.long(), L.classes + 1).float()
            temb = temb + one_hot @ self.w["class.embed"]
        temb_act = F.silu(temb)
        h = self.conv("in.conv", x)
        skips = [h]
        for lvl in range(levels):
            for i in range(L.res_blocks):
                h = self.res(f"down.{lvl}.res.{i}", h, temb_act)
                if L.attention and lvl == levels - 1:
                    h = self.attn(f"down.{lvl}.attn.{i}", h)
                skips.append(h)
            if lvl < levels - 1:
                h = self.conv(f"down.{lvl}.downsample.conv", h, stride=2)
                skips.append(h)
        h = self.res("mid.res.0", h, temb_act)
        if L.attention:
            h = self.attn("mid.attn", h)
        h = self.res("mid.res.1", h, temb_act)
        for lvl in range(levels - 1, -1, -1):
            for i in range(L.res_blocks + 1):
                h = self.res(f"up.{lvl}.res.{i}", torch.cat([h, skips.pop()], dim=1), temb_act)
                if L.attention and lvl == levels - 1:
                    h = self.attn(f"up.{lvl}.attn.{i}", h)
            if lvl > 0:
                side = L.sizes[lvl - 1]
                up = F.interpolate(h, scale_factor=2, mode="nearest")[:, :, :side, :side]
                h = self.conv(f"up.{lvl}.upsample.conv", up)
        h = F.silu(self.gn("out.norm", h))
        return self.conv("out.conv", h)


def median_time(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def blas_library():
    for path in ("/usr/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/aarch64-linux-gnu/libblas.so.3"):
        if os.path.exists(path):
            return os.path.realpath(path)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--train-batch", type=int, default=0, help="batch of the train step (default: --batch)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", default="2,1", help="comma-separated thread counts to time")
    ap.add_argument("--base", type=int, default=32)
    ap.add_argument("--mult", default="1,2,2")
    ap.add_argument("--res-blocks", type=int, default=2)
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--time-embed-dim", type=int, default=32)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--no-attention", action="store_true")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--params", action="store_true", help="print the weight names and sizes only")
    ap.add_argument("--omp-active", action="store_true",
                    help="keep OpenMP's spin-waiting (default here: OMP_WAIT_POLICY=PASSIVE, see below)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()

    thread_counts = [int(s) for s in a.threads.split(",") if s]
    if not a.params and not a.child:
        # Each thread count runs in its own process with OpenMP's and OpenBLAS's pools set to that
        # size before torch starts (torch.set_num_threads alone leaves OpenBLAS at nproc threads), and
        # with OMP_WAIT_POLICY=PASSIVE: on this shared 2-core machine spin-waiting OpenMP threads
        # made the 2-thread run 10-20x slower whenever anything else was running.
        runs, info = [], None
        for n in thread_counts:
            env = {**os.environ, "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n)}
            if not a.omp_active:
                env["OMP_WAIT_POLICY"] = "PASSIVE"
            argv = [sys.executable, os.path.abspath(__file__), "--child", "--threads", str(n)]
            rest = sys.argv[1:]
            for i, arg in enumerate(rest):
                if arg == "--threads" or (i > 0 and rest[i - 1] == "--threads") or arg.startswith("--threads="):
                    continue
                argv.append(arg)
            out = subprocess.run(argv, env=env, stdout=subprocess.PIPE, check=True, text=True).stdout
            child = json.loads(out.strip().splitlines()[-1])
            runs += child.pop("runs")
            info = child
        info["runs"] = runs
        print(json.dumps(info))
        return

    torch.manual_seed(a.seed)
    layout = Layout(a.base, [int(m) for m in a.mult.split(",")], a.res_blocks, a.groups, a.time_embed_dim,
                    a.classes, not a.no_attention, a.heads, 28, 1)
    weights = [[n, p.numel()] for n, p in layout.params.items()]
    param_count = sum(n for _, n in weights)
    info = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "blas": blas_library(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
        "paramCount": param_count,
        "numWeights": len(weights),
    }
    if a.params:
        print(json.dumps({**info, "weights": weights}))
        return

    model = ReferenceUNet(layout)
    params = model.parameters()
    opt = torch.optim.Adam(params, lr=a.lr)
    T = 1000
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float()
    b = a.batch
    tb = a.train_batch or b
    x0 = torch.rand(max(b, tb), 1, 28, 28) * 2 - 1
    labels = torch.randint(0, a.classes + 1 if a.classes > 0 else 1, (max(b, tb),))

    def train_step():
        t = torch.randint(0, T, (tb,))
        eps = torch.randn_like(x0[:tb])
        ab = abar[t][:, None, None, None]
        xt = ab.sqrt() * x0[:tb] + (1 - ab).sqrt() * eps
        loss = F.mse_loss(model(xt, t.float(), labels[:tb]), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def forward():
        with torch.no_grad():
            t = torch.randint(0, T, (b,))
            model(x0[:b], t.float(), labels[:b]).sum().item()

    runs = []
    for n in thread_counts:
        torch.set_num_threads(n)
        load0 = os.getloadavg()[0]
        print(f"pytorch: {n} thread(s), batch {b}: forward...", file=sys.stderr, flush=True)
        fwd, fwd_all = median_time(forward, a.reps, a.warmup)
        print(f"pytorch: {n} thread(s): forward {fwd:.3f} s; train step (batch {tb})...", file=sys.stderr, flush=True)
        step, step_all = median_time(train_step, a.reps, a.warmup)
        print(f"pytorch: {n} thread(s): train step {step:.3f} s", file=sys.stderr, flush=True)
        runs.append({"threads": n, "batch": b, "trainBatch": tb, "forwardS": fwd, "trainStepS": step,
                     "forwardAllS": fwd_all, "trainStepAllS": step_all,
                     "loadAvg1mBefore": load0, "loadAvg1mAfter": os.getloadavg()[0]})
    print(json.dumps({**info, "batch": b, "trainBatch": tb, "reps": a.reps, "warmup": a.warmup, "runs": runs}))


if __name__ == "__main__":
    main()
