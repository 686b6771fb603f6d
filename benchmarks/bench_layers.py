"""Speed and memory of the NS variants of CNN-4 against the plain CNN-4 (issue 3).

Times, in one run, forward + backward of a CNN-4 on one N-way K-shot Q-query episode (default 5/5/15 = 100
images at 84x84, a ProtoNet loss on top) for every NS variant, and inference of a folded static NSN, each
against the plain CNN-4. Variants are timed round-robin, each right after a plain step, and the ratio is the
median of (variant / preceding plain), so that a change of machine load hits both sides alike.

Memory: on CUDA the peak allocated memory of one step; on CPU the bytes of the tensors autograd saves for the
backward pass (the activation memory, which dominates a training step's peak), deduplicated by storage.

Usage:
    python benchmarks/bench_layers.py --repeats 5 [--threads 2] [--device cpu] [--json]

With ``--json`` the last line is one JSON object with (among others) the keys folded_static_inference_ratio,
static_train_ratio, dynamic_dns_train_ratio, dynamic_uns_train_ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.layers import NSConv2d, fold_static
from fewshot_nsl.layers.predictors import NormalizedConv2d, PredictorTrunk, SimilarityPredictor
from fewshot_nsl.runtime.memory_format import wants_channels_last

#: name -> (nsl, param, route, plain_first_layer)
TRAIN_VARIANTS: Dict[str, Tuple[str, str, str, bool]] = {
    "plain": ("none", "disjoint", "auto", False),
    "static-dns": ("static-dns", "disjoint", "auto", False),
    "static-uns": ("static-uns", "disjoint", "auto", False),
    "dynamic-dns": ("dynamic-dns", "disjoint", "unfold", False),
    "dynamic-dns/shared": ("dynamic-dns", "shared", "unfold", False),
    "dynamic-uns": ("dynamic-uns", "disjoint", "unfold", False),
    "dynamic-uns/shared": ("dynamic-uns", "shared", "unfold", False),
    # opt-in (--variants): the shift route on the whole network, and a plain RGB layer
    "dynamic-dns/shift": ("dynamic-dns", "disjoint", "shift", False),
    "dynamic-uns/shift": ("dynamic-uns", "disjoint", "shift", False),
    "dynamic-dns/plain-first": ("dynamic-dns", "disjoint", "unfold", True),
    "dynamic-uns/plain-first": ("dynamic-uns", "disjoint", "unfold", True),
}
DEFAULT_VARIANTS = [v for v in TRAIN_VARIANTS if "shift" not in v and "plain-first" not in v]
#: (C_in, C_out, size) of the four CNN-4 layers at 84x84
CNN4_LAYERS = [(3, 64, 84), (64, 64, 42), (64, 64, 21), (64, 64, 10)]


def build(nsl: str, param: str, route: str, plain_first_layer: bool, device: torch.device,
          layout: torch.memory_format = torch.contiguous_format) -> nn.Module:
    """A CNN-4 with the given NS variant in the memory ``layout``; ``route`` is set on every dynamic layer."""
    net = backbones.build("cnn4", nsl=nsl, param=param, plain_first_layer=plain_first_layer)
    for layer in net.modules():
        if isinstance(layer, NSConv2d) and layer.dynamic and route != "auto":
            layer.route = route
    return net.to(device, memory_format=layout)


def protonet_loss(features: torch.Tensor, way: int, shot: int) -> torch.Tensor:
    """Class-major (way*(shot+query), D) features -> ProtoNet cross-entropy of the queries."""
    n_support = way * shot
    protos = features[:n_support].view(way, shot, -1).mean(1)
    query = features[n_support:]
    labels = torch.arange(way, device=features.device).repeat_interleave(len(query) // way)
    return F.cross_entropy(-torch.cdist(query, protos).pow(2), labels)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], None], device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def saved_bytes(fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct storages autograd saves while ``fn`` builds its graph."""
    seen: Dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    out.backward()
    return sum(seen.values())


def peak_memory(step: Callable[[], torch.Tensor], device: torch.device) -> int:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        step().backward()
        sync(device)
        return torch.cuda.max_memory_allocated(device)
    return saved_bytes(step)


