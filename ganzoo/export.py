"""Exporting a model's inference networks: ONNX (verified with onnxruntime), TorchScript, or ``torch.export``.

``export_model(name, out_dir, format="onnx")`` (``ganzoo export NAME --format onnx -o DIR``) loads the model,
runs ``model.sample`` once on the task's example inputs and records what each inference network receives (a
forward pre-hook), so it works for every plugin without knowing its networks: the recorded call is the example
input of the export. Each network is exported in eval mode (running statistics, no dropout) with a dynamic batch
dimension — and, for translators (paired, unpaired and multi-domain translation), dynamic height and width — then
run again by the exported program (onnxruntime, ``torch.jit.load`` or ``torch.export.load``) at the recorded shape
and at other batch sizes (and sizes, for translators) and compared with PyTorch: the max |diff| is reported and
must be ≤ 1e-4 (fp32), else the export fails.

``DIR`` receives one file per network (``G_AB.onnx`` …), ``export.json`` (inputs, outputs, dynamic axes, the
check, how to build each input), the model card as ``README.md`` with an "Export" section, and — for ONNX —
``example.py``, a runnable script that needs only onnxruntime, numpy and Pillow (see :mod:`ganzoo.export_example`).

How to build the input is found by observation, not by plugin knowledge: for a translator it is the image after
the model's size rule (``SizeRule``: pad or resize); for a latent model the recorded input is compared with the
codes ``impl.latent`` draws for the same seed — ``z`` reshaped, or ``z`` with the one-hot label after or before
it (a conditional DCGAN). The ONNX extra: ``pip install 'ganzoo[export]'`` (onnx, onnxruntime, onnxscript).
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, WeightsError

__all__ = ["FORMATS", "ExportResult", "export_model", "TOLERANCE"]

logger = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript", "torch.export")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt", "torch.export": ".pt2"}
TOLERANCE = 1e-4
_TRANSLATORS = ("paired-translation", "unpaired-translation", "multi-domain-translation")


@dataclass
class ExportResult:
    """What :func:`export_model` wrote."""

    folder: Path
    format: str
    files: dict[str, Path]  #: network → exported file
    max_abs_diff: dict[str, float]  #: network → max |exported − PyTorch| over every checked input
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)


def _need_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise UsageError(f"ONNX export needs onnx and onnxruntime ({err.name} is missing): pip install "
                         f"'ganzoo[export]'") from None


# ---------------------------------------------------------------------------------------------------------
# capture: what each inference network receives from sample()


def _capture(model: Any) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
    """Run ``model.sample`` on the task's example inputs; return each called inference network's positional
    tensors and how the call was made (n, condition, options, seed)."""
    import torch

    from .testing.synthetic import example_batch

    task = model.task
    names = [c for c in model.plugin.inference if c in (model.loaded_components or {c: c})]
    n = 2
    batch = example_batch(model, n, seed=0)
    n_arg, condition, options = task.conformance_inputs(model.config, batch, n)
    calls: list[dict[str, Any]] = [dict(options)]
    if "direction" in model.impl.sample_options() and task.name == "unpaired-translation":
        calls = [dict(options, direction="AtoB"), dict(options, direction="BtoA")]
    captured: dict[str, tuple[Any, ...]] = {}
    handles = []
    for name in names:
        def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str = name) -> None:
            if name not in captured:
                if kwargs or not args or not all(isinstance(a, torch.Tensor) for a in args):
                    captured[name] = ()  # not exportable from positional tensors: reported below
                else:
                    captured[name] = tuple(a.detach().clone() for a in args)
        handles.append(model.components[name].register_forward_pre_hook(hook, with_kwargs=True))
    try:
        with torch.no_grad():
            for opts in calls:
                if "direction" in opts and model.loaded_components is not None and \
                        {"AtoB": "G_AB", "BtoA": "G_BA"}.get(opts["direction"]) not in model.loaded_components:
                    continue
                model.sample(n_arg, condition=condition, seed=0, **opts)
            missing = [c for c in names if c not in captured]
            if missing and task.name == "reconstruction" and "image" in batch:  # the encoder runs in reconstruct
                model.impl.reconstruct(model, batch["image"][:n].to(model.device))
    finally:
        for h in handles:
            h.remove()
    return captured, {"n": n_arg, "condition": condition, "options": options}


def _recipe(model: Any, name: str, args: tuple[Any, ...], call: dict[str, Any]) -> dict[str, Any]:
    """How to build this network's input outside ganzoo (for export.json and example.py)."""
    import torch

    x0 = args[0] if args else None
    if (x0 is not None and len(args) == 1 and model.task.modality == "image" and x0.dim() == 4
            and x0.is_floating_point() and min(x0.shape[2:]) > 1):
        translator = model.task.name in _TRANSLATORS and model.impl.supports("size_rule")
        rule = model.impl.size_rule(model).to_dict() if translator else None
        return {"kind": "image", "size_rule": rule, "channels": int(x0.shape[1]), "range": [-1, 1]}
    if model.impl.supports("latent") and len(args) == 1:
        x = args[0]
        k = x.shape[0]
        z = model.impl.latent(model, k, seed=0).to(x.device).reshape(k, -1)
        flat = x.reshape(k, -1)
        latent = [int(s) for s in model.impl.latent(model, 1, seed=0).shape[1:]]
        base = {"kind": "latent", "latent_shape": latent, "input_shape": [int(s) for s in x.shape[1:]],
                "distribution": "standard normal"}
        if flat.shape == z.shape and torch.equal(flat, z):
            return base
        cond = call.get("condition")
        num = getattr(model.config, "num_classes", None)
        if cond is not None and num and flat.shape[1] == z.shape[1] + num:
            onehot = torch.nn.functional.one_hot(torch.as_tensor(cond).long().to(x.device), num).to(x.dtype)
            for position, parts in (("after", (z, onehot)), ("before", (onehot, z))):
                if torch.equal(flat, torch.cat(parts, 1)):
                    return {**base, "labels": {"num_classes": int(num), "one_hot": position}}
    return {"kind": "tensor", "note": "the network's own input (see inputs in export.json)"}


