"""Frame time of the 3D view vs a bare draw of the same point buffer, and time to open a 2M-point PLY.

Run under a display (Xvfb + Mesa llvmpipe on a CPU-only machine)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/bench_view.py [--sizes 500000 2000000]

Prints, per size: the full view frame (points + 30 box wireframes + handles of the selected box),
a bare frame (clear + one glDrawArrays of the same vertex buffers, nothing else), their ratio, the
frame drawn while the camera moves (first ``interactive_budget`` points of the shuffled buffer),
a colour-mode change (colour buffer rewrite) and depth picking. Then the time to open a 2M-point
PLY in the window (read + upload + first frame). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_cloud(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on the floor and walls of a 8 x 6 x 3 m room plus furniture-sized blobs."""
    rng = np.random.default_rng(seed)
    face = rng.integers(0, 6, n)
    xyz = rng.uniform([0, 0, 0], [8, 6, 3], size=(n, 3))
    xyz[face == 0, 2] = 0
    xyz[face == 1, 0] = 0
    xyz[face == 2, 1] = 6
    blobs = face >= 3
    centres = rng.uniform([1, 1, 0.4], [7, 5, 1.0], size=(30, 3))
    pick = rng.integers(0, 30, int(blobs.sum()))
    xyz[blobs] = centres[pick] + rng.normal(0, 0.25, size=(int(blobs.sum()), 3))
    rgb = (np.clip(xyz / [8, 6, 3], 0, 1) * 200 + 30).astype(np.uint8)
    return xyz.astype(np.float32), rgb


def timed_frames(draw, repeats: int) -> float:
    from OpenGL import GL

    draw()
    GL.glFinish()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        draw()
        GL.glFinish()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_size(window, n: int, repeats: int) -> None:
    from OpenGL import GL
    from PySide6.QtWidgets import QApplication

    from beep3d.app.colouring import PointLabels, point_colours
    from beep3d.geometry.boxes import Box, BoxSet

    view = window.view
    xyz, rgb = synthetic_cloud(n)
    rng = np.random.default_rng(1)
    boxes = BoxSet(
        Box(
            i,
            "chair",
            tuple(rng.uniform([1, 1, 0.4], [7, 5, 1.0])),
            (0.6, 0.6, 0.9),
            float(rng.uniform(0, 3)),
        )
        for i in range(30)
    )
    view.set_points(xyz, rgb)
    view.set_boxes(boxes, {b.id: (200, 180, 40) for b in boxes}, selected_id=3)
    view.repaint()
    QApplication.processEvents()

    view.makeCurrent()

    from beep3d.app.view import gl_matrix

    mvp = view.camera.view_projection(view.width(), view.height())

    def bare() -> None:
        # the same program and buffers as the view, with the same point size and matrix
        GL.glClearColor(0.1, 0.1, 0.1, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glUseProgram(view._program)
        GL.glUniformMatrix4fv(GL.glGetUniformLocation(view._program, "mvp"), 1, GL.GL_FALSE, gl_matrix(mvp))
        GL.glUniform1f(GL.glGetUniformLocation(view._program, "point_size"), view.point_size)
        GL.glUniform1i(GL.glGetUniformLocation(view._program, "round_points"), 0)
        GL.glBindVertexArray(view._points_vao)
        GL.glDrawArrays(GL.GL_POINTS, 0, n)

    # interleaved, so that other load on the machine hits both the same way
    full_times, bare_times = [], []
    for _ in range(repeats):
        full_times.append(timed_frames(view.paintGL, 1))
        bare_times.append(timed_frames(bare, 1))
    full, bare_time = statistics.median(full_times), statistics.median(bare_times)
    view._interacting = True
    moving = timed_frames(view.paintGL, repeats)
    view._interacting = False
    view.doneCurrent()

    labels = PointLabels(
        first_box=rng.integers(-1, 30, n).astype(np.int32),
        overlap_counts=rng.integers(0, 3, n).astype(np.int32),
        instance_ids=rng.integers(-1, 30, n).astype(np.int32),
        confidence=rng.uniform(0, 1, n).astype(np.float32),
    )
    started = time.perf_counter()
    colours = point_colours("overlap", rgb, labels)
    colour_compute = time.perf_counter() - started
    started = time.perf_counter()
    view.set_colours(colours)
    view.repaint()
    recolour_frame = time.perf_counter() - started
    picks, hits = [], 0
    for x in range(100, 900, 80):
        started = time.perf_counter()
        hits += view.pick_point(x, view.height() // 2) is not None
        picks.append(time.perf_counter() - started)
    print(
        f"{n:>9,} points | view frame {full * 1000:7.1f} ms | bare draw {bare_time * 1000:7.1f} ms | "
        f"ratio {full / bare_time:4.2f} | while moving {moving * 1000:6.1f} ms "
        f"({view.interactive_points():,} points) | colour mode: compute {colour_compute * 1000:5.0f} ms + "
        f"upload and frame {recolour_frame * 1000:5.0f} ms | pick {statistics.median(picks) * 1000:4.1f} ms ({hits}/{len(picks)} hits)"
    )


def bench_open(window, n: int) -> None:
    from PySide6.QtWidgets import QApplication

    from beep3d.io import load_scene, write_ply

    xyz, rgb = synthetic_cloud(n, seed=5)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.ply"
        write_ply(path, xyz, rgb)
        started = time.perf_counter()
        load_scene(path)
        read = time.perf_counter() - started
        started = time.perf_counter()
        window.files.open_scene(path)
        window.view.repaint()
        QApplication.processEvents()
        opened = time.perf_counter() - started
        window.live.wait_idle()
        resolved = time.perf_counter() - started
    print(
        f"open a {n:,}-point PLY: load_scene {read:.2f} s; window (read + upload + first frame) {opened:.2f} s; "
        f"first live resolution done after {resolved:.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--open-size", type=int, default=2_000_000)
    args = parser.parse_args()

    from OpenGL import GL
    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from beep3d.app.view import default_surface_format

    QSurfaceFormat.setDefaultFormat(default_surface_format())
    app = QApplication(sys.argv[:1])
    from beep3d.app.main_window import MainWindow

    window = MainWindow(interactive=False)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    window.view.makeCurrent()
    renderer = GL.glGetString(GL.GL_RENDERER).decode()
    window.view.doneCurrent()
    size = window.view.size()
    print(
        f"renderer: {renderer}; view {size.width()} x {size.height()} pixels; median of {args.repeats} frames"
    )
    for n in args.sizes:
        bench_size(window, n, args.repeats)
    if args.open_size:
        bench_open(window, args.open_size)
    window.doc.dirty = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
