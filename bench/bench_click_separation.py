r"""Can the teacher tell a clicked object from the rest of its box? The cue a click-conditioned
decoder would need, measured before building one.

    .venv/bin/python bench/bench_click_separation.py scene0000_00 scene0001_00 scene0003_00 \
        scene0005_00 scene0006_00 scene0007_00 scene0008_00 --threads 1

(the seven real training rooms: 101 objects, the README's figures).

For each real ScanNet scan named (``../shared/data/scannet_real/<name>_labeled.ply``, boxes derived
from its instances, box ids = instance ids) and each boxed object whose box also holds other points,
one positive click is placed on the object's point nearest its centroid (GT used only to place it).
Each cue scores the points inside the object's box; the figure is the area under the ROC curve
(AUC) of that score separating the object's points from the box's other points (floor, wall,
clutter, unlabelled points, other objects), 0.5 being chance:

- ``centre query``: the shipped teacher's mask logit for a query pinned on the box centre (what the
  resolver uses);
- ``click query``: the same decoder with the query pinned on the click instead (a click-conditioned
  decoder without training for it);
- ``features``: cosine similarity of the backbone's superpoint feature to the click's superpoint's;
- ``nearness``: minus the distance to the click (no network at all: what a ball around the click
  uses).

Printed per scan (mean over its objects) and pooled over all objects; the last line is
``pooled AUC centre <x> click <x> features <x> nearness <x>``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foreground import real_scenes  # noqa: E402
from shared_data import REAL_SCANS  # noqa: E402

CUES = ("centre", "click", "features", "nearness")


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for the ``positive`` points (ties count half)."""
    from scipy.stats import mannwhitneyu

    pos, neg = scores[positive], scores[~positive]
    return float(mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)))


def object_click(xyz: np.ndarray, object_points: np.ndarray) -> int:
    """The point of the object nearest its centroid (a click in the object's middle)."""
    points = xyz[object_points]
    return int(object_points[np.argmin(((points - points.mean(0)) ** 2).sum(1))])


def scan_aucs(scene, boxes, resolver) -> dict[str, list[float]]:  # noqa: ANN001
    """Per-object AUC of each cue in one scan."""
    import torch

    from beep3d.geometry.overlap import point_membership
    from beep3d.model.beep3d_model import box_tensors
    from beep3d.model.pinned_decoding import decode_pinned

    encoding = resolver.encoding_for(scene)
    context = encoding.scene
    superpoints = context.superpoints.cpu().numpy()
    membership = point_membership(scene, boxes)
    clicks = np.array([object_click(scene.xyz, np.flatnonzero(scene.instance == b.id)) for b in boxes])
    decoder = resolver.model.teacher.decoder
    with torch.no_grad():
        at_centres = decode_pinned(
            decoder, context, context.normalise(box_tensors(encoding, boxes.centers)[0])
        )
        at_clicks = decode_pinned(
            decoder,
            context,
            context.normalise(box_tensors(encoding, scene.xyz[clicks].astype(np.float64))[0]),
        )
        features = torch.nn.functional.normalize(context.superpoint_features, dim=1)
    centre_logits, click_logits = at_centres.logits.cpu().numpy(), at_clicks.logits.cpu().numpy()
    features = features.cpu().numpy()
    found: dict[str, list[float]] = {cue: [] for cue in CUES}
    for k, box in enumerate(boxes):
        inside = membership.point_index[membership.box_index == k]
        positive = scene.instance[inside] == box.id
        if positive.all() or not positive.any():
            continue
        sp = superpoints[inside]
        found["centre"].append(auc(centre_logits[k][sp], positive))
        found["click"].append(auc(click_logits[k][sp], positive))
        found["features"].append(auc(features[sp] @ features[superpoints[clicks[k]]], positive))
        found["nearness"].append(
            auc(-np.linalg.norm(scene.xyz[inside] - scene.xyz[clicks[k]], axis=1), positive)
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scans", nargs="+", help="scan names, e.g. scene0000_00")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    from beep3d.native_threads import limit_native_threads

    limit_native_threads(args.threads)
    from beep3d.defaults import DEFAULT_CHECKPOINT
    from beep3d.resolve.resolvers import get_resolver

    resolver = get_resolver("teacher", checkpoint=DEFAULT_CHECKPOINT, threads=args.threads)
    pooled: dict[str, list[float]] = {cue: [] for cue in CUES}
    print("| scan | objects | " + " | ".join(CUES) + " |")
    print("|---|---|" + "---|" * len(CUES))
    for scene, boxes in real_scenes(REAL_SCANS, args.scans):
        found = scan_aucs(scene, boxes, resolver)
        for cue in CUES:
            pooled[cue] += found[cue]
        means = " | ".join(f"{np.mean(found[cue]):.3f}" for cue in CUES)
        print(f"| {scene.name} | {len(found['centre'])} | {means} |", flush=True)
    print(
        f"| pooled | {len(pooled['centre'])} | "
        + " | ".join(f"{np.mean(pooled[c]):.3f}" for c in CUES)
        + " |"
    )
    print("pooled AUC " + " ".join(f"{cue} {np.mean(pooled[cue]):.3f}" for cue in CUES))


if __name__ == "__main__":
    main()
