"""Hidden-information diagnosis of two-way translators (Chu, Zhmoginov & Sandler 2017, arXiv 1712.02950).

A cycle-consistent translator F∘G can satisfy its reconstruction loss by *hiding* the source in the
intermediate image G(x): a low-amplitude, high-frequency signal that F decodes but that the target domain's
images do not carry ("CycleGAN, a Master of Steganography"). Then F(G(x)) recovers details G(x) does not show,
and a perturbation far below visibility — a little noise, JPEG, a slight blur — destroys the reconstruction.

:func:`diagnose` measures exactly that, for any two-way translator:

* the round trip x → y = G(x) → F(y) unperturbed (float, and quantised to 8 bits as a saved PNG), and after
  each perturbation of y: Gaussian noise of σ = 1, 2, 4 grey levels, JPEG quality 95 and 75, Gaussian blur
  σ = 0.5 and 1 px. Each row reports how far the perturbation moved y (PSNR, in dB: 40+ dB is invisible), how
  well the round trip still recovers x (L1 on [0, 1] pixels, PSNR, and the ratio to the clean L1), and the
  **gain**: how much the perturbation is amplified on its way through F (mean |F(y') − F(y)| / mean |y' − y|).
  A translator that keeps the source in what y shows passes small perturbations through at a gain near 1; one
  that decodes a hidden low-amplitude code amplifies them (a code of amplitude a is read with gain ~ 1/a);
* the reconstruction error a non-hiding model would have: with ``reference`` (the true target-domain images
  of the inputs, e.g. a test split with known pairs) the error of F on the *true* target, F(y_true) — everything
  F can recover from what a target image really shows; without it, the round trip after σ = 4 noise (which erases
  low-amplitude codes) bounds it from below;
* the amplified difference images, as the paper's figures: the high-frequency residue of y (y minus its blur,
  ×``amplify``), where a hidden code lives, and what the invisible noise changed in the reconstruction
  (F(y) − F(y + noise), ×``amplify``).

The verdict has three outcomes: **hides information** (F amplifies the invisible σ = 2 noise ≥ 4×), **carries
the source visibly** (no such amplification, but the round trip recovers x far better — ≥ 2× lower L1 — than F
does from the true target: y still shows the source, an incomplete translation rather than steganography), or
**no sign of hidden information**.

``ganzoo diagnose NAME --input DIR -o OUT`` is the command-line form (a PNG panel and a JSON report).
Two-way means: ``sample()`` takes ``direction`` (CycleGAN-style AtoB/BtoA generators, both loaded) or ``domain``
(a multi-domain translator: out to ``domain``, back to ``source_domain``). A one-way model (pix2pix, DTN) is
refused with a one-line :class:`~ganzoo.errors.UsageError`.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .errors import UsageError

__all__ = ["RoundTrip", "round_trip", "Perturbation", "PERTURBATIONS", "Diagnosis", "diagnose", "write_panel",
           "write_report"]

#: the perturbation the verdict reads (invisible: about 43 dB), and the thresholds it applies
VERDICT_NOISE = "noise σ=2/255"
HIDING_GAIN = 4.0  # F amplifies that noise at least this much: it decodes a low-amplitude signal in y
VISIBLE_RATIO = 2.0  # F(true target) is this many times worse than the round trip: y carries the source


# -- round trips ---------------------------------------------------------------------------------------------------


@dataclass
class RoundTrip:
    """How to translate out and back with a model: ``forward`` x → y, ``backward`` y → x̂ (batches in [-1, 1])."""

    forward: Callable[[torch.Tensor], torch.Tensor]
    backward: Callable[[torch.Tensor], torch.Tensor]
    description: str
    source_channels: int
    options: dict[str, Any] = field(default_factory=dict)


def _model_name(model: Any) -> str:
    return str(model.name or model.plugin.name)


def round_trip(model: Any, *, direction: str | None = None, domain: Any = None,
               source_domain: Any = None) -> RoundTrip:
    """The round trip of a two-way translator.

    Args:
        model: a loaded :class:`~ganzoo.GanModel`.
        direction: for models with ``AtoB``/``BtoA`` generators: the first leg (default ``"AtoB"``).
        domain: for multi-domain models: the domain to translate into (required).
        source_domain: for multi-domain models: the inputs' own domain, translated back into (required).

    Raises:
        UsageError: a one-way model, a missing generator, or missing/invalid domains.

    Example:
        >>> trip = round_trip(ganzoo.load("runs/cyclegan-emoji-default2dark"))      # default → dark → default
        >>> trip = round_trip(stargan, domain="dark", source_domain="default")  # default → dark → default
    """
    name = _model_name(model)
    options = model.impl.sample_options()
    if "direction" in options:
        if domain is not None or source_domain is not None:
            raise UsageError(f"{name} translates between two domains by direction; drop --domain/--source-domain "
                             f"(use --direction AtoB|BtoA)")
        first = direction or "AtoB"
        if first not in ("AtoB", "BtoA"):
            raise UsageError(f"direction must be 'AtoB' or 'BtoA', got {first!r}")
        second = "BtoA" if first == "AtoB" else "AtoB"
        loaded = getattr(model, "loaded_components", None)
        if loaded is not None:
            for d in (first, second):
                needed = model.impl.inference_components(direction=d) or ()
                missing = [c for c in needed if c not in loaded]
                if missing:
                    raise UsageError(f"{name} has no {d} generator ({', '.join(missing)} is not loaded): the "
                                     f"hidden-information diagnosis needs both directions; load the full model")
        channels = int(model.impl.input_channels(model, direction=first))
        src, dst = ("A", "B") if first == "AtoB" else ("B", "A")
        return RoundTrip(lambda x: model.sample(condition=x, direction=first),
                         lambda y: model.sample(condition=y, direction=second),
                         f"{src} → {dst} → {src} ({first}, then {second})", channels, {"direction": first})
    if "domain" in options:
        if direction is not None:
            raise UsageError(f"{name} is a multi-domain translator: give --domain and --source-domain, not "
                             f"--direction")
        if domain is None or source_domain is None:
            raise UsageError(f"{name} translates between {model.config.num_domains} domains: give domain (the one "
                             f"to go through) and source_domain (the inputs' own, to come back to)")
        task = model.task
        names = task.domain_names(model.config)
        dst = int(task.resolve_domains(model.config, domain, 1, name=name)[0])
        src = int(task.resolve_domains(model.config, source_domain, 1, name=name, what="source_domain")[0])
        if dst == src:
            raise UsageError(f"domain and source_domain are both {names[src]!r}: the round trip must go through "
                             f"another domain")
        return RoundTrip(lambda x: model.sample(condition=x, domain=dst),
                         lambda y: model.sample(condition=y, domain=src),
                         f"{names[src]} → {names[dst]} → {names[src]}", int(model.impl.input_channels(model)),
                         {"domain": names[dst], "source_domain": names[src]})
    raise UsageError(f"{name} ({model.task.name}) translates one way only, so nothing can be hidden for a way back: "
                     f"the hidden-information diagnosis needs a two-way translator (CycleGAN-style AtoB/BtoA "
                     f"generators, or a multi-domain model such as StarGAN)")


# -- perturbations ---------------------------------------------------------------------------------------------------


def _quantize(y: torch.Tensor) -> torch.Tensor:
    return torch.round((y.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1


def _noise(sigma_levels: float) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    def fn(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = torch.randn(y.shape, generator=g).to(y.device, y.dtype)
        return (y + n * (2 * sigma_levels / 255)).clamp(-1, 1)
    return fn


def _jpeg(quality: int) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    def fn(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        import numpy as np
        from PIL import Image

        out = []
        for im in y:
            arr = ((im.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
            pil = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
            buf = io.BytesIO()
            pil.save(buf, format="JPEG", quality=quality)
            back = torch.from_numpy(np.asarray(Image.open(buf).convert(pil.mode)).copy())
            back = back[..., None] if back.dim() == 2 else back
            out.append(back.permute(2, 0, 1).float() / 127.5 - 1)
        return torch.stack(out).to(y.device, y.dtype)
    return fn


def gaussian_blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a batch (N, C, H, W), reflection-padded; radius ⌈3σ⌉."""
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=y.dtype, device=y.device)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = y.shape[1]
    pad = min(r, y.shape[-1] - 1, y.shape[-2] - 1)
    if pad < r:  # tiny images: replicate beyond what reflection can give
        x = F.pad(y, (r, r, r, r), mode="replicate")
    else:
        x = F.pad(y, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _blur(sigma: float) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    return lambda y, g: gaussian_blur(y, sigma).clamp(-1, 1)


@dataclass(frozen=True)
class Perturbation:
    """A small change of the intermediate image: ``name`` and ``fn(y, generator) -> y'``."""

    name: str
    fn: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    about: str


#: The perturbations the diagnosis applies to the intermediate image, in report order.
PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation("png (8-bit)", lambda y, g: _quantize(y), "rounded to 8 bits, as a saved PNG"),
    Perturbation("noise σ=1/255", _noise(1), "Gaussian noise, σ = 1 grey level"),
    Perturbation("noise σ=2/255", _noise(2), "Gaussian noise, σ = 2 grey levels"),
    Perturbation("noise σ=4/255", _noise(4), "Gaussian noise, σ = 4 grey levels"),
    Perturbation("jpeg q=95", _jpeg(95), "JPEG at quality 95 (Pillow)"),
    Perturbation("jpeg q=75", _jpeg(75), "JPEG at quality 75 (Pillow)"),
    Perturbation("blur σ=0.5", _blur(0.5), "Gaussian blur, σ = 0.5 px"),
    Perturbation("blur σ=1", _blur(1.0), "Gaussian blur, σ = 1 px"),
)


