"""CycleGAN and pix2pix written the way the authors' code runs them — the baseline of ``vs_original.py``.

An independent re-implementation of junyanz/pytorch-CycleGAN-and-pix2pix's training iteration and test pass
(written from the facts of that code base, not copied): plain ``nn`` modules with the original's layer order and
parameter layout (so ganzoo's weights load into them key for key), the original's initialisation, GAN losses
and image pool, and its ``optimize_parameters()``:

* CycleGAN: ``forward()`` runs four generator passes (``fake_B = G_A(A)``, ``rec_A = G_B(fake_B)``,
  ``fake_A = G_B(B)``, ``rec_B = G_A(fake_A)``); then the discriminators' ``requires_grad`` goes off, the G step
  runs two more passes for the identity loss (``G_A(B)``, ``G_B(A)``), one backward over the sum
  ``G_A + G_B + cycle_A + cycle_B + idt_A + idt_B``, one Adam step over both generators; ``requires_grad`` back
  on, then ``backward_D_A`` and ``backward_D_B`` (each ``(real + pooled fake) × 0.5``, its own backward) and one
  Adam step over both discriminators. Note the original's names: its ``netD_A`` judges domain B.
* pix2pix: one generator pass ``fake_B = G(A)``; D step (``requires_grad`` on, ``(fake + real) × 0.5`` on
  ``cat(A, ·)``, backward, step); ``requires_grad`` off, G step (``GAN(D(cat(A, fake_B)), real) + 100·L1``,
  backward through the updated D into G, step).

Optimisers are ``torch.optim.Adam(lr, betas=(0.5, 0.999))`` with PyTorch's defaults (on a CPU: the per-tensor
loop), as the original creates them. Test time is ``model.test()``: ``forward()`` under ``torch.no_grad()``.

This module only needs torch; ``vs_original.py`` and the parity tests import it.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn

__all__ = ["ResnetGenerator", "UnetGenerator", "NLayerDiscriminator", "init_normal", "GANLoss", "ImagePool",
           "CycleGANLoop", "Pix2PixLoop"]


def _norm(kind: str, c: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(c, affine=True, track_running_stats=True)
    raise ValueError(kind)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, norm: str, bias: bool) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), _norm(norm, dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), _norm(norm, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """``resnet_<n>blocks``: c7s1-ngf, two stride-2 convs, n residual blocks, two transposed convs, c7s1-out, tanh."""

    def __init__(self, c_in: int = 3, c_out: int = 3, ngf: int = 64, n_blocks: int = 9, norm: str = "instance") -> None:
        super().__init__()
        bias = norm == "instance"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(c_in, ngf, 7, bias=bias), _norm(norm, ngf),
                                   nn.ReLU(True)]
        for i in range(2):
            m = 2 ** i
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=bias), _norm(norm, ngf * m * 2),
                       nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, norm, bias) for _ in range(n_blocks)]
        for i in range(2):
            m = 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       _norm(norm, ngf * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c_out, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class _UnetBlock(nn.Module):
    def __init__(self, outer: int, inner: int, c_in: int | None = None, sub: nn.Module | None = None, *,
                 outermost: bool = False, innermost: bool = False, norm: str = "batch", dropout: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        bias = norm == "instance"
        c_in = outer if c_in is None else c_in
        down = nn.Conv2d(c_in, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias), _norm(norm, outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, _norm(norm, inner), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias), _norm(norm, outer)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """``unet_256`` (num_downs 8): nested skip blocks built from the innermost out; in-place LeakyReLU."""

    def __init__(self, c_in: int = 3, c_out: int = 3, num_downs: int = 8, ngf: int = 64, norm: str = "batch",
                 dropout: bool = True) -> None:
        super().__init__()
        block = _UnetBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = _UnetBlock(ngf * 8, ngf * 8, sub=block, norm=norm, dropout=dropout)
        for m in (4, 2, 1):
            block = _UnetBlock(ngf * m, ngf * m * 2, sub=block, norm=norm)
        self.model = _UnetBlock(c_out, ngf, c_in, block, outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """70×70 PatchGAN (``basic``, n_layers 3)."""

    def __init__(self, c_in: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        bias = norm == "instance"
        layers: list[nn.Module] = [nn.Conv2d(c_in, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2 if n < n_layers else 1, padding=1, bias=bias),
                       _norm(norm, ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def init_normal(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The original's ``init_weights(type="normal")``: conv weights N(0, gain), biases 0, BN scale N(1, gain)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.constant_(m.bias, 0.0)
    return net


class GANLoss(nn.Module):
    """The original's ``GANLoss``: a label tensor expanded to the prediction's shape, MSE (lsgan) or BCE on logits."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = nn.MSELoss() if mode == "lsgan" else nn.BCEWithLogitsLoss()

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        label = (self.real_label if target_is_real else self.fake_label).expand_as(prediction)
        return self.loss(prediction, label)


