"""StarGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="stargan",
    task="multi-domain-translation",
    summary="StarGAN: one generator for N domains (target code tiled onto the input), PatchGAN critic with an "
            "auxiliary domain classifier, WGAN-GP + classification + reconstruction losses",
    paper="https://arxiv.org/abs/1711.09020",
    config="ganzoo_stargan.model:StarGANConfig",
    impl="ganzoo_stargan.model:StarGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="emoji-skintone",
    tiny_config={"image_size": 16, "channels": 3, "num_domains": 3, "g_conv_dim": 4, "d_conv_dim": 4,
                 "g_repeat_num": 1, "d_repeat_num": 2},
    description=(
        "Choi, Choi, Kim, Ha, Kim & Choo (2018), as in the authors' PyTorch code (yunjey/stargan). G: 7×7 conv on "
        "the image with the target domain's one-hot code tiled as extra channels, two stride-2 4×4 downsamplings, "
        "6 residual blocks, two 4×4 transposed-conv upsamplings, 7×7 conv + tanh; instance norm with affine "
        "parameters, ReLU. D: 6 stride-2 4×4 convs with LeakyReLU 0.01 and no norm, then a 3×3 PatchGAN "
        "real/fake head and a full-size conv domain classifier. Loss: WGAN-GP (λ_gp 10) + domain classification "
        "(cross-entropy, λ_cls 1: real images for D, translations for G) + reconstruction L1 back to the source "
        "domain (λ_rec 10); 5 critic updates per G update; Adam 1e-4, β = (0.5, 0.999), batch 16, lr constant "
        "then linearly to 0 over the second half. Optional mask vector for training on several label sets "
        "(domain_groups). sample(condition=x, domain=index|name|one per image)."
    ),
    license="Apache-2.0",
)
