"""DCGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="dcgan",
    task="unconditional",
    summary="Deep convolutional GAN: all-convolutional G and D with batch norm",
    paper="https://arxiv.org/abs/1511.06434",
    config="ganzoo_dcgan.model:DCGANConfig",
    impl="ganzoo_dcgan.model:DCGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="digits",
    tiny_config={"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8},
    description=(
        "Radford, Metz & Chintala (2015). The generator maps z ~ N(0, I) through fractionally-strided "
        "convolutions (BatchNorm + ReLU, tanh output); the discriminator is strided convolutions (BatchNorm "
        "except on its input layer, LeakyReLU 0.2). Weights ~ N(0, 0.02); Adam lr 2e-4, beta1 0.5; "
        "minibatch 128; images scaled to [-1, 1]. Trained with the standard GAN loss (non-saturating G)."
    ),
    license="Apache-2.0",
)

#: The conditional DCGAN (same distribution: it reuses the DCGAN networks): the one-hot label is concatenated to
#: the noise (G) and as label maps to the image (D), so label-conditioned checkpoints of the tutorial's layout load.
cdcgan = Plugin(
    name="cdcgan",
    task="class-conditional",
    summary="Conditional DCGAN: one-hot label concatenated to the noise (G) and as label maps to the image (D)",
    paper="https://arxiv.org/abs/1411.1784",
    config="ganzoo_dcgan.conditional:CDCGANConfig",
    impl="ganzoo_dcgan.conditional:CDCGAN",
    components=("G", "D"),
    inference=("G",),
    tiny_config={"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8, "num_classes": 3},
    description=(
        "The DCGAN networks of Radford et al. (2015) conditioned as in Mirza & Osindero (2014): G maps "
        "cat(z, onehot(y)) through fractionally-strided convolutions (BatchNorm + ReLU, tanh output); D sees the "
        "image with K label maps stacked on its channels. Adam 2e-4, beta1 0.5; standard GAN loss. "
        "sample(condition=labels). `ganzoo convert cdcgan netG.pth OUT --set num_classes=K` imports conditional "
        "generators in the PyTorch DCGAN tutorial's layout."
    ),
    license="Apache-2.0",
)