def paired(steps: Dict[str, Callable[[], None]], base: str, args: argparse.Namespace,
           device: torch.device) -> Tuple[Dict[str, List[float]], Dict[str, List[float]]]:
    """Seconds of every step, and its ratio to the ``base`` step timed right before it (round-robin over the
    steps, ``args.warmup`` untimed rounds first), so that slow drifts of the machine load cancel out."""
    times: Dict[str, List[float]] = {name: [] for name in steps}
    ratios: Dict[str, List[float]] = {name: [] for name in steps}
    for rep in range(args.warmup + args.repeats):
        for name, step in steps.items():
            t_base = timed(steps[base], device)
            t = t_base if name == base else timed(step, device)
            if rep >= args.warmup:
                times[name].append(t)
                ratios[name].append(t / t_base)
    return times, ratios


def route_timings(args: argparse.Namespace, device: torch.device) -> Dict[str, Dict[str, float]]:
    """Forward + backward seconds (median) of one NS layer per route and similarity, for each CNN-4 layer
    shape, with a random near-identity per-position M, against the plain conv of that shape."""
    from fewshot_nsl.layers.functional import ns_conv_shift, ns_conv_unfold

    routes = {"unfold": ns_conv_unfold, "shift": ns_conv_shift}
    n = args.route_batch or args.way * (args.shot + args.query)
    out: Dict[str, Dict[str, float]] = {}
    for c_in, c_out, size in CNN4_LAYERS:
        x = torch.randn(n, c_in, size, size, device=device, requires_grad=c_in != 3)
        w = torch.randn(c_out, c_in, 3, 3, device=device, requires_grad=True)
        eye = torch.eye(9, device=device)[:, :, None, None]
        ms = {"dns": (1 + 0.1 * torch.randn(n, 9, size, size, device=device)).requires_grad_(),
              "uns": (eye + 0.1 * torch.randn(n, 9, 9, size, size, device=device)).requires_grad_()}
        steps: Dict[str, Callable[[], None]] = {"conv": lambda: F.conv2d(x, w, padding=1).sum().backward()}
        for sim, m in ms.items():
            for route, fn in routes.items():
                steps[f"{sim}/{route}"] = lambda fn=fn, m=m: fn(x, w, m, 1).sum().backward()
        times: Dict[str, List[float]] = {k: [] for k in steps}
        for rep in range(args.warmup + args.repeats):
            for key, step in steps.items():
                t = timed(step, device)
                if rep >= args.warmup:
                    times[key].append(t)
        out[f"{c_in}->{c_out}@{size}"] = {k: statistics.median(v) for k, v in times.items()}
    return out


def forward_macs(net: nn.Module, images: torch.Tensor) -> Dict[str, int]:
    """Multiply-adds of one forward pass by kind: ``conv`` (the layers' own convolutions, NS similarity
    excluded) and ``predictor`` (the convolutions of the dynamic similarity predictors, adapters included)."""
    macs = {"conv": 0, "predictor": 0}
    in_predictors = {id(m) for p in net.modules() if isinstance(p, (SimilarityPredictor, PredictorTrunk))
                     for m in p.modules()}

    def counter(kind: str):
        def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            macs[kind] += out.numel() * module.weight[0].numel()  # per output element: C_in/groups * kh * kw
        return hook

    hooks = [m.register_forward_hook(counter("predictor" if id(m) in in_predictors else "conv"))
             for m in net.modules() if isinstance(m, (nn.Conv2d, NSConv2d, NormalizedConv2d))]
    with torch.no_grad():
        net(images)
    for h in hooks:
        h.remove()
    return macs


def memory_format(name: str, device: torch.device) -> torch.memory_format:
    """``auto`` = what the trainer uses (``train.channels_last`` auto: channels-last on CPU)."""
    if name == "auto":
        return torch.channels_last if wants_channels_last(None, device) else torch.contiguous_format
    return torch.channels_last if name == "channels_last" else torch.contiguous_format