# ---------------------------------------------------------------------------------------------------------
# export + verification


def _dynamic(model: Any, args: tuple[Any, ...]) -> list[dict[int, str]]:
    """Dynamic axes per input: the batch (shared by every input), and for a translator's image its height and width
    — unless its size rule resizes every image to one size (pix2pix's U-Net): then the network only ever sees that."""
    translator = model.task.name in _TRANSLATORS and not (
        model.impl.supports("size_rule") and model.impl.size_rule(model).policy == "resize")
    out, spatial = [], False
    for a in args:
        axes = {0: "batch"}
        if translator and not spatial and a.dim() == 4 and a.is_floating_point() and min(a.shape[2:]) > 1:
            axes.update({2: "height", 3: "width"})
            spatial = True
        out.append(axes)
    return out


def _outputs(y: Any) -> list[Any]:
    return list(y) if isinstance(y, (tuple, list)) else [y]


def _variants(model: Any, args: tuple[Any, ...], dyn: list[dict[int, str]]) -> list[tuple[Any, ...]]:
    """Inputs to check: the recorded one, another batch size, and (translators) another height and width."""
    import torch

    g = torch.Generator().manual_seed(1)
    out = [args]
    for batch, grow in ((3, 0), (1, 1)):
        new = []
        for a, axes in zip(args, dyn):
            shape = list(a.shape)
            shape[0] = batch
            if grow and 2 in axes:  # another height and width, still multiples of the network's stride
                mult = model.impl.size_rule(model).multiple if model.impl.supports("size_rule") else 4
                shape[2], shape[3] = shape[2] + mult, shape[3] + 2 * mult
            if a.is_floating_point():
                lo, hi = float(a.min()), float(a.max())
                new.append(torch.rand(shape, generator=g, dtype=a.dtype) * (hi - lo) + lo)
            else:
                new.append(a.flatten()[torch.randint(0, a.numel(), (int(torch.tensor(shape).prod()),),
                                                     generator=g)].reshape(shape))
        out.append(tuple(new))
    return out


