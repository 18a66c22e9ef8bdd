"""``medstation segment --box ... --include X Y --exclude X Y``: the viewer's refinement, through the CLI main."""

from __future__ import annotations

import numpy as np
from PIL import Image

from medstation.cli import build_parser, main
from medstation.segmentation.images import read_image
from medstation.segmentation.refine import prompt_mask
from tests.domain.test_seg_cli import home_with_onnx, write_gray_png  # noqa: F401  (the fixture)
from tests.seg_support import engine


def _two_blobs():
    """(image float32 (140, 200), the big blob bool): a big ellipse and a small bright blob touching its box."""
    yy, xx = np.mgrid[:140, :200]
    big = ((yy - 70) / 38.0) ** 2 + ((xx - 90) / 52.0) ** 2 <= 1.0
    small = ((yy - 30) / 9.0) ** 2 + ((xx - 150) / 9.0) ** 2 <= 1.0
    rng = np.random.default_rng(3)
    image = 0.2 + 0.55 * big + 0.55 * small + rng.normal(0, 0.04, big.shape)
    return np.clip(image, 0, 1).astype(np.float32), big


def test_click_options_keep_their_order():
    args = build_parser().parse_args(["segment", "in.png", "--box", "1", "2", "30", "40", "--exclude", "5", "6",
                                      "--include", "7", "8", "--exclude", "9", "10", "--out", "m.png"])
    assert args.clicks == [(5.0, 6.0, 0), (7.0, 8.0, 1), (9.0, 10.0, 0)]
    assert build_parser().parse_args(["segment", "in.png", "--box", "1", "2", "3", "4", "--out", "m.png"]).clicks == []


def test_segment_with_clicks_writes_exactly_the_viewers_refinement(home_with_onnx, tmp_path, capsys):
    image, big = _two_blobs()
    write_gray_png(tmp_path / "in.png", image)
    box = ["30", "20", "165", "112"]
    out = tmp_path / "refined.png"
    clicks = ["--include", "150", "30", "--exclude", "150", "30"]
    assert main(["segment", str(tmp_path / "in.png"), "--box", *box, *clicks, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "include:" in printed and "exclude:" in printed  # what each click did, in order
    written = np.asarray(Image.open(out)) > 127

    eng = engine()  # the same weights and back-end the command loads
    pixels = read_image(tmp_path / "in.png")
    emb = eng.embed(pixels)
    expected = prompt_mask(lambda **p: eng.decode(emb, **p), pixels.shape[:2], [float(v) for v in box],
                           [(150.0, 30.0), (150.0, 30.0)], [1, 0])
    assert np.array_equal(written, expected.mask)
    assert not written[30, 150]  # the exclude click, applied last, leaves the small blob out

    plain = tmp_path / "plain.png"
    assert main(["segment", str(tmp_path / "in.png"), "--box", *box, "--out", str(plain)]) == 0
    box_only = np.asarray(Image.open(plain)) > 127
    assert np.array_equal(box_only, eng.decode(emb, box=[float(v) for v in box]).mask)
