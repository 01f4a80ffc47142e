"""What ``ganzoo export`` writes beside the exported networks: the README (the model card plus an "Export"
section) and ``example.py``, a script that runs an ONNX export with onnxruntime, numpy and Pillow only.

``example.py`` reads ``export.json`` and builds each input the way it records (``recipe``): a translator's image
goes through the model's size rule (reflection padding to the network's stride and cropping back, or a bicubic
resize to the training side and back), values scaled to [-1, 1]; a latent model's codes are drawn from a standard
normal (with numpy's generator: other samples than ganzoo's for the same seed), with the one-hot label appended
or prepended when the generator takes one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["example_script", "export_readme"]


def export_readme(model: Any, manifest: dict[str, Any]) -> str:
    """The model card with an "Export" section that says what was exported, how it was checked, how to run it."""
    card = str(model.card) if model.card is not None else f"# {manifest['model']}\n"
    fmt = manifest["format"]
    rows = []
    for comp, net in manifest["networks"].items():
        shapes = "; ".join(f"`{i['name']}` {i['dtype']} {i['shape']}" for i in net["inputs"])
        rows.append(f"| {comp} | `{net['file']}` | {shapes} | {net['max_abs_diff']:.2e} "
                    f"({len(net['checked_inputs'])} inputs) |")
    runner = {"onnx": "onnxruntime", "torchscript": "torch.jit.load", "torch.export": "torch.export.load"}[fmt]
    lines = [
        "", "## Export", "",
        f"Exported with `ganzoo export {manifest['model']} --format {fmt}` (ganzoo {manifest['ganzoo_version']}, "
        f"torch {manifest['torch_version']}"
        + (f", ONNX opset {manifest['opset']}" if manifest.get("opset") else "") + "). Each network is in eval mode; "
        "the batch dimension is dynamic" + (", and so are height and width" if any(
            "height" in str(n["inputs"]) for n in manifest["networks"].values()) else "")
        + f". Checked against PyTorch with {runner} (fp32, CPU) at the recorded input and at other shapes:", "",
        "| network | file | inputs | max abs diff |", "|---|---|---|---|", *rows, "",
    ]
    if manifest.get("note"):
        lines += [f"Note: {manifest['note']}.", ""]
    if fmt == "onnx":
        lines += ["Run it with onnxruntime, numpy and Pillow only (`export.json` says how each input is built):", "",
                  "```bash", "pip install onnxruntime numpy pillow",
                  "python example.py INPUT.png -o output.png      # translators",
                  "python example.py -n 16 --seed 0 -o grid.png   # generators (--label 3 for conditional ones)",
                  "```", ""]
    elif fmt == "torchscript":
        first = next(iter(manifest["networks"].values()))["file"]
        lines += ["```python", "import torch", f"net = torch.jit.load(\"{first}\")", "```", ""]
    else:
        lines += ["```python", "import torch",
                  f"net = torch.export.load(\"{next(iter(manifest['networks'].values()))['file']}\").module()",
                  "```", ""]
    return card.rstrip() + "\n" + "\n".join(lines)


def example_script(manifest: dict[str, Any]) -> str:
    """The text of ``example.py`` for an ONNX export (it reads ``export.json`` at run time)."""
    return _EXAMPLE.replace("__MODEL__", manifest["model"])


_EXAMPLE = '''"""Run __MODEL__, exported by `ganzoo export`, with onnxruntime + numpy + Pillow only.

    python example.py INPUT.png -o output.png        # translators: any image size
    python example.py -n 16 --seed 0 -o grid.png     # generators; --label 3 (or 0,1,2) for conditional ones

export.json (beside this file) records each network's inputs and how to build them.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = Path(__file__).resolve().parent


def to_uint8(y):
    return np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)


def to_pil(chw):
    arr = to_uint8(chw)
    return Image.fromarray(arr[0], "L") if arr.shape[0] == 1 else Image.fromarray(arr.transpose(1, 2, 0), "RGB")


def translate(session, recipe, path):
    channels = recipe["channels"]
    image = Image.open(path).convert("L" if channels == 1 else "RGB")
    w, h = image.size
    rule = recipe.get("size_rule") or {"policy": None}
    if rule["policy"] == "resize":
        image = image.resize((rule["size"], rule["size"]), Image.BICUBIC)
    x = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    x = (x[None] if x.ndim == 2 else x.transpose(2, 0, 1))[None]
    top = left = 0
    if rule["policy"] == "pad":
        mult, least = rule["multiple"], rule["min_side"]
        th, tw = max(least, -(-h // mult) * mult), max(least, -(-w // mult) * mult)
        top, left = (th - h) // 2, (tw - w) // 2
        pads = ((0, 0), (0, 0), (top, th - h - top), (left, tw - w - left))
        mode = "reflect" if max(pads[2]) < h and max(pads[3]) < w else "edge"
        x = np.pad(x, pads, mode=mode)
    y = session.run(None, {"input": x.astype(np.float32)})[0][0]
    if rule["policy"] == "pad":
        y = y[:, top:top + h, left:left + w]
    out = to_pil(y)
    return out.resize((w, h), Image.BICUBIC) if rule["policy"] == "resize" else out


def generate(session, recipe, n, seed, labels):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, int(np.prod(recipe["latent_shape"])))).astype(np.float32)
    spec = recipe.get("labels")
    if spec:
        k = spec["num_classes"]
        y = np.array([labels[i % len(labels)] for i in range(n)] if labels else [i % k for i in range(n)])
        onehot = np.eye(k, dtype=np.float32)[y]
        z = np.concatenate([z, onehot] if spec["one_hot"] == "after" else [onehot, z], axis=1)
    x = z.reshape(n, *recipe["input_shape"])
    images = session.run(None, {"input": x})[0]
    c, s = images.shape[1], images.shape[2]
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.ones((c, rows * (s + 2) + 2, cols * (s + 2) + 2), dtype=np.float32)
    for i, im in enumerate(images):
        r, q = divmod(i, cols)
        grid[:, 2 + r * (s + 2):2 + r * (s + 2) + s, 2 + q * (s + 2):2 + q * (s + 2) + s] = im
    return to_pil(grid)


def main():
    manifest = json.loads((HERE / "export.json").read_text())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", help="the image to translate (translators)")
    parser.add_argument("-o", "--output", default="output.png")
    parser.add_argument("-n", type=int, default=16, help="samples (generators)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="class labels, e.g. 3 or 0,1,2 (conditional generators)")
    parser.add_argument("--network", default=next(iter(manifest["networks"])), choices=list(manifest["networks"]))
    args = parser.parse_args()
    net = manifest["networks"][args.network]
    session = ort.InferenceSession(str(HERE / net["file"]), providers=["CPUExecutionProvider"])
    recipe = net["recipe"]
    if recipe["kind"] == "image":
        if not args.input:
            parser.error("give an input image")
        out = translate(session, recipe, args.input)
    elif recipe["kind"] == "latent":
        labels = [int(v) for v in args.label.split(",") if v.strip()]
        out = generate(session, recipe, args.n, args.seed, labels)
    else:
        parser.error(f"{args.network} takes {net['inputs']}: build that input yourself")
    out.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
'''
