"""Toy plugins, one per task kind, for the core's tests (the core suite needs no built-in plugin).

The test session installs them as the distribution ``toyzoo`` (a dist-info on sys.path, see conftest.py), so they
are discovered through the ``ganzoo.plugins`` entry points like any third-party plugin. Specs only: no torch here.
"""

from ganzoo import Plugin

_PAPER = "https://arxiv.org/abs/1406.2661"


def _spec(name: str, task: str, cls: str, components: tuple[str, ...], inference: tuple[str, ...], **tiny: object
          ) -> Plugin:
    return Plugin(name=name, task=task, summary=f"toy {task} plugin for tests", paper=_PAPER,
                  config=f"toyzoo.model:{cls}Config", impl=f"toyzoo.model:{cls}", components=components,
                  inference=inference, tiny_config=tiny, license="Apache-2.0")


toygan = _spec("toygan", "unconditional", "ToyGan", ("G", "D"), ("G",))
toycond = _spec("toycond", "class-conditional", "ToyCond", ("G", "D"), ("G",))
toyae = _spec("toyae", "reconstruction", "ToyAE", ("E", "G"), ("E", "G"))
toypair = _spec("toypair", "paired-translation", "ToyPair", ("G", "D"), ("G",))
toyunpair = _spec("toyunpair", "unpaired-translation", "ToyUnpair", ("G_AB", "G_BA", "D_A", "D_B"), ("G_AB", "G_BA"))
toydomain = _spec("toydomain", "multi-domain-translation", "ToyDomain", ("G", "D"), ("G",))
toyspeech = _spec("toyspeech", "speech-enhancement", "ToySpeech", ("G", "D"), ("G",))
toyvideo = _spec("toyvideo", "video-prediction", "ToyVideo", ("G", "D"), ("G",))

#: entry-point name -> "module:attr", what the test session's dist-info declares
ENTRY_POINTS = {name: f"toyzoo:{name}" for name in (
    "toygan", "toycond", "toyae", "toypair", "toyunpair", "toydomain", "toyspeech", "toyvideo")}
