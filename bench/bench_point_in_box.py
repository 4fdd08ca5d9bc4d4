"""Point-in-box membership speed: N points x K yaw-oriented boxes (prints figures, no pass/fail).

.venv/bin/python bench/bench_point_in_box.py [--points 1000000] [--boxes 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from beep3d.geometry.boxes import Box, BoxSet, PointIndex
from beep3d.geometry.overlap import OverlapAnalysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--boxes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # a 10 m x 8 m x 3 m room; boxes the size of furniture, some overlapping
    xyz = (rng.random((args.points, 3)) * [10, 8, 3]).astype(np.float32)
    boxes = BoxSet(
        Box(i, "chair", rng.random(3) * [10, 8, 1.5], rng.uniform(0.3, 2.0, 3), rng.uniform(-np.pi, np.pi))
        for i in range(args.boxes)
    )

    def timed(fn) -> tuple[float, object]:
        times, result = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times)), result

    t_index, index = timed(lambda: PointIndex(xyz))
    t_member, membership = timed(lambda: boxes.membership(xyz, index))
    t_cold, _ = timed(lambda: boxes.membership(xyz))
    t_analysis, analysis = timed(lambda: OverlapAnalysis.from_membership(membership))
    one = BoxSet([boxes[0]])
    t_one, _ = timed(lambda: one.membership(xyz, index))
    print(f"points {args.points:,}  boxes {args.boxes}  (median of {args.repeat})")
    print(f"  build point index (xy grid)        {t_index * 1000:8.1f} ms")
    print(f"  membership, index reused           {t_member * 1000:8.1f} ms")
    print(f"  membership incl. index             {t_cold * 1000:8.1f} ms")
    print(f"  overlap analysis                   {t_analysis * 1000:8.1f} ms")
    print(f"  one box, index reused              {t_one * 1000:8.1f} ms")
    print(f"  points in >= 1 box {int((analysis.counts >= 1).sum()):,}, in >= 2 boxes {analysis.num_multi:,}")


if __name__ == "__main__":
    main()
