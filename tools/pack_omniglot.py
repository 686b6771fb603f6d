"""Build the Omniglot copy shipped in the package from the real distribution, deterministically.

    python tools/pack_omniglot.py ../shared/data/omniglot            # writes fewshot_nsl/data/packaged/omniglot/

Reads ``images_background`` / ``images_evaluation`` (zips or extracted folders) with the reader's own listing,
checks that every PNG is 105x105 1-bit, and writes per set ``images_<set>.npz`` = ``names`` (sorted
``Alphabet/characterNN/file.png``) + ``ink`` (np.packbits of the ink mask, (N, 105, 14) uint8), deflated at
level 9 into a zip with fixed timestamps (the same input gives the same bytes). Copies the Vinyals split lists
and their licence. Then checks that the packed sets decode to exactly the reader's uint8 images at 28x28.
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fewshot_nsl.data import omniglot  # noqa: E402
from fewshot_nsl.data.decode import fill  # noqa: E402
from fewshot_nsl.data.omniglot_packaged import ROOT, SIDE, packed_file  # noqa: E402
from fewshot_nsl.data.omniglot_store import SETS, OmniglotSet  # noqa: E402

log = logging.getLogger("pack_omniglot")
SPLITS = ("train", "val", "test", "trainval")


def ink_bits(png: bytes, name: str) -> np.ndarray:
    """(SIDE, ROW_BYTES) uint8: the packed ink mask of one 105x105 1-bit PNG (1 = stroke)."""
    with Image.open(io.BytesIO(png)) as image:
        if image.mode != "1" or image.size != (SIDE, SIDE):
            raise SystemExit(f"{name}: mode {image.mode} size {image.size}; expected a {SIDE}x{SIDE} 1-bit PNG")
        white = np.asarray(image, dtype=bool)
    return np.packbits(~white, axis=-1)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A ``.npz`` that np.load reads, with fixed member timestamps (np.savez_compressed stamps the time)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def pack_set(src: Path, out: Path, set_name: str) -> int:
    lake = OmniglotSet(src, set_name)
    chars = sorted(lake.characters)
    data = lake.read_all(chars)
    names = [f"{c}/{f}" for c in chars for f in lake.characters[c]]
    ink = np.stack([ink_bits(data[n], lake.path(*n.rsplit("/", 1))) for n in names])
    write_npz(packed_file(out, set_name), {"names": np.asarray(names), "ink": ink})
    return len(names)


def decoded(root: Path, set_name: str, size: int) -> tuple[list[str], np.ndarray]:
    """Names and (N, size, size, 1) uint8 images of a Lake set, decoded by the reader itself."""
    plan = omniglot.source(root, set_name, size).open()
    images = np.empty((len(plan.index.names), size, size, 1), np.uint8)
    fill(images, plan.decode)
    return plan.index.names, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="the real Omniglot folder (images_*.zip, splits/vinyals/)")
    parser.add_argument("--out", type=Path, default=ROOT, help=f"packaged root to write (default {ROOT})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    (args.out / "splits" / "vinyals").mkdir(parents=True, exist_ok=True)
    for set_name in SETS:
        n, path = pack_set(args.src, args.out, set_name), packed_file(args.out, set_name)
        log.info("%s: %d images, %d bytes", path, n, path.stat().st_size)
    for name in [f"{s}.txt" for s in SPLITS] + ["LICENSE.prototypical-networks"]:
        shutil.copyfile(args.src / "splits" / "vinyals" / name, args.out / "splits" / "vinyals" / name)
    for set_name in SETS:  # the packed copy must give the reader's own pixels
        real, packed = decoded(args.src, set_name, 28), decoded(args.out, set_name, 28)
        if real[0] != packed[0] or not np.array_equal(real[1], packed[1]):
            raise SystemExit(f"{set_name}: the packed images differ from the real ones at 28x28")
        log.info("%s: %d images identical to the real data at 28x28", set_name, len(real[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
