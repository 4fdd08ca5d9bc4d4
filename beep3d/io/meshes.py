"""Triangle meshes: GLB and glTF (through trimesh), OBJ (:mod:`beep3d.io.obj`), OFF (:mod:`beep3d.io.off`).

The mesh's vertices become the Scene's points, in the file's vertex order, and its triangles the
Scene's faces (polygons are split into triangles as fans); vertex colours are kept when the file has
them. A GLB / glTF scene of several meshes is flattened with each node's transform applied.

Which library reads which format was measured on a 979k-vertex, 1.96M-triangle mesh with vertex
colours, on small files with quads, and on damaged files: OBJ Open3D 4.2 s / trimesh 4.5 s (7.7 s
and more on the 2-core machine later), but Open3D (through ASSIMP) drops every polygon that is not a
triangle and renumbers the vertices, and trimesh is slow, so the project reads OBJ itself (compiled,
see :mod:`beep3d.io.obj`); GLB Open3D could not read the file it had written itself, trimesh 1.0 s;
OFF Open3D 2.2 s, but it crashed the process on damaged files, so the project reads OFF itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beep3d.errors import Beep3dError
from beep3d.io.obj import read_obj
from beep3d.io.off import read_off
from beep3d.io.report import LoadReport, NanPolicy, assemble_scene
from beep3d.scene import Scene

__all__ = ["MESH_SUFFIXES", "read_mesh_scene"]

MESH_SUFFIXES = (".obj", ".off", ".glb", ".gltf")


def _trimesh_mesh(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    import trimesh

    try:
        # maintain_order: the vertices stay the file's, in its order (per-vertex exports line up)
        loaded = trimesh.load(str(path), force="mesh", process=False, maintain_order=True)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many types for damaged files
        raise Beep3dError(
            f"{path}: the {path.suffix} file could not be read ({type(exc).__name__}: {exc}); it is damaged "
            "or not a mesh - export it again"
        ) from None
    if not isinstance(loaded, trimesh.Trimesh):
        raise Beep3dError(f"{path}: the file holds no triangle mesh; export the scan as a mesh")
    colours = None
    if loaded.visual.kind == "vertex":
        colours = np.asarray(loaded.visual.vertex_colors)[:, :3]
    return np.asarray(loaded.vertices), np.asarray(loaded.faces, dtype=np.int64), colours


def read_mesh_scene(path: Path, report: LoadReport, nan_policy: NanPolicy = "drop") -> Scene:
    """Read an OBJ, OFF, GLB or glTF mesh (see the module docstring).

    Raises
    ------
    Beep3dError
        The file is damaged, not a mesh, or has no vertices.
    """
    suffix = path.suffix.lower()
    if suffix == ".off":
        with open(path, "rb") as handle:
            first = handle.read(4)
        if not first.lstrip().upper().startswith((b"OFF", b"COFF", b"NOFF", b"CNOF", b"STOF", b"4OFF")):
            raise Beep3dError(f"{path}: not an OFF file (it does not start with 'OFF'); choose an .off mesh")
    if suffix == ".glb":
        with open(path, "rb") as handle:
            if handle.read(4) != b"glTF":
                raise Beep3dError(
                    f"{path}: not a GLB file (it does not start with 'glTF'); choose a .glb mesh"
                )
    if suffix == ".obj":
        vertices, faces, colours, notes = read_obj(path)
        report.notes.extend(notes)
    else:
        vertices, faces, colours = (read_off if suffix == ".off" else _trimesh_mesh)(path)
    if len(vertices) == 0:
        raise Beep3dError(
            f"{path}: no vertices could be read; the {suffix} file is damaged, empty or not a mesh - "
            "export it again"
        )
    if suffix in (".glb", ".gltf"):  # glTF positions are 32-bit floats (trimesh hands them over as 64-bit)
        vertices = np.asarray(vertices, dtype=np.float32)
    return assemble_scene(path, report, nan_policy, vertices, colours, faces=faces if len(faces) else None)
