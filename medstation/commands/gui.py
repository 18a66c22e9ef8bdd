"""``medstation gui [PATH]``: open the main window (also what plain ``medstation`` does)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the workstation window (default)")
    p.add_argument("path", nargs="?", help="DICOM folder or file to open on start")
    p.add_argument("--screenshot", help="save a PNG of the window after start-up and quit (for checks under Xvfb)")
    p.add_argument("--screenshot-delay", type=float, default=6.0, help="seconds to wait before the screenshot")
    p.add_argument("--tab", default="viewer", help="tab to show first: viewer, chat, notes, admin")
    p.add_argument("--quit-after", type=float, default=0.0, help="seconds after which to quit (0 = stay open)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.ui.launch import run_gui

    return run_gui(
        open_path=getattr(args, "path", None),
        screenshot=getattr(args, "screenshot", None),
        screenshot_delay=getattr(args, "screenshot_delay", 6.0),
        tab=getattr(args, "tab", "viewer"),
        quit_after=getattr(args, "quit_after", 0.0),
    )
