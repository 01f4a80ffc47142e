"""CycleGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="cyclegan",
    task="unpaired-translation",
    summary="CycleGAN: two ResNet generators + two PatchGAN discriminators, LSGAN + cycle-consistency + identity "
            "losses, trained on unaligned trainA/ trainB/",
    paper="https://arxiv.org/abs/1703.10593",
    config="ganzoo_cyclegan.model:CycleGANConfig",
    impl="ganzoo_cyclegan.model:CycleGAN",
    components=("G_AB", "G_BA", "D_A", "D_B"),
    inference=("G_AB", "G_BA"),
    default_tag="horse2zebra",  # the authors' model (no CycleGAN demo is bundled: none beats identity)
    tiny_config={"image_size": 32, "load_size": 36, "ngf": 4, "ndf": 4, "n_blocks": 1},
    description=(
        "Zhu, Park, Isola & Efros (2017). G_AB (paper G: X→Y, original netG_A) and G_BA (F: Y→X, netG_B) are "
        "ResNet generators (resnet_9blocks: 7×7 stem, two stride-2 downsamplings, 9 residual blocks, two "
        "upsamplings; reflection padding; instance norm without affine parameters; no dropout); D_A and D_B are "
        "70×70 PatchGANs judging domain A and domain B images (D_A = the original's netD_B). Loss: LSGAN + "
        "λ_cycle·L1 (λ_A = λ_B = 10) + identity 0.5·λ·L1; image pool of 50 for the discriminators, whose losses are "
        "halved; G updated first, then D; Adam 2e-4, β1 0.5; batch 1; 286 → random 256 crop + flip; 100 epochs + "
        "100 linear decay. sample(condition=x, direction='AtoB'|'BtoA'); any image size (reflection-padded to "
        "multiples of 4 and cropped back). `ganzoo convert cyclegan ORIGINAL.pth OUT` reads the authors' "
        "checkpoints, including the 2018 files with stray InstanceNorm statistics."
    ),
    license="Apache-2.0",
)