# -- the diagnosis ---------------------------------------------------------------------------------------------------


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image mean |a − b| on [0, 1] pixels."""
    return ((a.float() - b.float()).abs() / 2).flatten(1).mean(1)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) on [0, 1] pixels; capped at 100 dB for identical images."""
    mse = (((a.float() - b.float()) / 2) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).clamp(max=100.0)


@dataclass
class Diagnosis:
    """What :func:`diagnose` found; :meth:`to_dict` is the JSON report."""

    model: str
    round_trip: str
    n_images: int
    rows: list[dict[str, Any]]
    reference: dict[str, Any] | None
    verdict: str
    hides: bool
    visible: bool
    settings: dict[str, Any]
    images: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    def row(self, name: str) -> dict[str, Any]:
        """The report row of a perturbation (``"clean"``, ``"noise σ=2/255"`` …)."""
        for r in self.rows:
            if r["perturbation"] == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "round_trip": self.round_trip, "n_images": self.n_images,
                "rows": self.rows, "non_hiding_reference": self.reference, "verdict": self.verdict,
                "hides_information": self.hides, "carries_source_visibly": self.visible, "settings": self.settings}


def _mean(t: torch.Tensor) -> float:
    return round(float(t.mean()), 6)


@torch.no_grad()
def diagnose(model: Any, images: torch.Tensor, *, reference: torch.Tensor | None = None, direction: str | None = None,
             domain: Any = None, source_domain: Any = None, amplify: float = 10.0, seed: int = 0,
             batch_size: int = 16) -> Diagnosis:
    """Measure how much of the source a two-way translator's round trip recovers, with and without small
    perturbations of the intermediate image, beside what a non-hiding model would recover.

    Args:
        model: a loaded two-way translator (see :func:`round_trip`).
        images: source-domain images (N, C, H, W) in [-1, 1], of one size.
        reference: *optional* the true target-domain images of ``images`` (same order and size): the
            non-hiding reference F(y_true).
        direction / domain / source_domain: the round trip (see :func:`round_trip`).
        amplify: the gain of the difference images.
        seed: seeds the noise perturbations.
        batch_size: images per forward pass.

    Returns:
        `Diagnosis`: per-perturbation rows, the reference, a verdict, and the panel's images.

    Raises:
        UsageError: a one-way model, bad domains, malformed ``images`` or ``reference``.

    Example:
        >>> d = diagnose(ganzoo.load("runs/cyclegan-emoji-default2dark"), x, reference=y_true)
        >>> d.row("noise σ=2/255")["l1_ratio"], d.verdict
    """
    trip = round_trip(model, direction=direction, domain=domain, source_domain=source_domain)
    name = _model_name(model)
    from .translate import check_image_batch

    x = check_image_batch(images, trip.source_channels, name=name).float()
    if x.shape[0] == 0:
        raise UsageError("diagnose needs at least one image")
    if reference is not None and (not isinstance(reference, torch.Tensor) or reference.dim() != 4
                                  or reference.shape[0] != x.shape[0] or reference.shape[-2:] != x.shape[-2:]):
        raise UsageError(f"reference must hold the {x.shape[0]} target images of the inputs at their size "
                         f"{tuple(x.shape[-2:])}, got {getattr(reference, 'shape', type(reference).__name__)}")

    def run(fn: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor) -> torch.Tensor:
        return torch.cat([fn(t[i:i + batch_size]).float().cpu() for i in range(0, t.shape[0], batch_size)])

    y = run(trip.forward, x)
    rec = run(trip.backward, y)
    g = torch.Generator().manual_seed(seed)
    base = _l1(rec, x)
    floor = 1e-4  # an exact round trip (an invertible map) has L1 0: ratios are taken against at least this
    rows = [{"perturbation": "clean", "about": "the intermediate image as the generator returns it (float)",
             "intermediate_psnr_db": None, "l1": _mean(base), "psnr_db": _mean(_psnr(rec, x)), "l1_ratio": 1.0,
             "gain": None}]
    recs = {}
    for p in PERTURBATIONS:
        y_p = p.fn(y, g)
        rec_p = run(trip.backward, y_p)
        recs[p.name] = rec_p
        l1 = _l1(rec_p, x)
        moved = float(_l1(y_p, y).mean())
        rows.append({"perturbation": p.name, "about": p.about, "intermediate_psnr_db": _mean(_psnr(y_p, y)),
                     "l1": _mean(l1), "psnr_db": _mean(_psnr(rec_p, x)),
                     "l1_ratio": round(float(l1.mean()) / max(float(base.mean()), floor), 4),
                     "gain": round(float(_l1(rec_p, rec).mean()) / moved, 4) if moved > 0 else None})
    ref = None
    rec_ref = None
    if reference is not None:
        y_true = reference.float()
        if y_true.shape[1] != y.shape[1]:
            raise UsageError(f"reference has {y_true.shape[1]} channels; the intermediate images have {y.shape[1]}")
        rec_ref = run(trip.backward, y_true)
        l1_ref = _l1(rec_ref, x)
        ref = {"kind": "F(true target image)", "l1": _mean(l1_ref), "psnr_db": _mean(_psnr(rec_ref, x)),
               "l1_ratio": round(float(l1_ref.mean()) / max(float(base.mean()), floor), 4),
               "intermediate_vs_true_l1": _mean(_l1(y, y_true))}
    strong = recs["noise σ=4/255"]
    lower = {"kind": "round trip after noise σ=4/255 (erases low-amplitude codes; a lower bound)",
             "l1": _mean(_l1(strong, x)), "psnr_db": _mean(_psnr(strong, x)),
             "l1_ratio": round(float(_l1(strong, x).mean()) / max(float(base.mean()), floor), 4)}
    if ref is None:
        ref = lower
    else:
        ref["noise_bound"] = lower
    probe = next(r for r in rows if r["perturbation"] == VERDICT_NOISE)
    gain = probe["gain"] or 0.0
    hides = gain >= HIDING_GAIN
    visible = not hides and reference is not None and ref["l1_ratio"] >= VISIBLE_RATIO
    what = ("hides information" if hides else "carries the source visibly" if visible
            else "no sign of hidden information")
    verdict = (f"{what}: F amplifies invisible noise (σ = 2 grey levels, intermediate PSNR "
               f"{probe['intermediate_psnr_db']:.1f} dB) {gain:.2f}× and the round trip's L1 grows "
               f"{probe['l1_ratio']:.2f}×; a non-hiding model's error ({ref['kind']}) is {ref['l1_ratio']:.2f}× the "
               f"clean round trip's")
    noise = PERTURBATIONS[2].fn(y, torch.Generator().manual_seed(seed))
    rec_noise = run(trip.backward, noise)
    imgs = {"input": x, "intermediate": y,
            "residue": ((y - gaussian_blur(y, 1.0)) * amplify).clamp(-1, 1),
            "round_trip": rec, "round_trip_noise": rec_noise,
            "noise_effect": ((rec - rec_noise) * amplify).clamp(-1, 1)}
    if rec_ref is not None:
        imgs["from_true_target"] = rec_ref
    settings = {"amplify": amplify, "seed": seed,
                "verdict_rule": f"hides: F amplifies {VERDICT_NOISE} ≥ {HIDING_GAIN:g}×; carries the source visibly: "
                                f"otherwise, and F(true target) has ≥ {VISIBLE_RATIO:g}× the clean L1",
                **trip.options}
    return Diagnosis(name, trip.description, int(x.shape[0]), rows, ref, verdict, bool(hides), bool(visible),
                     settings, imgs)


