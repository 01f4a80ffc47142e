"""framegan for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="framegan",
    task="video-prediction",
    summary="Multi-scale adversarial video prediction with the gradient difference loss",
    paper="https://arxiv.org/abs/1511.05440",
    config="ganzoo_framegan.model:FrameGANConfig",
    impl="ganzoo_framegan.model:FrameGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="digits",
    tiny_config={"image_size": 16, "channels": 1, "context_frames": 2, "future_frames": 1, "g_width": 0.03125,
                 "d_width": 0.03125},
    description=(
        "Mathieu, Couprie & LeCun (2015), 'Deep multi-scale video prediction beyond mean square error'. A "
        "coarse-to-fine generator predicts the next frame at 4 scales, each scale refining the upsampled prediction "
        "of the coarser one; a discriminator per scale judges (context, next frame) sequences. Loss: "
        "λ_adv·adversarial + λ_ℓp·ℓp + λ_gdl·gradient difference loss, with the paper's ablations (ℓ2 only, ℓ1, "
        "ℓ1+GDL, adversarial, adversarial+GDL) as one switch. Rolls out autoregressively to any horizon."
    ),
    license="Apache-2.0",
)
