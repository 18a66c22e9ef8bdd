"""SAM's prompt encoder + mask decoder as one module, re-associated to do half the arithmetic.

``make_decoder_head(prompt_encoder, mask_decoder, input_size)`` returns a torch module
``(embedding (1, 256, 64, 64), coords (1, N, 2) model-frame pixels, labels (1, N))
→ (logits (1, 1, 256, 256), iou (1, 1))`` that computes what SAM's ``MaskDecoder``
computes with ``multimask_output=False`` (same weights, same result up to float
rounding; ``tests/domain/test_decoder_head.py`` checks both against each other), but
with far fewer multiply-adds on the 4,096 image tokens.

Why it is faster. SAM's two-way transformer projects all 4,096 image tokens through
``q/k/v_proj`` (256 → 128) in every cross-attention, although only T ≈ 7 prompt
tokens sit on the other side. Linear maps commute with the attention sums, so:

* token → image: ``softmax(q·(x Wkᵀ + bk))`` equals ``softmax((q Wk)·x)``; the ``q·bk``
  term is constant along the softmax axis and drops out. Attention rows sum to 1, so
  ``A (x Wvᵀ + bv) = (A x) Wvᵀ + bv``. The image side costs two (8T × 256 × 4096)
  products instead of two (4096 × 256 × 128) projections.
* image → token: the image-side queries meet only T keys, so ``(x Wqᵀ + bq) Kᵀ`` is
  ``x (Wqᵀ Kᵀ) + bq Kᵀ``, and ``(A V) Woᵀ`` is ``A (V Woᵀ)`` per head.

That takes a box decode from ~3.5 to ~2.0 GFLOP (see ``benchmarks/bench_segmentation.py``).
Only the first mask token is decoded: with one output mask the other three are unused.
torch is imported inside the function: importing this module is free.
"""

from __future__ import annotations

# Part of the ONNX cache file name: a change to the graph below must bump it, or a
# decoder exported from the old graph would be reused.
HEAD_GRAPH_VERSION = "folded3"


