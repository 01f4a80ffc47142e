"""``ganzoo export``: a model's inference networks as ONNX (checked with onnxruntime), TorchScript or torch.export."""

from __future__ import annotations

from pathlib import Path

import click

from .main import CONTEXT_SETTINGS

__all__ = ["export"]


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript", "torch.export"]), default="onnx",
              show_default=True, help="what to write")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="the folder to write (new or empty; missing parent folders are created)")
@click.option("--opset", type=click.IntRange(min=7), default=17, show_default=True, help="ONNX opset")
@click.option("--component", "components", multiple=True, show_default="the networks sample() uses",
              help="a network to export (repeatable)")
def export(name: str, fmt: str, out_dir: Path, opset: int, components: tuple[str, ...]) -> None:
    """Export NAME's inference networks (eval mode, dynamic batch; dynamic height and width for translators).

    Each exported network is run again and compared with PyTorch (max |diff| printed, at most 1e-4); OUT gets the
    files, export.json, the card as README.md and, for ONNX, example.py (onnxruntime + numpy + Pillow only).
    ONNX needs: pip install 'ganzoo[export]'.

    \b
    Examples:
      ganzoo export dcgan-digits -o export/digits                   ONNX, checked with onnxruntime
      ganzoo export cyclegan-horse2zebra --format onnx -o export/h2z
      python export/h2z/example.py horse.jpg -o zebra.png
      ganzoo export cyclegan-horse2zebra --format torchscript -o export/h2z
    """
    from ..export import export_model

    result = export_model(name, out_dir, format=fmt, opset=opset, components=list(components) or None)
    for comp, path in result.files.items():
        click.echo(f"{comp}: {path} (max |diff| vs PyTorch {result.max_abs_diff[comp]:.2e})")
    extra = ", example.py" if fmt == "onnx" else ""
    click.echo(f"Wrote {result.folder} (export.json, README.md{extra})")
