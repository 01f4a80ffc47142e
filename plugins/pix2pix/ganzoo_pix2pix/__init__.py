"""pix2pix for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="pix2pix",
    task="paired-translation",
    summary="pix2pix: U-Net generator + conditional 70×70 PatchGAN, GAN + λ·L1 loss, trained on aligned A|B pairs",
    paper="https://arxiv.org/abs/1611.07004",
    config="ganzoo_pix2pix.model:Pix2PixConfig",
    impl="ganzoo_pix2pix.model:Pix2Pix",
    components=("G", "D"),
    inference=("G",),
    default_tag="facades-label2photo",  # the authors' model (no pix2pix demo is bundled: none beats identity)
    # 64² with 6 halvings keeps one dropout layer in the tiny U-Net (num_downs - 5 of them)
    tiny_config={"image_size": 64, "load_size": 72, "num_downs": 6, "ngf": 4, "ndf": 4},
    description=(
        "Isola, Zhu, Zhou & Efros (2017). G is a U-Net (unet_256: 8 stride-2 4×4 conv halvings down to 1×1 and "
        "back, skip connections, batch norm, dropout 0.5 in the 3 innermost decoder layers as the only noise); D "
        "is a 70×70 PatchGAN on cat(input, output) with batch norm, giving a 30×30 logit map for 256² inputs. "
        "Loss: vanilla GAN + 100·L1; D's loss halved; Adam 2e-4, β1 0.5; batch 1; 286 → random 256 crop + flip; "
        "100 epochs constant lr + 100 linear decay. Data: aligned A|B images (the original datasets), "
        "direction AtoB/BtoA. Test time: inference_mode=paper (default; per-image batch-norm statistics and live "
        "dropout, as the original test.py) or eval; any image size (resized to 256² and back by default). "
        "`ganzoo convert pix2pix ORIGINAL.pth OUT` reads the authors' checkpoints."
    ),
    license="Apache-2.0",
)
