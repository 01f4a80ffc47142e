"""Bundled model cards: one folder per pretrained model (a Hub repo's contents), installed as ``ganzoo.model_cards``."""
