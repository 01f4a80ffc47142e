"""Conditional GAN — Mirza & Osindero, "Conditional Generative Adversarial Nets", 2014 (arXiv 1411.1784), with
the projection discriminator of Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018
(arXiv 1802.05637) as an option.

Mirza & Osindero's facts, and where they live here:

* **objective** (Eq. 2): the GAN game with both players conditioned on y:
  ``min_G max_D E[log D(x|y)] + E[log(1 − D(G(z|y)|y))]``. D's step: real pairs (x, y) → 1, generated pairs
  (G(z, y'), y') → 0; G's step: the non-saturating −log D(G(z|y')|y') (as in the GAN paper's practice).
  Feeding y to D is what makes the condition bind: a D that does not see y cannot tell a "3" drawn for
  label 7 from a real 3, so G would be free to ignore y.
* **generator** (§4.1, MNIST): z — 100-d, uniform on the unit hypercube — and y (one-hot) are mapped to
  hidden ReLU layers of 200 and 1000 units, joined in a second ReLU layer of 1200 units, then a sigmoid
  layer gives the 784 pixels (:class:`Generator`; ``nz``, ``g_z_hidden``, ``g_y_hidden``, ``g_hidden``).
* **discriminator** (§4.1): x → maxout 240 units × 5 pieces, y → maxout 50 units × 5 pieces, both into a joint
  maxout layer of 240 units × 4 pieces, then a sigmoid unit (:class:`ConcatDiscriminator`).
* **training** (§4.1): SGD, minibatch 100, lr 0.1 (decayed ×1/1.00004 per update down to 1e-6), momentum 0.5
  (raised to 0.7), dropout 0.5 in both G and D. The lr decay and momentum ramp are not reproduced (use the
  trainer's ``lr_schedule``).

Miyato & Koyama's facts (``discriminator="projection"``, :class:`ProjectionDiscriminator`):

* D(x, y) = ψ(φ(x)) + yᵀ V φ(x) (Eq. 3): φ a feature network of x alone, ψ a linear head, V an embedding of y
  (for a one-hot y, a row of V; for an attribute vector, a linear map) — the inner product is what the
  log-density-ratio of a conditional model takes when p(y|x) is log-linear in φ(x);
* spectral normalisation (Miyato et al. 2018) on every layer, V included; the hinge loss (D: max(0, 1 − D(x, y))
  + max(0, 1 + D(G(z), y)); G: −D(G(z), y)); the paper trains with Adam (lr 2e-4, β1 = 0, β2 = 0.9).
  ``loss="auto"`` picks hinge for projection and the standard loss for concat.
* φ here is the concat discriminator's x-path with y removed: maxout ``d_x_units`` × ``d_x_pieces`` → maxout
  ``d_units`` × ``d_pieces`` (the paper's networks are ResNets; keeping φ equal to the concat D's makes the two
  options differ only in how y enters). No dropout (the paper uses none).

Measured on the digits (4,500 28×28 training images; 1 CPU thread; labels scored by the shipped digit
classifier on 500 samples, 50 per label; chance = 0.1) — the paper's recipe needs two changes there:

* ``latent="uniform"`` (the paper): G collapsed to one image (or nearly: class entropy 0–0.8 bits of 3.3) for
  every z and label in all eight 1,000–1,500-step runs — SGD and Adam, with and without dropout, paper and
  reduced widths, even with the label zeroed. Φ(ε) varies little (std 0.29) around an offset of 0.5, and at the
  paper's small init G's output barely moves with it. ``latent="normal"``: 1.6–2.4 bits at 1,000 steps.
* ``g_dropout=0.5`` (the paper): G learns to use its dropout masks as the noise source — in train mode two passes
  with the same z differ as much as passes with different z — so samples (dropout off) collapse to one image.
* With ``latent=normal, g_dropout=0`` and the paper's SGD (paper widths), the label takes hold slowly: label
  accuracy 0.09 at 1,000 steps, 0.28 at 3,000 (class entropy 3.14 bits); Adam (2e-4, β1 0.5) was still at chance
  (0.10) at 3,000.

Choices where the papers leave freedom, and why:

* **conditions**: ``condition="label"`` — class indices (N,), one-hot inside the networks (the paper's y);
  ``condition="attributes"`` — float vectors (N, A) fed where the one-hot was (the paper's §4.2 conditions on
  real-valued vectors too). Attribute data are read from ``<data>/attributes.csv`` (see :class:`AttributeDataset`);
  batches carry the condition under ``"label"`` in both modes.
* **labels of generated samples** during training: drawn uniformly (``self.randint``) for class labels; for
  attribute vectors, the real batch's vectors (the data's own joint distribution of attributes).
* **noise**: ``latent()`` returns Gaussian ε ~ N(0, I); G's input is z = Φ(ε) (the normal CDF), exactly uniform on
  the unit hypercube as in the paper. Interpolation and truncation act on ε, where they are meaningful.
* **dropout placement**: after each hidden layer of G and of the concat D, and 0.2 on the image D reads (the GAN
  authors' MNIST discriminator; the paper only says "dropout 0.5 in G and D").
* **init**: weights ~ U(−r, r), r = 0.05 in G and 0.005 in D, and G's sigmoid bias at the logit of the pixel
  means of the first training batch, so G starts from the mean image (``g_bias_from_data``) — the GAN authors'
  MNIST setup (cGAN does not say); for the unconditional gan plugin it is what made the SGD recipe work on digits.
* images in [-1, 1]: the sigmoid output s is returned as 2s − 1 (= tanh(a/2)); D maps its input back to
  (x + 1)/2 and so reads pixel intensities in [0, 1] as the paper's D did (with [-1, 1] inputs the background
  adds −1 × 784 to every pre-activation and SGD at lr 0.1 diverges).
"""

