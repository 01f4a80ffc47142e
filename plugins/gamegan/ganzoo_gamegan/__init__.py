"""gamegan for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="gamegan",
    task="video-prediction",
    summary="Action-conditioned next-frame prediction for games (encoder, multiplicative action transform, decoder)",
    paper="https://arxiv.org/abs/1507.08750",
    config="ganzoo_gamegan.model:GameGANConfig",
    impl="ganzoo_gamegan.model:GameGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="paddle",
    tiny_config={"image_size": 16, "context_frames": 2, "rollout_steps": 2, "width": 0.125, "hidden": 32,
                 "factors": 32, "ndf": 4},
    description=(
        "The feedforward action-conditional network of Oh, Guo, Lee, Lewis & Singh (2015), 'Action-Conditional "
        "Video Prediction using Deep Networks in Atari Games': a convolutional encoder of the last frames, a "
        "multiplicative action-conditional transformation h_dec = W_dec (W_enc h_enc ⊙ W_a a) + b, and a "
        "deconvolutional decoder, trained on k-step rollouts (its own predictions fed back) with the squared "
        "error; here also with an adversarial loss from a discriminator that judges (frames, action, next frame). "
        "Ships a deterministic paddle-and-ball game (ganzoo_gamegan.game) that logs frames and actions; "
        "`ganzoo sample <model> --play LLRR…` rolls the model out under an action sequence."
    ),
    license="Apache-2.0",
)
