"""The auto-encoder baseline for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="autoencoder",
    task="reconstruction",
    summary="Auto-encoder baseline: MLP encoder + decoder trained on reconstruction; samples decode codes "
            "drawn from a Gaussian fitted to the training codes",
    paper="https://doi.org/10.1126/science.1127647",
    config="ganzoo_autoencoder.model:AutoEncoderConfig",
    impl="ganzoo_autoencoder.model:AutoEncoder",
    components=("G", "E"),
    inference=("G", "E"),
    default_tag="digits",
    tiny_config={"image_size": 8, "channels": 1, "code_dim": 3, "hidden": 16},
    description=(
        "The baseline the GAN story starts from: an encoder E maps an image to a low-dimensional code and a "
        "decoder G maps the code back, trained only to reconstruct (per-pixel cross-entropy by default). To "
        "generate, the decoder needs codes, but nothing shapes the code space: sample() decodes codes drawn "
        "from a Gaussian N(mean, cov) fitted to the training images' codes (running moments kept in G's "
        "buffers, saved with the weights). Codes between the training codes often decode to blurs or non-digits "
        "— the contrast the VAE and the GAN answer. sample(condition=images) returns reconstructions. The MLP "
        "has the vae plugin's layout (500 hidden units, 20-d code; ReLU by default), so with the same activation "
        "the two differ only in their objective."
    ),
    license="Apache-2.0",
)
