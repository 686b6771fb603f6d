"""``fewshot-nsl episodes make|show``: write or inspect a fixed evaluation-episode file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("episodes", help="make or show a fixed evaluation-episode file")
    sub = p.add_subparsers(dest="episodes_command", metavar="ACTION", parser_class=type(p))
    sub.required = True
    make = sub.add_parser("make", help="draw seeded episodes from a split and write them (.json.gz)")
    make.add_argument("--dataset", required=True, help="mini-imagenet, omniglot, folder, synthetic")
    make.add_argument("--data-root", default=None, help="the dataset folder (default: $FEWSHOT_NSL_DATA/<dataset>)")
    make.add_argument("--split", default="test")
    make.add_argument("--way", type=int, default=5)
    make.add_argument("--shot", type=int, default=5)
    make.add_argument("--query", type=int, default=15)
    make.add_argument("--episodes", type=int, default=600)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--out", default=None, help="output file (default: the standard name in the current folder)")
    make.set_defaults(func=run_make)
    show = sub.add_parser("show", help="print a file's header and its first episode")
    show.add_argument("file")
    show.set_defaults(func=run_show)


def run_make(args: argparse.Namespace) -> int:
    from ..episodes.files import SplitLabels, episode_file_name, make_episode_file, read_episode_file
    from ..core.errors import ConfigError

    for name in ("way", "shot", "episodes"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.query < 1:
        raise ConfigError(f"--query must be >= 1, got {args.query}")
    out = Path(args.out) if args.out else Path(
        episode_file_name(args.dataset, args.split, args.way, args.shot, args.query, args.episodes, args.seed))
    labels = SplitLabels.read(args.dataset, args.split, args.data_root)
    path = make_episode_file(labels, args.way, args.shot, args.query, args.episodes, args.seed, out)
    ef = read_episode_file(path)
    print(f"wrote {path}: {ef.episodes} episodes of {args.dataset}/{args.split}, {ef.way}-way {ef.shot}-shot "
          f"{ef.query}-query, seed {ef.seed}, {len(ef.names)} distinct images, {path.stat().st_size:,} bytes, "
          f"sha256 {ef.sha256}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ..episodes.files import read_episode_file

    ef = read_episode_file(args.file)
    for key, value in ef.header().items():
        print(f"{key}: {value}")
    print(f"distinct images: {len(ef.names)}, classes: {len(ef.classes)}, sha256: {ef.sha256}")
    if ef.episode_list:
        first = ef.episode_list[0]
        print("episode 0:")
        for j, c in enumerate(first["class_ids"]):
            support = [ef.names[i] for i in first["support"][j * ef.shot:(j + 1) * ef.shot]]
            query = [ef.names[i] for i in first["query"][j * ef.query:(j + 1) * ef.query]]
            print(f"  label {j} = {ef.classes[c]}: support {', '.join(support)}; query {', '.join(query)}")
    return 0
