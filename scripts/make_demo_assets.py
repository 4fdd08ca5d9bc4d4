"""Write the bundled demo room (assets/demo/): a synthetic room from an evaluation seed.

    .venv/bin/python scripts/make_demo_assets.py

The room carries its GT labels as PLY properties (``nyu40``, ``instance``) so that ``beep3d-eval``
can score the demo export; its boxes are the GT boxes of the synthetic generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.io.box_files import save_boxes
from beep3d.io import write_ply
from beep3d.synthetic.rooms import EVAL_SEED_START, make_room

DEMO_SEED = EVAL_SEED_START + 4242  # an evaluation seed: never used for training


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "assets" / "demo"
    scene, boxes = make_room(DEMO_SEED, spacing=0.025)
    write_ply(
        out / "demo_room.ply",
        scene.xyz,
        scene.rgb,
        {"nyu40": scene.semantic.astype(np.int16), "instance": scene.instance.astype(np.int32)},
    )
    save_boxes(out / "demo_room.boxes.json", boxes, scene_name="demo_room")
    print(f"demo room: seed {DEMO_SEED}, {scene.num_points} points, {len(boxes)} boxes -> {out}")


if __name__ == "__main__":
    main()
