"""StackGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="stackgan",
    task="class-conditional",
    summary="StackGAN: a stage-I GAN sketches a small image from noise and the (augmented) condition, a "
            "stage-II GAN refines it to 4× the resolution; trained stage by stage",
    paper="https://arxiv.org/abs/1612.03242",
    config="ganzoo_stackgan.model:StackGANConfig",
    impl="ganzoo_stackgan.model:StackGAN",
    components=("G1", "D1", "G2", "D2"),
    inference=("G1", "G2"),
    default_tag="digits",
    tiny_config={"image_size": 32, "channels": 1, "num_classes": 3, "nz": 4, "cond_dim": 4, "d_cond_dim": 4,
                 "ngf": 4, "ndf": 4, "ngf2": 4, "ndf2": 4, "res_blocks": 1},
    description=(
        "Zhang et al. (2017). Conditioning augmentation: the condition embedding φ gives μ(φ), σ(φ) and the "
        "generators see ĉ = μ + σ ⊙ ε, with λ·KL(N(μ, σ²) ‖ N(0, I)) (λ = 1) in G's loss. Stage I: G1(z, ĉ) → "
        "S×S (up-sampling blocks: nearest ×2 + 3×3 conv + BN + ReLU); D1 sees the image and the compressed "
        "condition replicated over its 4×4 map. Stage II: G2(stage-I image, ĉ) encodes the image, joins the "
        "condition, applies residual blocks and up-samples to 4S×4S; D2 likewise. Both discriminators are "
        "matching-aware: real image + matching condition is real; generated image, and real image + a "
        "mismatched condition, are fake. Adam 2e-4, β1 0.5, minibatch 64. Stage I is trained first (stage=1), "
        "then stage II with stage I fixed (stage=2, stage1_from=<stage-1 model folder>). Here the condition is "
        "a class label (one-hot), standing in for the paper's pre-trained text embedding. "
        "sample(n, condition=labels, stage=1|2)."
    ),
    license="Apache-2.0",
)
