"""DTN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="dtn",
    task="unpaired-translation",
    summary="Domain Transfer Network: G = g∘f with a fixed pretrained encoder f; f-constancy, target identity, "
            "ternary discriminator and TV losses (one-way, source → target)",
    paper="https://arxiv.org/abs/1611.02200",
    config="ganzoo_dtn.model:DTNConfig",
    impl="ganzoo_dtn.model:DTN",
    components=("f", "g", "D"),
    inference=("f", "g"),
    default_tag="print2hand",
    tiny_config={"encoder": "none", "f_dims": [4, 4, 4, 8], "g_dim": 4, "d_dim": 4},
    description=(
        "Taigman, Polyak & Wolf (2016), the digit architecture of §5.1. f: four conv layers (64, 128, 256, 128 "
        "filters), each followed by max pooling and ReLU, 32×32 RGB → a 128-d code; pretrained as a classifier on "
        "the source domain and then fixed (the shipped 'print-digits' encoder, sha256-pinned). g: four transposed "
        "convolutions (batch norm + ReLU, tanh output) from the code to a 32×32 image. D: four convolutions (batch "
        "norm, ReLU) with three outputs: generated from the source, generated from the target, real target. Loss: "
        "L_GANG + α·L_CONST (MSE between f(x) and f(G(x)) on source images) + β·L_TID (MSE between t and G(t) on "
        "target images) + γ·L_TV; the paper's digit weights α = β = 15, γ = 0. sample(condition=source images) "
        "translates one way only."
    ),
    license="Apache-2.0",
)
