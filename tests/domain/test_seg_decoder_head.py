"""The re-associated decoder head computes what SAM's own mask decoder computes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.seg_support import torch_engine


@pytest.mark.parametrize(
    "coords, labels",
    [
        ([[30.0, 40.0], [120.0, 150.0]], [2.0, 3.0]),  # box
        ([[60.0, 70.0], [10.0, 10.0], [0.0, 0.0]], [1.0, 0.0, -1.0]),  # points + padding
        ([[80.0, 90.0], [20.0, 30.0], [200.0, 220.0]], [0.0, 2.0, 3.0]),  # box + negative point
    ],
)
def test_folded_head_matches_reference_decoder(coords, labels):
    import torch

    from medstation.segmentation.decoder_head import reference_decode

    engine = torch_engine()
    head = engine._decoder._head
    assert type(head).__name__ == "FoldedDecoderHead"  # the fast path is what the engine runs
    rng = np.random.default_rng(7)
    image = rng.random((1, 3, 256, 256), dtype=np.float32)
    embedding = torch.from_numpy(engine._encoder.encode(image))
    c = torch.tensor([coords])
    lab = torch.tensor([labels])
    with torch.inference_mode():
        fast_logits, fast_iou = head(embedding, c, lab)
        ref_logits, ref_iou = reference_decode(head.prompt_encoder, head.mask_decoder, embedding, head._sparse(c, lab))
    assert fast_logits.shape == ref_logits.shape == (1, 1, 256, 256)
    # float rounding only: logits reach ±30, differences stay far below one thousandth
    assert float((fast_logits - ref_logits).abs().max()) < 1e-3
    assert float((fast_iou - ref_iou).abs().max()) < 1e-4
    assert bool(((fast_logits > 0) == (ref_logits > 0)).float().mean() > 0.9999)
    # and the comparison is not vacuous: the prompt matters
    assert float(ref_logits.std()) > 1.0


def test_folded_head_matches_segment_anything_vit_b_decoder():
    """The MedSAM ViT-B engine uses the same head: check it on segment-anything's own modules."""
    import torch
    from segment_anything import sam_model_registry

    from medstation.segmentation.decoder_head import make_decoder_head, reference_decode

    torch.manual_seed(0)
    sam = sam_model_registry["vit_b"](checkpoint=None).eval()  # random weights: no download, no file
    head = make_decoder_head(sam.prompt_encoder, sam.mask_decoder, 1024)
    embedding = torch.randn(1, 256, 64, 64)
    coords = torch.tensor([[[300.0, 200.0], [700.0, 650.0]]])
    labels = torch.tensor([[2.0, 3.0]])
    with torch.inference_mode():
        fast, fast_iou = head(embedding, coords, labels)
        ref, ref_iou = reference_decode(sam.prompt_encoder, sam.mask_decoder, embedding, head._sparse(coords, labels))
    assert float((fast - ref).abs().max()) < 1e-3 * max(1.0, float(ref.abs().max()))
    assert float((fast_iou - ref_iou).abs().max()) < 1e-4
