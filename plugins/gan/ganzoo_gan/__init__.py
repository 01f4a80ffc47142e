"""The original GAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="gan",
    task="unconditional",
    summary="The original GAN: MLP generator (ReLU, sigmoid output) vs maxout MLP discriminator with dropout",
    paper="https://arxiv.org/abs/1406.2661",
    config="ganzoo_gan.model:GANConfig",
    impl="ganzoo_gan.model:GAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="digits",
    tiny_config={"image_size": 8, "channels": 1, "nz": 8, "g_hidden": 16, "d_units": 8, "d_pieces": 2},
    description=(
        "Goodfellow et al. (2014). G maps z ~ N(0, I) (100-d) through two rectifier layers of 1200 units to a "
        "sigmoid output layer (the image); D is two maxout layers (240 units × 5 pieces) and a sigmoid unit, "
        "trained with dropout (inputs kept with p=0.8, hidden units with p=0.5). D and G alternate one step each "
        "(k=1). The generator loss is selectable: the minimax log(1 − D(G(z))) of Algorithm 1, or the "
        "non-saturating −log D(G(z)) the paper recommends in practice (§3). Optimiser as in the MNIST "
        "experiment: SGD, lr 0.1, momentum 0.5, minibatch 100."
    ),
    license="Apache-2.0",
)
