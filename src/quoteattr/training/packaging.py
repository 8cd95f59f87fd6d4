"""Build a pip-installable wheel that holds a checkpoint and its card (the way spaCy ships pipelines);
once installed, `quoteattr predict --system NAME` finds it through the ``quoteattr.models`` entry point."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from quoteattr.data.errors import InputError

_LOADER = '''"""The {name} quote attribution model, packaged by quoteattr."""

from pathlib import Path


def checkpoint_path() -> str:
    """Folder of the checkpoint (safetensors, tokenizer, config, README.md card)."""
    return str(Path(__file__).parent / "checkpoint")
'''

_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "{version}"
description = "quoteattr model {name}: quote attribution for news"
readme = "{module}/checkpoint/README.md"
requires-python = ">=3.11"
dependencies = ["quoteattr"]

[project.entry-points."quoteattr.models"]
{name} = "{module}:checkpoint_path"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["checkpoint/*"]
"""


def package_checkpoint(checkpoint: str | Path, output: str | Path, name: str, version: str = "0.1.0") -> Path:
    """Write ``quoteattr_model_<name>-<version>-py3-none-any.whl`` into ``output``; returns its path."""
    checkpoint = Path(checkpoint)
    for required in ("config.json", "model.safetensors", "linker.safetensors", "README.md"):
        if not (checkpoint / required).exists():
            raise InputError(f"{checkpoint}: missing {required}; is this a checkpoint written by training?")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InputError(f"model name {name!r}: use lower-case letters, digits and underscores")
    module = f"quoteattr_model_{name}"
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        project = Path(work) / "project"
        package = project / module
        shutil.copytree(checkpoint, package / "checkpoint", ignore=shutil.ignore_patterns("checkpoint-*", "*.tmp"))
        (package / "__init__.py").write_text(_LOADER.format(name=name), encoding="utf-8")
        (project / "pyproject.toml").write_text(
            _PYPROJECT.format(distribution=module.replace("_", "-"), version=version, name=name, module=module),
            encoding="utf-8",
        )
        built = Path(work) / "wheel"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                str(built),
                str(project),
            ],
            check=True,
        )
        [wheel] = built.glob("*.whl")
        target = output / wheel.name
        shutil.move(str(wheel), target)
    return target
