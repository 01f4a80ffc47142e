"""``ganzoo push`` and ``ganzoo pull``: model folders to and from the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

import click

from .main import CONTEXT_SETTINGS

__all__ = ["push", "pull"]


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="create the repo as private")
@click.option("-m", "--message", show_default="Upload <plugin> model with ganzoo <version>", help="commit message")
@click.option("--pin-card", type=click.Path(path_type=Path, file_okay=False),
              help="also write a registry card folder (e.g. cards/<plugin>-<tag>) pinning this commit and the hashes")
def push(folder: Path, repo_id: str, private: bool, message: str | None, pin_card: Path | None) -> None:
    """Upload a model folder (README.md, config.json, one safetensors per component) to the Hub as REPO_ID.

    Creates ORG/REPO if needed; prints the commit sha last. checkpoints/ never leaves the machine. Needs a token
    with write access (`hf auth login` or HF_TOKEN).

    \b
    Examples:
      ganzoo push runs/dcgan-digits my-org/dcgan-digits
      ganzoo push runs/x my-org/x --private -m "step 3000"
      ganzoo push runs/x my-org/x --pin-card cards/dcgan-x      maintainers: pin the commit in a registry card
    """
    from ..hub import push_folder, write_pinned_card

    result = push_folder(folder, repo_id, private=private, commit_message=message)
    click.echo(f"Pushed {len(result.files)} files to {repo_id}: commit {result.commit}")
    click.echo(result.url)
    if pin_card is not None:
        path = write_pinned_card(folder, pin_card, repo_id=repo_id, revision=result.commit)
        click.echo(f"Wrote the pinned card {path}")
    click.echo(result.commit)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("names", nargs=-1, required=True)
@click.option("--all-components", is_flag=True, help="also fetch training-only networks (discriminators)")
def pull(names: tuple[str, ...], all_components: bool) -> None:
    """Prefetch models (NAMES) into the Hugging Face cache so they load offline (HF_HUB_OFFLINE=1) later.

    \b
    Examples:
      ganzoo pull hf-hub:my-org/dcgan-digits                   the inference weights, at main
      ganzoo pull hf-hub:my-org/x@3f2a9c… --all-components     a pinned commit, discriminators included
    """
    import ganzoo

    for name in names:
        path = ganzoo.pull(name, components="all" if all_components else None)[0]
        click.echo(f"{name}: {path}")