from __future__ import annotations

import csv
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.data.datasets import GanDataset
from ganzoo.errors import DataError, UsageError
from ganzoo.config import ConditionalConfig
from ganzoo.impl import GanImpl
from ganzoo.model import GanModel
from ganzoo.nn import Maxout, gan_loss, pixel_marginal_logits, uniform_init, unwrap

__all__ = ["CGANConfig", "Maxout", "Generator", "ConcatDiscriminator", "ProjectionDiscriminator", "CGAN",
           "AttributeDataset", "check_condition"]

logger = logging.getLogger(__name__)


@dataclass
class CGANConfig(ConditionalConfig):
    """Conditional GAN hyper-parameters; the defaults are Mirza & Osindero's MNIST model (28×28 grey)."""

    # data
    image_size: int = field(default=28, metadata={"help": "image side in pixels (flattened for the MLPs); MNIST: 28"})
    channels: int = field(default=1, metadata={"help": "image channels (1 grey, 3 RGB)"})
    condition: Literal["label", "attributes"] = field(
        default="label", metadata={"help": "label: class indices (N,) from class folders; attributes: float "
                                           "vectors (N, A) from <data>/attributes.csv"})
    num_classes: int = field(default=10, metadata={"help": "number of classes (condition=label)"})
    num_attributes: int = field(default=0, metadata={"help": "length A of attribute vectors (condition=attributes)"})
    # generator
    nz: int = field(default=100, metadata={"help": "noise dimension (paper: 100, uniform on the unit hypercube)"})
    latent: Literal["uniform", "normal"] = field(
        default="uniform", metadata={"help": "G's noise input: uniform on [0,1]^nz (paper) or N(0, I) (on digits the "
                                             "paper's collapsed G to one image; normal did not — see the docstring)"})
    g_z_hidden: int = field(default=200, metadata={"help": "ReLU units z is mapped to (paper: 200)"})
    g_y_hidden: int = field(default=1000, metadata={"help": "ReLU units y is mapped to (paper: 1000)"})
    g_hidden: int = field(default=1200, metadata={"help": "units of G's joint ReLU layer (paper: 1200)"})
    g_dropout: float = field(default=0.5, metadata={"help": "dropout after G's hidden layers (paper: 0.5; G may then "
                                                            "use the dropout masks as its noise — see the docstring)"})
    # discriminator
    discriminator: Literal["concat", "projection"] = field(
        default="concat", metadata={"help": "concat: y through its own maxout layer, joined with x's (Mirza & "
                                            "Osindero); projection: ψ(φ(x)) + yᵀVφ(x) with spectral norm "
                                            "(Miyato & Koyama)"})
    d_x_units: int = field(default=240, metadata={"help": "maxout units on x (paper: 240)"})
    d_x_pieces: int = field(default=5, metadata={"help": "pieces per maxout unit on x (paper: 5)"})
    d_y_units: int = field(default=50, metadata={"help": "maxout units on y (paper: 50; concat only)"})
    d_y_pieces: int = field(default=5, metadata={"help": "pieces per maxout unit on y (paper: 5; concat only)"})
    d_units: int = field(default=240, metadata={"help": "units of D's joint maxout layer (paper: 240)"})
    d_pieces: int = field(default=4, metadata={"help": "pieces per joint maxout unit (paper: 4)"})
    d_input_dropout: float = field(default=0.2, metadata={"help": "dropout on the image D reads (concat only; the "
                                                                  "GAN authors' MNIST D: 0.2)"})
    d_dropout: float = field(default=0.5, metadata={"help": "dropout after D's hidden layers (paper: 0.5; concat only)"})
    loss: Literal["auto", "vanilla", "hinge"] = field(
        default="auto", metadata={"help": "adversarial loss: auto = vanilla for concat (paper), hinge for projection "
                                          "(Miyato & Koyama)"})
    # optimisation (the MNIST run: SGD, lr 0.1, momentum 0.5, batch 100)
    optimizer: Literal["sgd", "adam"] = field(
        default="sgd", metadata={"help": "sgd with momentum (Mirza & Osindero) or adam (Miyato & Koyama: lr 2e-4, "
                                         "beta1 0, beta2 0.9)"})
    lr: float = field(default=0.1, metadata={"help": "learning rate for G and D (paper: 0.1 with SGD)"})
    momentum: float = field(default=0.5, metadata={"help": "SGD momentum (paper: 0.5, raised to 0.7)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1 (optimizer=adam)"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2 (optimizer=adam)"})
    g_init_range: float = field(default=0.05, metadata={"help": "G's weights ~ U(−r, r)"})
    d_init_range: float = field(default=0.005, metadata={"help": "D's weights ~ U(−r, r)"})
    g_bias_from_data: bool = field(
        default=True, metadata={"help": "start G's sigmoid bias at the logit of the pixel means of the first "
                                        "training batch (the GAN authors' initialisation)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_size < 2:
            raise ValueError(f"image_size must be ≥ 2, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.condition == "label" and self.num_classes < 2:
            raise ValueError(f"num_classes must be ≥ 2, got {self.num_classes}")
        if self.condition == "attributes" and self.num_attributes < 1:
            raise ValueError("condition=attributes needs num_attributes ≥ 1 (the length of the attribute vectors)")
        for key in ("nz", "g_z_hidden", "g_y_hidden", "g_hidden", "d_x_units", "d_x_pieces", "d_y_units",
                    "d_y_pieces", "d_units", "d_pieces"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be ≥ 1, got {getattr(self, key)}")
        for key in ("g_dropout", "d_input_dropout", "d_dropout"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ValueError(f"{key} must be in [0, 1), got {getattr(self, key)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    @property
    def pixels(self) -> int:
        return self.channels * self.image_size * self.image_size

    @property
    def label_conditioned(self) -> bool:
        """Class labels (condition=label) rather than attribute vectors."""
        return self.condition == "label"

    @property
    def cond_dim(self) -> int:
        """Width of y inside the networks: num_classes (one-hot) or num_attributes."""
        return self.num_classes if self.condition == "label" else self.num_attributes

    @property
    def adversarial_loss(self) -> str:
        if self.loss != "auto":
            return self.loss
        return "hinge" if self.discriminator == "projection" else "vanilla"


# -- networks ---------------------------------------------------------------------------------------------


class Generator(nn.Module):
    """(z (N, nz), y (N, cond_dim)) → image (N, C, S, S) in [-1, 1]."""

    def __init__(self, cfg: CGANConfig) -> None:
        super().__init__()
        self.shape = (cfg.channels, cfg.image_size, cfg.image_size)
        p = cfg.g_dropout
        self.z_path = nn.Sequential(nn.Linear(cfg.nz, cfg.g_z_hidden), nn.ReLU(inplace=True), nn.Dropout(p))
        self.y_path = nn.Sequential(nn.Linear(cfg.cond_dim, cfg.g_y_hidden), nn.ReLU(inplace=True), nn.Dropout(p))
        self.joint = nn.Sequential(nn.Linear(cfg.g_z_hidden + cfg.g_y_hidden, cfg.g_hidden), nn.ReLU(inplace=True),
                                   nn.Dropout(p), nn.Linear(cfg.g_hidden, cfg.pixels))
        # 1 once the output bias was set from the data's pixel marginals (see CGAN.discriminator_loss)
        self.register_buffer("bias_from_data", torch.zeros(()))

    @torch.no_grad()
    def init_output_bias(self, real: torch.Tensor) -> None:
        """Set the sigmoid layer's bias to the logit of each pixel's mean intensity over ``real`` (N, C, S, S) in
        [-1, 1]: G starts out drawing the data's mean image."""
        self.joint[-1].bias.copy_(pixel_marginal_logits(real))
        self.bias_from_data.fill_(1.0)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([self.z_path(z), self.y_path(y.to(z.dtype))], dim=1)
        return torch.tanh(0.5 * self.joint(h)).view(z.shape[0], *self.shape)  # 2·sigmoid − 1


class ConcatDiscriminator(nn.Module):
    """(x, y) → logit (N,): maxout on x and on y, a joint maxout layer, one unit (Mirza & Osindero)."""

    def __init__(self, cfg: CGANConfig) -> None:
        super().__init__()
        p = cfg.d_dropout
        self.x_path = nn.Sequential(nn.Dropout(cfg.d_input_dropout), Maxout(cfg.pixels, cfg.d_x_units, cfg.d_x_pieces),
                                    nn.Dropout(p))
        self.y_path = nn.Sequential(Maxout(cfg.cond_dim, cfg.d_y_units, cfg.d_y_pieces), nn.Dropout(p))
        self.joint = nn.Sequential(Maxout(cfg.d_x_units + cfg.d_y_units, cfg.d_units, cfg.d_pieces), nn.Dropout(p),
                                   nn.Linear(cfg.d_units, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([self.x_path(_intensities(x)), self.y_path(y.to(x.dtype))], dim=1)
        return self.joint(h).flatten()


class ProjectionDiscriminator(nn.Module):
    """(x, y) → ψ(φ(x)) + yᵀVφ(x) (N,), every layer spectrally normalised (Miyato & Koyama)."""

    def __init__(self, cfg: CGANConfig) -> None:
        super().__init__()
        self.phi = nn.Sequential(Maxout(cfg.pixels, cfg.d_x_units, cfg.d_x_pieces, sn=True),
                                 Maxout(cfg.d_x_units, cfg.d_units, cfg.d_pieces, sn=True))
        self.psi = spectral_norm(nn.Linear(cfg.d_units, 1))
        self.embed = spectral_norm(nn.Linear(cfg.cond_dim, cfg.d_units, bias=False))  # V: one-hot y → a row of V

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.phi(_intensities(x))
        return self.psi(h).flatten() + (self.embed(y.to(h.dtype)) * h).sum(dim=1)


def _intensities(x: torch.Tensor) -> torch.Tensor:
    """Flattened pixel intensities in [0, 1], what the paper's D reads (the zoo's images are in [-1, 1])."""
    return (x.flatten(1) + 1) * 0.5


# -- conditions -------------------------------------------------------------------------------------------


def check_condition(config: CGANConfig, condition: Any, n: int | None, *, name: str = "cgan") -> torch.Tensor:
    """Validate a user's condition and return it as a tensor: class labels (N,) int64, or attribute vectors
    (N, A) float32.

    A single label (an int or a 0-d tensor) is repeated ``n`` times (once when ``n`` is None).

    Raises:
        UsageError: wrong type, dtype or shape, labels out of range, or ``n`` that disagrees with the condition.
    """
    if isinstance(condition, str):
        raise UsageError(f"{name}: the condition must be numbers, got the string {condition!r}")
    try:
        t = condition if isinstance(condition, torch.Tensor) else torch.as_tensor(condition)
    except (TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"{name}: cannot read the condition as a tensor ({err})") from None
    if config.condition == "label":
        k = config.num_classes
        if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
            raise UsageError(f"{name}: class labels must be integers 0..{k - 1}, got a {t.dtype} tensor "
                             f"(this model is conditioned on class labels, not attribute vectors)")
        if t.dim() == 0:
            t = t.reshape(1).repeat(n or 1)
        if t.dim() != 1:
            hint = " (one-hot rows? pass .argmax(1))" if t.dim() == 2 and t.shape[-1] == k else ""
            raise UsageError(f"{name}: class labels must have shape (N,), got {tuple(t.shape)}{hint}")
        if t.numel() == 0:
            raise UsageError(f"{name}: no labels given")
        bad = t[(t < 0) | (t >= k)]
        if bad.numel():
            shown = ", ".join(str(int(v)) for v in bad.unique()[:5])
            raise UsageError(f"{name}: labels {shown} are out of range: this model has classes 0..{k - 1}")
        out = t.long()
    else:
        a = config.num_attributes
        if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32,
                                                                              torch.int64, torch.uint8)):
            raise UsageError(f"{name}: attribute vectors must be numbers, got a {t.dtype} tensor")
        if t.dim() != 2 or t.shape[1] != a:
            raise UsageError(f"{name}: attribute vectors must have shape (N, {a}), got {tuple(t.shape)} "
                             f"(this model is conditioned on {a} attributes, not class labels)")
        if t.shape[0] == 0:
            raise UsageError(f"{name}: no attribute vectors given")
        out = t.float()
        if not torch.isfinite(out).all():
            raise UsageError(f"{name}: attribute vectors must be finite")
    if n is not None and n != out.shape[0]:
        raise UsageError(f"{name}: n={n} but {out.shape[0]} condition(s) were given: give one condition per sample, "
                         f"or leave n out")
    return out


def _y(config: CGANConfig, cond: torch.Tensor) -> torch.Tensor:
    """The networks' y: one-hot labels or the attribute vectors, float (N, cond_dim)."""
    if config.condition == "label":
        return F.one_hot(cond.long(), config.num_classes).float()
    return cond.float()


class AttributeDataset(GanDataset):
    """Images with attribute vectors: ``<root>/attributes.csv`` lists ``file,<attr 1>,…,<attr A>`` per image
    (a header row, then paths relative to ``root`` and numbers, e.g. 0/1); items are ``{"image", "label"}``
    with ``label`` a float vector (A,)."""

    def __init__(self, root: str | os.PathLike[str], *, image_size: int, channels: int, num_attributes: int,
                 split: str | None = None) -> None:
        root = Path(root)
        if split and (root / split / "attributes.csv").is_file():
            root = root / split
        table = root / "attributes.csv"
        if not table.is_file():
            raise DataError(f"{root} has no attributes.csv: an attribute-conditioned cgan reads "
                            f"'file,attr1,…' rows from <data>/attributes.csv")
        self.root, self.image_size, self.channels = root, image_size, channels
        self.skipped = {}
        with open(table, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            raise DataError(f"{table} has no rows after its header")
        self.attributes = [c.strip() for c in rows[0][1:]]
        if len(self.attributes) != num_attributes:
            raise DataError(f"{table} has {len(self.attributes)} attribute columns but the model has "
                            f"num_attributes={num_attributes}; set --set num_attributes={len(self.attributes)}")
        self.files, vectors = [], []
        for i, row in enumerate(rows[1:], start=2):
            if not row or not row[0].strip():
                continue
            try:
                values = [float(v) for v in row[1:]]
            except ValueError:
                raise DataError(f"{table}, line {i}: attribute values must be numbers, got {row[1:]}") from None
            if len(values) != num_attributes or not all(math.isfinite(v) for v in values):
                raise DataError(f"{table}, line {i}: expected {num_attributes} finite numbers, got {row[1:]}")
            path = root / row[0].strip()
            if not path.is_file():
                raise DataError(f"{table}, line {i}: no such image {path}")
            self.files.append(path)
            vectors.append(values)
        self.vectors = torch.tensor(vectors, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        from PIL import Image

        from ganzoo.data.images import open_image, to_tensor

        img = open_image(self.files[index], self.channels)
        if img.size != (self.image_size, self.image_size):
            img = img.resize((self.image_size, self.image_size), Image.BICUBIC)
        return {"image": to_tensor(img), "label": self.vectors[index]}


# -- the implementation -----------------------------------------------------------------------------------


class CGAN(GanImpl):
    """build / losses / sample for the conditional GAN (components ``G`` and ``D``)."""

    #: the MNIST run's minibatch
    train_defaults: dict[str, Any] = {"batch_size": 100}
    #: latent() returns ε ~ N(0, I); G's input is Φ(ε) when config.latent == "uniform"
    latent_distribution = "normal"

    def build(self, config: CGANConfig) -> GanModel:
        g = Generator(config)
        d = ProjectionDiscriminator(config) if config.discriminator == "projection" else ConcatDiscriminator(config)
        uniform_init(g, config.g_init_range)
        uniform_init(d, config.d_init_range)
        return self.new_model(config, {"G": g, "D": d})

    def configure_optimizers(self, model: GanModel) -> dict[str, torch.optim.Optimizer]:
        """SGD with momentum (Mirza & Osindero) or Adam (Miyato & Koyama), one per network."""
        cfg: CGANConfig = model.config

        def make(params: Any) -> torch.optim.Optimizer:
            if cfg.optimizer == "sgd":
                return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
            return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

        return {"G": make(model.G.parameters()), "D": make(model.D.parameters())}

    def make_dataset(self, model: GanModel, path: str | Path, *, split: str = "train") -> Any:
        """Class folders (condition=label, the task's format) or images + ``attributes.csv`` (condition=attributes)."""
        cfg: CGANConfig = model.config
        if cfg.condition == "attributes" and not str(path).startswith("builtin:"):
            return AttributeDataset(path, image_size=cfg.image_size, channels=cfg.channels,
                                    num_attributes=cfg.num_attributes, split=split)
        return super().make_dataset(model, path, split=split)

    def example_batch(self, model: GanModel, n: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """A synthetic batch shaped like the training data (labels or attribute vectors under ``"label"``)."""
        cfg: CGANConfig = model.config
        g = torch.Generator().manual_seed(seed)
        image = torch.tanh(torch.randn((n, cfg.channels, cfg.image_size, cfg.image_size), generator=g))
        if cfg.condition == "label":
            label = torch.randint(0, cfg.num_classes, (n,), generator=g)
        else:
            label = (torch.rand((n, cfg.num_attributes), generator=g) < 0.5).float()
        return {"image": image, "label": label}

    # -- noise ---------------------------------------------------------------------------------------------

    def _g_input(self, model: GanModel, eps: torch.Tensor) -> torch.Tensor:
        """G's noise input from ε ~ N(0, I): Φ(ε) ~ U(0, 1)^nz (the paper) or ε itself."""
        if model.config.latent == "uniform":
            return 0.5 * (1.0 + torch.erf(eps / math.sqrt(2.0)))
        return eps

    def _fake(self, model: GanModel, y: torch.Tensor) -> torch.Tensor:
        eps = self.noise(y.shape[0], (model.config.nz,), device=y.device)
        return model.G(self._g_input(model, eps), y)

    def _fake_condition(self, model: GanModel, real_cond: torch.Tensor) -> torch.Tensor:
        cfg: CGANConfig = model.config
        if cfg.condition == "label":
            return self.randint(cfg.num_classes, real_cond.shape[0], device=real_cond.device)
        return real_cond

    # -- the alternating algorithm ---------------------------------------------------------------------------

    def discriminator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """D step with G fixed: real (x, y) → real, (G(z, y'), y') → fake."""
        cfg: CGANConfig = model.config
        real, cond = batch["image"], batch["label"]
        g = unwrap(model.G)
        if cfg.g_bias_from_data and g.training and not bool(g.bias_from_data):
            g.init_output_bias(real)  # before G's first update: the first batch's pixel marginals
        y_real = _y(cfg, cond)
        y_fake = _y(cfg, self._fake_condition(model, cond))
        with torch.no_grad():
            fake = self._fake(model, y_fake)
        mode = cfg.adversarial_loss
        real_logits, fake_logits = model.D(real, y_real), model.D(fake, y_fake)
        return {
            "d_real": gan_loss(real_logits, True, mode),
            "d_fake": gan_loss(fake_logits, False, mode),
            "D(x|y)": torch.sigmoid(real_logits.detach().float()).mean(),
            "D(G(z|y)|y)": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    def generator_loss(self, model: GanModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """G step with D fixed: make D score (G(z, y'), y') as real."""
        cfg: CGANConfig = model.config
        y_fake = _y(cfg, self._fake_condition(model, batch["label"]))
        logits = model.D(self._fake(model, y_fake), y_fake)
        return {"g_adv": gan_loss(logits, True, cfg.adversarial_loss, for_discriminator=False)}

    # -- sampling -------------------------------------------------------------------------------------------

    def latent(self, model: GanModel, n: int, *, seed: int | None = None) -> torch.Tensor:
        """ε ~ N(0, I), (n, nz), reproducible for a seed; G's input is Φ(ε) for the paper's uniform noise."""
        return self.noise(n, (model.config.nz,), seed=seed, device=model.device)

    def generate(self, model: GanModel, z: torch.Tensor, *, condition: Any = None, batch_size: int = 256) -> torch.Tensor:
        """Images for codes ``z`` (n, nz) (as :meth:`latent` returns them) and a condition per code."""
        cfg: CGANConfig = model.config
        z = torch.as_tensor(z, dtype=torch.float32).to(model.device)
        if z.dim() != 2 or z.shape[1] != cfg.nz:
            raise UsageError(f"z must have shape (n, {cfg.nz}), got {tuple(z.shape)}")
        if condition is None:
            raise UsageError("cgan needs a condition: class labels (n,)" if cfg.condition == "label"
                             else f"cgan needs a condition: attribute vectors (n, {cfg.num_attributes})")
        y = _y(cfg, check_condition(cfg, condition, z.shape[0])).to(model.device)
        g_in = self._g_input(model, z)
        return torch.cat([model.G(zc, yc) for zc, yc in zip(g_in.split(batch_size), y.split(batch_size))])

    def sample(self, model: GanModel, n: int | None = None, *, condition: Any = None, seed: int | None = None,
               batch_size: int = 256) -> torch.Tensor:
        """Images for class labels (N,) or attribute vectors (N, A) given as ``condition`` (one per image);
        without a condition, ``n`` (default 64) images with labels 0, 1, …, K−1, 0, 1, … (class labels only)."""
        cfg: CGANConfig = model.config
        if condition is None:
            if cfg.condition != "label":
                raise UsageError(f"cgan conditioned on attributes needs condition=(n, {cfg.num_attributes}) "
                                 f"attribute vectors")
            n = 64 if n is None else n
            cond = torch.arange(n) % cfg.num_classes
        else:
            cond = check_condition(cfg, condition, n)
        return self.generate(model, self.latent(model, cond.shape[0], seed=seed), condition=cond,
                             batch_size=batch_size)

    def discriminate(self, model: GanModel, images: torch.Tensor, *, condition: Any = None) -> torch.Tensor:
        """D's logits (n,) for images (n, C, S, S) paired with their condition (required: D judges pairs)."""
        cfg: CGANConfig = model.config
        if condition is None:
            raise UsageError("cgan's discriminator judges (image, condition) pairs: give condition= (one per image)")
        y = _y(cfg, check_condition(cfg, condition, images.shape[0])).to(model.device)
        return model.D(images.to(model.device), y)

    def preview(self, model: GanModel, dataset: Any, stem: Path, *, n: int = 64, seed: int = 0) -> Path:
        """A row per class (labels), or a row per attribute vector of 8 dataset items (attributes)."""
        from ganzoo.data.images import save_image_grid

        cfg: CGANConfig = model.config
        if cfg.condition == "label":
            per = max(1, n // cfg.num_classes)
            cond = torch.arange(cfg.num_classes).repeat_interleave(per)
        else:
            import numpy as np

            k = min(8, len(dataset))
            idx = np.linspace(0, len(dataset) - 1, k).round().astype(int).tolist()
            per = max(1, n // k)
            cond = torch.stack([dataset[i]["label"] for i in idx]).repeat_interleave(per, dim=0)
        # one code per column: rows differ only by their condition
        z = self.latent(model, per, seed=seed).repeat(cond.shape[0] // per, 1)
        images = self.generate(model, z, condition=cond)
        return save_image_grid(images, Path(stem).with_suffix(".png"), nrow=per)