def make_decoder_head(prompt_encoder, mask_decoder, input_size: int):
    """Build the re-associated head from a loaded SAM/LiteMedSAM prompt encoder and mask decoder."""
    import math

    import torch
    import torch.nn.functional as F
    from torch import nn

    def linear_parts(layer):
        return layer.weight, layer.bias

    class FoldedDecoderHead(nn.Module):
        """Prompt encoder + mask decoder; labels: 1 positive, 0 negative, 2/3 box corners, -1 padding."""

        def __init__(self) -> None:
            super().__init__()
            self.prompt_encoder = prompt_encoder
            self.mask_decoder = mask_decoder
            self.input_size = input_size
            transformer = mask_decoder.transformer
            self.num_heads = transformer.layers[0].cross_attn_token_to_image.num_heads
            # plain ints, so the ONNX export sees static shapes
            self.upscale_channels = int(mask_decoder.output_upscaling[0].weight.shape[1])

        # -- prompt --------------------------------------------------------------------
        def _sparse(self, coords, labels):
            pe_enc = self.prompt_encoder
            sparse = pe_enc.pe_layer.forward_with_coords(coords + 0.5, (self.input_size, self.input_size))
            padding = (labels == -1).unsqueeze(-1).to(sparse.dtype)
            sparse = sparse * (1.0 - padding) + padding * pe_enc.not_a_point_embed.weight
            for code in range(4):
                chosen = (labels == code).unsqueeze(-1).to(sparse.dtype)
                sparse = sparse + chosen * pe_enc.point_embeddings[code].weight
            return sparse  # (1, N, 256)

        # -- attention, re-associated -------------------------------------------------------
        def _token_to_image(self, attn, q_tokens, k_image, v_image):
            """Prompt tokens (T, C) attend to image tokens (HW, C); returns (T, C)."""
            heads = self.num_heads
            wq, bq = linear_parts(attn.q_proj)
            wk, _ = linear_parts(attn.k_proj)  # bk adds a per-row constant: softmax ignores it
            wv, bv = linear_parts(attn.v_proj)
            t = q_tokens.shape[0]
            d = wq.shape[0] // heads
            q = (q_tokens @ wq.t() + bq).reshape(t, heads, d).transpose(0, 1)  # (h, T, d)
            qk = torch.matmul(q, wk.reshape(heads, d, -1))  # (h, T, C): queries in image-feature space
            scores = (qk.reshape(heads * t, -1) @ k_image.t()) / math.sqrt(d)  # (hT, HW)
            weights = torch.softmax(scores, dim=-1)
            mixed = (weights @ v_image).reshape(heads, t, -1)  # (h, T, C)
            values = torch.matmul(mixed, wv.reshape(heads, d, -1).transpose(1, 2))  # (h, T, d)
            out = values.transpose(0, 1).reshape(t, heads * d) + bv
            return attn.out_proj(out)

        def _image_to_token(self, attn, q_image, k_tokens, v_tokens):
            """Image tokens (HW, C) attend to prompt tokens (T, C); returns (HW, C)."""
            heads = self.num_heads
            wq, bq = linear_parts(attn.q_proj)
            wo, bo = linear_parts(attn.out_proj)
            t = k_tokens.shape[0]
            d = wq.shape[0] // heads
            k = attn.k_proj(k_tokens).reshape(t, heads, d).transpose(0, 1)  # (h, T, d)
            v = attn.v_proj(v_tokens).reshape(t, heads, d).transpose(0, 1)  # (h, T, d)
            # x Wqᵀ Kᵀ per head: fold the query projection into the (few) keys
            fold = torch.matmul(wq.reshape(heads, d, -1).transpose(1, 2), k.transpose(1, 2))  # (h, C, T)
            fold = fold.transpose(0, 1).reshape(wq.shape[1], heads * t)  # (C, hT)
            bias = torch.matmul(bq.reshape(heads, 1, d), k.transpose(1, 2)).reshape(1, heads * t)
            scores = (q_image @ fold + bias) / math.sqrt(d)  # (HW, hT)
            weights = torch.softmax(scores.reshape(-1, heads, t), dim=-1).reshape(-1, heads * t)
            # (A V) Woᵀ per head = A (V Woᵀ): project the T values, not the HW outputs
            wo_heads = wo.t().reshape(heads, d, -1)  # (h, d, C)
            projected = torch.matmul(v, wo_heads).reshape(heads * t, -1)  # (hT, C)
            return weights @ projected + bo

        def forward(self, embedding, coords, labels):
            decoder = self.mask_decoder
            transformer = decoder.transformer
            sparse = self._sparse(coords, labels)[0]
            output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
            point_embedding = torch.cat([output_tokens, sparse], dim=0)  # (T, C)
            _, c, h, w = embedding.shape
            src = embedding + self.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
            keys = src.reshape(c, h * w).t()  # (HW, C)
            key_pe = self.prompt_encoder.get_dense_pe().reshape(c, h * w).t()
            queries = point_embedding
            for layer in transformer.layers:
                if layer.skip_first_layer_pe:
                    queries = layer.self_attn(q=queries[None], k=queries[None], v=queries[None])[0]
                else:
                    q = queries + point_embedding
                    queries = queries + layer.self_attn(q=q[None], k=q[None], v=queries[None])[0]
                queries = layer.norm1(queries)
                keys_pe = keys + key_pe
                queries = layer.norm2(queries + self._token_to_image(
                    layer.cross_attn_token_to_image, queries + point_embedding, keys_pe, keys))
                queries = layer.norm3(queries + layer.mlp(queries))
                keys = layer.norm4(keys + self._image_to_token(
                    layer.cross_attn_image_to_token, keys_pe, queries + point_embedding, queries))
            queries = transformer.norm_final_attn(queries + self._token_to_image(
                transformer.final_attn_token_to_image, queries + point_embedding, keys + key_pe, keys))

            hyper = decoder.output_hypernetworks_mlps[0](queries[1:2])  # (1, C/8)
            logits = self._upscaled_mask(keys, hyper, h, w)
            iou = decoder.iou_prediction_head(queries[0:1])[:, :1]
            return logits, iou

        # -- output upscaling in token layout --------------------------------------------------
        def _upscaled_mask(self, keys, hyper, h: int, w: int):
            """SAM's ``output_upscaling`` + hypernetwork product, without image-layout tensors.

            A 2×2, stride-2 transposed convolution maps each input pixel to its own 2×2
            output block, so it is a (C → 4·C') matrix product per pixel, and LayerNorm2d
            normalises each output pixel over its channels. Keeping pixels as rows
            (``keys`` (HW, C)) turns both stages into plain matmuls and a fused layer norm;
            only the final (4h, 4w) mask is rearranged into image order.
            """
            convt1, norm, act1, convt2, act2 = self.mask_decoder.output_upscaling
            x = (keys @ convt_matrix(convt1)).reshape(h * w * 4, -1) + convt1.bias  # (4HW, C/4)
            x = act1(F.layer_norm(x, (self.upscale_channels,), norm.weight, norm.bias, norm.eps))
            x = act2((x @ convt_matrix(convt2)).reshape(h * w * 16, -1) + convt2.bias)  # (16HW, C/8)
            values = x @ hyper.reshape(-1, 1)  # (16HW, 1): a 2-D product; ORT runs the 1-D form 5x slower
            # rows run over (y, x, i, j, k, l): image row 4y + 2i + k, column 4x + 2j + l
            grid = values.reshape(h, w, 2, 2, 2, 2).permute(0, 2, 4, 1, 3, 5)
            return grid.reshape(1, 1, 4 * h, 4 * w)

    def convt_matrix(convt):
        """2×2 transposed-conv weight (C_in, C_out, 2, 2) → (C_in, 4·C_out), columns ordered (i, j, C_out)."""
        weight = convt.weight
        return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)

    return FoldedDecoderHead().eval()


def reference_decode(prompt_encoder, mask_decoder, embedding, sparse):
    """SAM's own decoder call (``multimask_output=False``), for tests and benchmarks.

    ``sparse`` (1, N, 256) from the prompt encoder; returns (logits (1, 1, 256, 256), iou (1, 1)).
    """
    h, w = prompt_encoder.image_embedding_size
    dense = prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(1, -1, h, w)
    return mask_decoder(
        image_embeddings=embedding,
        image_pe=prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=False,
    )
