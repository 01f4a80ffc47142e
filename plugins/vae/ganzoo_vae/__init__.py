"""The variational auto-encoder for ganzoo: the plugin spec only (no torch import here, so `ganzoo list` stays instant)."""

from ganzoo.plugin import Plugin

plugin = Plugin(
    name="vae",
    task="reconstruction",
    summary="Variational auto-encoder: Gaussian encoder q(z|x) with the reparameterisation trick, MLP decoder, "
            "ELBO with a β option",
    paper="https://arxiv.org/abs/1312.6114",
    config="ganzoo_vae.model:VAEConfig",
    impl="ganzoo_vae.model:VAE",
    components=("G", "E"),
    inference=("G", "E"),
    default_tag="digits",
    tiny_config={"image_size": 8, "channels": 1, "nz": 3, "hidden": 16},
    description=(
        "Kingma & Welling (2013), Auto-Encoding Variational Bayes. The encoder E outputs the mean and log-variance "
        "of a diagonal Gaussian q(z|x); z = μ + σ ⊙ ε (ε ~ N(0, I)) keeps the sample differentiable; the decoder G "
        "gives a Bernoulli (default) or Gaussian likelihood p(x|z). Training maximises the ELBO: "
        "E_q[log p(x|z)] − β·KL(q(z|x) ‖ N(0, I)) with the KL in closed form (β = 1 is the paper's bound; β ≠ 1 "
        "is the β-VAE weighting). MNIST layout: one hidden layer of 500 tanh units in each MLP, 20-d latent, "
        "minibatch 100, one z per datapoint, Adagrad, weights ~ N(0, 0.01). sample() decodes z ~ N(0, I) (the "
        "decoder's mean image); sample(condition=images) reconstructs from the posterior mean."
    ),
    license="Apache-2.0",
)