def run(args: argparse.Namespace) -> Dict[str, object]:
    device = torch.device(args.device)
    torch.manual_seed(0)
    n = args.way * (args.shot + args.query)
    layout = memory_format(args.memory_format, device)
    images = torch.randn(n, 3, args.image_size, args.image_size, device=device).contiguous(memory_format=layout)
    names = [v for v in TRAIN_VARIANTS if v in args.variants or v == "plain"]
    nets = {name: build(*TRAIN_VARIANTS[name], device, layout).train() for name in names}

    def train_step(net: nn.Module) -> Callable[[], torch.Tensor]:
        return lambda: protonet_loss(net(images), args.way, args.shot)

    plain_eval = nets["plain"].eval()
    static_net = build("static-uns", "disjoint", "auto", False, device, layout).eval()
    folded = fold_static(static_net)
    infer = {"plain": plain_eval, "static-uns (unfolded)": static_net, "static-uns (folded)": folded}

    def train_fn(name: str) -> Callable[[], None]:
        net = nets[name]

        def step() -> None:
            net.zero_grad(set_to_none=True)
            train_step(net)().backward()
        return step

    def infer_fn(net: nn.Module) -> Callable[[], None]:
        def step() -> None:
            with torch.no_grad():
                net(images)
        return step

    train_times, train_pairs = paired(
        {name: train_fn(name) for name in names}, "plain", args, device)
    for net in infer.values():
        net.eval()
    infer_times, infer_pairs = paired(
        {name: infer_fn(net) for name, net in infer.items()}, "plain", args, device)
    nets["plain"].train()
    memory = {name: peak_memory(train_step(nets[name]), device) for name in names}
    macs = {name: forward_macs(nets[name], images) for name in names}
    plain_macs = sum(macs["plain"].values())
    train = {name: statistics.median(v) for name, v in train_times.items()}
    inference = {name: statistics.median(v) for name, v in infer_times.items()}
    result: Dict[str, object] = {
        "device": str(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "memory_format": str(layout).replace("torch.", ""),
        "images": n, "image_size": args.image_size, "repeats": args.repeats,
        "train_s": train, "train_ratio": {k: statistics.median(v) for k, v in train_pairs.items()},
        "inference_s": inference,
        "inference_ratio": {k: statistics.median(v) for k, v in infer_pairs.items()},
        "memory_bytes": memory, "memory_ratio": {k: v / memory["plain"] for k, v in memory.items()},
        "memory_kind": "cuda max_memory_allocated" if device.type == "cuda" else "autograd saved tensors",
        "forward_gmacs": {k: {kind: v / 1e9 for kind, v in m.items()} for k, m in macs.items()},
        "mac_ratio": {k: sum(m.values()) / plain_macs for k, m in macs.items()},
    }
    ratios = result["train_ratio"]
    result["folded_static_inference_ratio"] = result["inference_ratio"]["static-uns (folded)"]
    statics = [ratios[k] for k in ("static-dns", "static-uns") if k in ratios]
    result["static_train_ratio"] = max(statics) if statics else None
    result["dynamic_dns_train_ratio"] = ratios.get("dynamic-dns")
    result["dynamic_uns_train_ratio"] = ratios.get("dynamic-uns")
    if not args.no_routes:
        result["route_s"] = route_timings(args, device)
    return result


def print_table(result: Dict[str, object]) -> None:
    print(f"device {result['device']}, {result['threads']} threads, torch {result['torch']}, "
          f"{result['images']} images {result['image_size']}x{result['image_size']}, "
          f"median of {result['repeats']}")
    print(f"{'train (fwd+bwd)':24s} {'seconds':>8s} {'x plain':>8s} {'memory MiB':>11s} {'x plain':>8s}")
    for name, sec in result["train_s"].items():
        print(f"{name:24s} {sec:8.3f} {result['train_ratio'][name]:8.2f} "
              f"{result['memory_bytes'][name] / 2**20:11.1f} {result['memory_ratio'][name]:8.2f}")
    print(f"memory: {result['memory_kind']}")
    print(f"{'forward multiply-adds':24s} {'conv G':>8s} {'pred. G':>8s} {'x plain':>8s}")
    for name, m in result["forward_gmacs"].items():
        print(f"{name:24s} {m['conv']:8.1f} {m['predictor']:8.1f} {result['mac_ratio'][name]:8.2f}")
    print(f"{'inference (no grad)':24s} {'seconds':>8s} {'x plain':>8s}")
    for name, sec in result["inference_s"].items():
        print(f"{name:24s} {sec:8.3f} {result['inference_ratio'][name]:8.2f}")
    for shape, times in result.get("route_s", {}).items():
        cells = "  ".join(f"{k} {v:.3f}s ({v / times['conv']:.1f}x)" for k, v in times.items())
        print(f"layer {shape:12s} {cells}")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--way", type=int, default=5)
    parser.add_argument("--shot", type=int, default=5)
    parser.add_argument("--query", type=int, default=15)
    parser.add_argument("--image-size", type=int, default=84)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--memory-format", default="auto", choices=["auto", "channels_last", "nchw"],
                        help="layout of images and weights (auto: the trainer's, channels-last on CPU)")
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(TRAIN_VARIANTS))
    parser.add_argument("--no-routes", action="store_true", help="skip the per-layer unfold vs shift timing")
    parser.add_argument("--route-batch", type=int, default=None,
                        help="images per layer in the route timing (default: the episode's)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line at the end")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args)
    print_table(result)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
