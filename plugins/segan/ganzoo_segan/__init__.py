"""SEGAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="segan",
    task="speech-enhancement",
    summary="SEGAN: 1-D fully convolutional encoder-decoder G on raw 16 kHz waveforms, pair D with virtual batch "
            "norm, least-squares GAN + 100·L1",
    paper="https://arxiv.org/abs/1703.09452",
    config="ganzoo_segan.model:SEGANConfig",
    impl="ganzoo_segan.model:SEGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="speech",
    tiny_config={"segment_length": 256, "g_channels": [4, 8], "d_channels": [4, 8], "z_channels": 4,
                 "kernel_size": 31},
    description=(
        "Pascual, Bonafonte & Serrà (2017). G: 11 strided 1-D convolutions (kernel 31, stride 2, PReLU) from a "
        "16,384-sample window down to an 8×1024 code, noise z (8×1024) concatenated, 11 transposed convolutions "
        "back up with skip connections from the mirrored encoder layers, tanh. D: the same strided stack on the "
        "(clean|enhanced, noisy) pair with virtual batch norm and LeakyReLU 0.3, a 1×1 convolution and a fully "
        "connected logit. Least-squares GAN + λ=100 L1, RMSprop 2e-4, pre-emphasis 0.95 (de-emphasis at the "
        "output), 1 s windows with 50 % overlap. Files of any length are enhanced window by window with 50 % "
        "Hann-weighted overlap-add; `ganzoo sample segan-speech --input noisy.wav -o clean.wav` writes WAVs at the "
        "input's sample rate, each channel enhanced."
    ),
    license="Apache-2.0",
)