def _export_one(net: Any, args: tuple[Any, ...], dyn: list[dict[int, str]], path: Path, fmt: str,
                multiple: int, opset: int) -> Any:
    """Write ``net`` to ``path``; return a callable that runs the exported program on tensors."""
    import numpy as np
    import torch

    in_names = [f"input_{i}" if i else "input" for i in range(len(args))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            import onnxruntime as ort

            with torch.no_grad():
                n_out = len(_outputs(net(*args)))
            out_names = ["output"] + [f"output_{i}" for i in range(1, n_out)]
            torch.onnx.export(net, args, str(path), dynamo=False, input_names=in_names, output_names=out_names,
                              dynamic_axes={**{n: d for n, d in zip(in_names, dyn)},
                                            **{n: dict(dyn[0]) for n in out_names}},
                              opset_version=opset)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

            def run(*xs: Any) -> Any:
                feeds = {n: x.detach().cpu().numpy() for n, x in zip(in_names, xs)}
                return [torch.from_numpy(np.asarray(y)) for y in session.run(None, feeds)]
            return run
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(net, args, check_trace=False), str(path))
            loaded = torch.jit.load(str(path))
            return lambda *xs: loaded(*xs)
        from torch.export import Dim

        dims: dict[str, Any] = {}

        def dim(name: str) -> Any:
            if name not in dims:
                dims[name] = Dim(name.replace("_", ""), min=1)
            return dims[name]

        shapes = tuple({k: (multiple * dim(v) if k in (2, 3) else dim(v)) for k, v in d.items()} for d in dyn)
        # torch.export specialises a dimension seen as 1: trace with at least 2 (batch, and height/width strides)
        traced = []
        for a, d in zip(args, dyn):
            size = list(a.shape)
            for k in d:
                unit = multiple if k in (2, 3) else 1
                size[k] = max(size[k], 2 * unit)
            reps = [-(-n // o) for n, o in zip(size, a.shape)]
            traced.append(a.repeat(*reps)[tuple(slice(0, n) for n in size)])
        program = torch.export.export(net, tuple(traced), dynamic_shapes=shapes, strict=False)
        torch.export.save(program, str(path))
        loaded_ep = torch.export.load(str(path)).module()
        return lambda *xs: loaded_ep(*xs)


def export_model(name: str, out_dir: str | Path, *, format: str = "onnx", opset: int = 17,
                 components: list[str] | None = None) -> ExportResult:
    """Export a model's inference networks (see the module docstring).

    Args:
        name: any name :func:`ganzoo.load` takes (registry id, ``hf-hub:``, folder).
        out_dir: the folder to write (created; must be empty if it exists).
        format: ``"onnx"``, ``"torchscript"`` or ``"torch.export"``.
        opset: the ONNX opset.
        components: networks to export (default: the inference networks ``sample`` uses).

    Returns:
        `ExportResult`: the files and the max |diff| of each network against PyTorch.

    Raises:
        UsageError: an unknown format, a non-empty ``out_dir``, a missing ONNX dependency, a network that is not
            called with positional tensors.
        WeightsError: the exported program differs from PyTorch by more than 1e-4.

    Example:
        ```python
        >>> export_model("cyclegan-horse2zebra", "export/h2z").max_abs_diff
        {'G_AB': 1.9e-06}
        ```
    """
    import torch

    import ganzoo

    from .files import atomic_write, make_output_dir

    if format not in FORMATS:
        raise UsageError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == "onnx":
        _need_onnx()
    out = Path(out_dir)
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty; choose a new output folder (nothing was written)")
    model = ganzoo.load(name, components=components, device="cpu")
    model.eval()
    captured, call = _capture(model)
    wanted = components or [c for c in captured]
    if not wanted:
        raise UsageError(f"{name}: sample() called none of its inference networks; nothing to export")
    out = make_output_dir(out, what="export folder")
    files: dict[str, Path] = {}
    diffs: dict[str, float] = {}
    networks: dict[str, Any] = {}
    task = model.task.name
    for comp in wanted:
        args = captured.get(comp)
        if not args:
            raise UsageError(f"{name}: {comp} is not called with positional tensors by sample(); it cannot be "
                             f"exported generically")
        net = model.components[comp].eval()
        dyn = _dynamic(model, args)
        multiple = model.impl.size_rule(model).multiple if model.impl.supports("size_rule") else 1
        path = out / f"{comp}{SUFFIX[format]}"
        try:
            run = _export_one(net, args, dyn, path, format, multiple, opset)
        except Exception as err:  # exporters raise many types; one line with the way to see more
            raise UsageError(f"{name}: exporting {comp} as {format} failed ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:300]}); try another --format") from err
        worst, checked = 0.0, []
        with torch.no_grad():
            for xs in _variants(model, args, dyn):
                expected, got = _outputs(net(*xs)), _outputs(run(*xs))
                shapes = [tuple(t.shape) for t in got], [tuple(t.shape) for t in expected]
                if shapes[0] != shapes[1]:
                    raise WeightsError(f"{name}: the exported {comp} returned shapes {shapes[0]} for inputs "
                                       f"{[tuple(x.shape) for x in xs]}, PyTorch {shapes[1]}")
                for g_, e_ in zip(got, expected):
                    worst = max(worst, float((g_.float() - e_.float()).abs().max()) if e_.numel() else 0.0)
                checked.append([list(x.shape) for x in xs])
        if worst > TOLERANCE:
            path.unlink(missing_ok=True)
            raise WeightsError(f"{name}: the exported {comp} differs from PyTorch by {worst:.3g} (> {TOLERANCE}); "
                               f"not written")
        files[comp], diffs[comp] = path, worst
        from .files import sha256_file

        networks[comp] = {
            "file": path.name, "sha256": sha256_file(path),
            "inputs": [{"name": f"input_{i}" if i else "input", "dtype": str(a.dtype).replace("torch.", ""),
                        "shape": [dyn[i].get(k, s) for k, s in enumerate(a.shape)]}
                       for i, a in enumerate(args)],
            "output": {"name": "output", "dynamic_axes": dyn[0]},
            "recipe": _recipe(model, comp, args, call),
            "checked_inputs": checked, "max_abs_diff": worst, "tolerance": TOLERANCE,
        }
        logger.info("%s: %s → %s (max |diff| vs PyTorch %.3g over %d inputs)", name, comp, path.name, worst,
                    len(checked))
    mode = getattr(model.config, "inference_mode", "eval")
    manifest = {"model": name, "plugin": model.plugin.name, "task": task, "format": format,
                "opset": opset if format == "onnx" else None, "torch_version": torch.__version__,
                "ganzoo_version": ganzoo.__version__, "mode": "eval", "networks": networks,
                "note": ("exported in eval mode (running statistics, no dropout); the model's default sampling mode "
                         f"is '{mode}', which the exported network does not reproduce") if mode != "eval" else None}
    with atomic_write(out / "export.json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    from .export_example import example_script, export_readme

    with atomic_write(out / "README.md", "w") as f:
        f.write(export_readme(model, manifest))
    if format == "onnx":
        with atomic_write(out / "example.py", "w") as f:
            f.write(example_script(manifest))
    return ExportResult(out, format, files, diffs, manifest)