# -- outputs ---------------------------------------------------------------------------------------------------------

_COLUMNS = (("input", "x"), ("intermediate", "y=G(x)"), ("residue", "y-blur(y) xK"), ("round_trip", "F(y)"),
            ("round_trip_noise", "F(y+noise)"), ("noise_effect", "diff xK"), ("from_true_target", "F(true y)"))


def write_panel(diag: Diagnosis, path: str | Path, *, rows: int = 8) -> Path:
    """The diagnosis as a PNG panel: one row per image (up to ``rows``), a titled column per view.

    Columns: the input, the intermediate image, its amplified high-frequency residue, the round trip, the round
    trip after σ = 2 noise, their amplified difference, and (with a reference) F of the true target image.
    Written atomically (an interrupted write leaves an existing file as it was).
    """
    from PIL import Image, ImageDraw

    from .data.images import tensor_to_pil

    path = Path(path)
    cols = [(k, t.replace("K", f"{diag.settings['amplify']:g}")) for k, t in _COLUMNS if k in diag.images]
    n = min(rows, diag.n_images)
    h, w = diag.images["input"].shape[-2:]
    scale = max(1, 96 // max(h, w))
    cw, ch = w * scale, h * scale
    pad, head = 4, 14
    panel = Image.new("RGB", (len(cols) * (cw + pad) + pad, head + n * (ch + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    for j, (key, title) in enumerate(cols):
        while len(title) > 3 and draw.textlength(title) > cw:
            title = title[:-1]
        draw.text((pad + j * (cw + pad), 2), title, fill=(0, 0, 0))
        for i in range(n):
            im = tensor_to_pil(diag.images[key][i]).convert("RGB").resize((cw, ch), Image.NEAREST)
            panel.paste(im, (pad + j * (cw + pad), head + i * (ch + pad)))
    tmp = path.with_name(path.name + ".tmp")
    panel.save(tmp, format="PNG")
    tmp.replace(path)
    return path


def write_report(diag: Diagnosis, path: str | Path, **extra: Any) -> Path:
    """The diagnosis as JSON (``extra`` keys are added, e.g. the command), written atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**diag.to_dict(), **extra}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