class ImagePool:
    """The original's history buffer (Python ``random``: p = ½ swap once full)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                k = random.randint(0, self.size - 1)
                old = self.images[k].clone()
                self.images[k] = image
                out.append(old)
            else:
                out.append(image)
        return torch.cat(out, 0)


def _set_requires_grad(nets: list[nn.Module], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


class CycleGANLoop:
    """The original ``CycleGANModel`` training iteration and test pass, on the networks given (original names:
    ``netG_A`` = A→B, ``netD_A`` judges B)."""

    def __init__(self, G_A: nn.Module, G_B: nn.Module, D_A: nn.Module, D_B: nn.Module, *, lr: float = 2e-4,
                 lambda_A: float = 10.0, lambda_B: float = 10.0, lambda_identity: float = 0.5, pool_size: int = 50,
                 gan_mode: str = "lsgan") -> None:
        self.netG_A, self.netG_B, self.netD_A, self.netD_B = G_A, G_B, D_A, D_B
        self.lambda_A, self.lambda_B, self.lambda_idt = lambda_A, lambda_B, lambda_identity
        self.fake_A_pool, self.fake_B_pool = ImagePool(pool_size), ImagePool(pool_size)
        self.criterionGAN = GANLoss(gan_mode)
        self.criterionCycle = nn.L1Loss()
        self.criterionIdt = nn.L1Loss()
        self.optimizer_G = torch.optim.Adam(list(G_A.parameters()) + list(G_B.parameters()), lr=lr, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(list(D_A.parameters()) + list(D_B.parameters()), lr=lr, betas=(0.5, 0.999))
        self.losses: dict[str, torch.Tensor] = {}

    def set_input(self, batch: dict[str, Any]) -> None:
        self.real_A, self.real_B = batch["A"], batch["B"]

    def forward(self) -> None:
        self.fake_B = self.netG_A(self.real_A)
        self.rec_A = self.netG_B(self.fake_B)
        self.fake_A = self.netG_B(self.real_B)
        self.rec_B = self.netG_A(self.fake_A)

    def backward_G(self) -> None:
        if self.lambda_idt > 0:
            self.idt_A = self.netG_A(self.real_B)
            loss_idt_A = self.criterionIdt(self.idt_A, self.real_B) * self.lambda_B * self.lambda_idt
            self.idt_B = self.netG_B(self.real_A)
            loss_idt_B = self.criterionIdt(self.idt_B, self.real_A) * self.lambda_A * self.lambda_idt
        else:
            loss_idt_A = loss_idt_B = torch.zeros(())
        loss_G_A = self.criterionGAN(self.netD_A(self.fake_B), True)
        loss_G_B = self.criterionGAN(self.netD_B(self.fake_A), True)
        loss_cycle_A = self.criterionCycle(self.rec_A, self.real_A) * self.lambda_A
        loss_cycle_B = self.criterionCycle(self.rec_B, self.real_B) * self.lambda_B
        loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        loss_G.backward()
        self.losses.update(G_A=loss_G_A, G_B=loss_G_B, cycle_A=loss_cycle_A, cycle_B=loss_cycle_B,
                           idt_A=loss_idt_A, idt_B=loss_idt_B)

    def backward_D_basic(self, netD: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss_real = self.criterionGAN(netD(real), True)
        loss_fake = self.criterionGAN(netD(fake.detach()), False)
        loss = (loss_real + loss_fake) * 0.5
        loss.backward()
        return loss

    def optimize_parameters(self) -> None:
        self.forward()
        _set_requires_grad([self.netD_A, self.netD_B], False)
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
        _set_requires_grad([self.netD_A, self.netD_B], True)
        self.optimizer_D.zero_grad()
        self.losses["D_A"] = self.backward_D_basic(self.netD_A, self.real_B, self.fake_B_pool.query(self.fake_B))
        self.losses["D_B"] = self.backward_D_basic(self.netD_B, self.real_A, self.fake_A_pool.query(self.fake_A))
        self.optimizer_D.step()

    def test(self) -> torch.Tensor:
        """``model.test()`` of the test model: G_A's forward under no_grad."""
        with torch.no_grad():
            return self.netG_A(self.real_A)


class Pix2PixLoop:
    """The original ``Pix2PixModel`` training iteration and test pass."""

    def __init__(self, G: nn.Module, D: nn.Module, *, lr: float = 2e-4, lambda_L1: float = 100.0,
                 gan_mode: str = "vanilla") -> None:
        self.netG, self.netD = G, D
        self.lambda_L1 = lambda_L1
        self.criterionGAN = GANLoss(gan_mode)
        self.criterionL1 = nn.L1Loss()
        self.optimizer_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        self.losses: dict[str, torch.Tensor] = {}

    def set_input(self, batch: dict[str, Any]) -> None:
        self.real_A, self.real_B = batch["A"], batch["B"]

    def forward(self) -> None:
        self.fake_B = self.netG(self.real_A)

    def backward_D(self) -> None:
        pred_fake = self.netD(torch.cat((self.real_A, self.fake_B), 1).detach())
        loss_D_fake = self.criterionGAN(pred_fake, False)
        pred_real = self.netD(torch.cat((self.real_A, self.real_B), 1))
        loss_D_real = self.criterionGAN(pred_real, True)
        loss_D = (loss_D_fake + loss_D_real) * 0.5
        loss_D.backward()
        self.losses.update(D_fake=loss_D_fake, D_real=loss_D_real)

    def backward_G(self) -> None:
        pred_fake = self.netD(torch.cat((self.real_A, self.fake_B), 1))
        loss_G_GAN = self.criterionGAN(pred_fake, True)
        loss_G_L1 = self.criterionL1(self.fake_B, self.real_B) * self.lambda_L1
        (loss_G_GAN + loss_G_L1).backward()
        self.losses.update(G_GAN=loss_G_GAN, G_L1=loss_G_L1)

    def optimize_parameters(self) -> None:
        self.forward()
        _set_requires_grad([self.netD], True)
        self.optimizer_D.zero_grad()
        self.backward_D()
        self.optimizer_D.step()
        _set_requires_grad([self.netD], False)
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()

    def test(self) -> torch.Tensor:
        with torch.no_grad():
            return self.netG(self.real_A)
