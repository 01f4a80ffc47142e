"""Conditional GAN for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="cgan",
    task="class-conditional",
    summary="Conditional GAN: the condition (class label or attribute vector) feeds both G and D; "
            "concatenation (Mirza & Osindero) or projection discriminator (Miyato & Koyama)",
    paper="https://arxiv.org/abs/1411.1784",
    config="ganzoo_cgan.model:CGANConfig",
    impl="ganzoo_cgan.model:CGAN",
    components=("G", "D"),
    inference=("G",),
    default_tag="digits",
    tiny_config={"image_size": 8, "channels": 1, "num_classes": 3, "nz": 8, "g_z_hidden": 8, "g_y_hidden": 8,
                 "g_hidden": 16, "d_x_units": 8, "d_x_pieces": 2, "d_y_units": 4, "d_y_pieces": 2, "d_units": 8,
                 "d_pieces": 2},
    description=(
        "Mirza & Osindero (2014): both networks see the condition y, so D judges (image, y) pairs and G cannot "
        "ignore y. MNIST model: G maps z (100-d, uniform on the unit hypercube) to 200 ReLU units and the "
        "one-hot y to 1000 ReLU units, joins them in 1200 ReLU units and a sigmoid image layer; D maps x to "
        "maxout 240×5, y to maxout 50×5, joins them in maxout 240×4 and a sigmoid unit; dropout 0.5 in both; "
        "SGD, lr 0.1, momentum 0.5, minibatch 100. Option discriminator=projection: Miyato & Koyama (2018, "
        "arXiv 1802.05637) — D(x, y) = ψ(φ(x)) + yᵀVφ(x), spectral norm on every layer, hinge loss. Conditions "
        "are class labels (N,) or, with condition=attributes, float attribute vectors (N, A). "
        "sample(n, condition=labels)."
    ),
    license="Apache-2.0",
)
