"""CoGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="cogan",
    task="unconditional",
    summary="CoGAN: two GANs whose generators tie their first layers and discriminators their last, learning the "
            "joint distribution of two domains from unpaired images; a sample is a pair from one code",
    paper="https://arxiv.org/abs/1606.07536",
    config="ganzoo_cogan.model:CoGANConfig",
    impl="ganzoo_cogan.model:CoGAN",
    components=("G", "D"),
    inference=("G",),
    tiny_config={"image_size": 8, "ngf": 4, "ndf": 4, "latent_dim": 8, "domain_b_transform": "negative"},
    description=(
        "Liu & Tuzel (2016), after the authors' code. G holds both generators: z ~ U[-1, 1] through tied "
        "transposed-conv layers (batch norm, PReLU), then the last g_private_layers per domain (tanh); D holds "
        "both discriminators: the first d_private_layers per domain, then tied stride-2 convs to one logit. "
        "Standard GAN loss for each GAN; Adam 2e-4, β1 0.5, weight decay 5e-4; batch 64. Task: unconditional, "
        "because CoGAN draws from noise: sample(n, domain='pair') returns each joint sample as A and B side by "
        "side (n, C, S, 2S); domain='A' or 'B' returns one domain (for metrics); generate(z, domain=) decodes "
        "given codes. Data: trainA/ + trainB/ (unpaired), or one image folder with --set "
        "domain_b_transform=negative|edges (the paper's digit experiments: B is made from the other half)."
    ),
    license="Apache-2.0",
)
