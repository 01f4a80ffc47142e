"""UNIT for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="unit",
    task="unpaired-translation",
    summary="UNIT: two VAE-GANs whose encoders share their last layers and decoders their first, one latent space "
            "for both domains; VAE, GAN and cycle losses with KL terms, trained on unaligned trainA/ trainB/",
    paper="https://arxiv.org/abs/1703.00848",
    config="ganzoo_unit.model:UNITConfig",
    impl="ganzoo_unit.model:UNIT",
    components=("E", "G", "D"),
    inference=("E", "G"),
    default_tag="noto2twemoji",
    tiny_config={"image_size": 16, "ch": 4, "n_downsample": 1, "n_enc_res": 1, "n_gen_res": 1, "ndf": 4,
                 "n_layers_D": 2},
    description=(
        "Liu, Breuel & Kautz (2017), as the authors' code of the paper (COCOResGen / COCODis). E holds both "
        "encoders: per domain a 7×7 conv, stride-2 convs and residual blocks, then residual blocks shared by the "
        "two domains that output the mean μ of q(z|x) = N(μ, I); G holds both decoders: shared residual blocks, "
        "then per domain residual blocks, transposed convs and tanh; D holds the two discriminators (stride-2 "
        "convs to a patch of logits; optionally shared last layers). Loss: λ0 = 10 GAN (BCE), λ2 = 100 L1 "
        "reconstruction + λ1 = 0.1 KL, λ4 = 100 L1 cycle + λ3 = 0.1 KL of the re-encoded translations; Adam 1e-4, "
        "β1 0.5, weight decay 1e-4; batch 1. sample(condition=x, direction='AtoB'|'BtoA'); any size (padded to the "
        "encoder's stride). The shared space is exposed: encode_latent(images, domain=), latent(n), "
        "generate(z, domain=) — ganzoo.explore_shared interpolates between an A and a B image. Options for the "
        "ablation: share_layers=false (untied), lambda_latent_cycle (ComboGAN's latent cycle)."
    ),
    license="Apache-2.0",
)
