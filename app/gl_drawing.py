"""OpenGL pieces of the 3D view: the point shaders, program compilation, matrices, line batches."""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL
from PySide6.QtGui import QSurfaceFormat

VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
layout(location = 1) in vec3 colour;
uniform mat4 mvp;
uniform float point_size;
uniform vec3 clip_lo;
uniform vec3 clip_hi;
out vec3 v_colour;
void main() {
    gl_Position = mvp * vec4(position, 1.0);
    if (any(lessThan(position, clip_lo)) || any(greaterThan(position, clip_hi))) {
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // clipped away: outside the view volume
    }
    gl_PointSize = point_size;
    v_colour = colour;
}
"""

FRAGMENT_SHADER = """
#version 330 core
in vec3 v_colour;
uniform int round_points;
out vec4 frag_colour;
void main() {
    if (round_points == 1) {
        vec2 d = gl_PointCoord - vec2(0.5);
        if (dot(d, d) > 0.25) discard;
    }
    frag_colour = vec4(v_colour, 1.0);
}
"""


def default_surface_format() -> QSurfaceFormat:
    """OpenGL 3.3 core profile with a 24-bit depth buffer (set before creating the application)."""
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setDepthBufferSize(24)
    fmt.setSamples(0)
    fmt.setSwapInterval(0)
    return fmt


def compile_program(vertex_source: str, fragment_source: str) -> int:
    """Compile and link a shader program; raises RuntimeError with the driver's log."""
    program = GL.glCreateProgram()
    shaders = []
    for kind, source in ((GL.GL_VERTEX_SHADER, vertex_source), (GL.GL_FRAGMENT_SHADER, fragment_source)):
        shader = GL.glCreateShader(kind)
        GL.glShaderSource(shader, source)
        GL.glCompileShader(shader)
        if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
            raise RuntimeError(GL.glGetShaderInfoLog(shader).decode(errors="replace"))
        GL.glAttachShader(program, shader)
        shaders.append(shader)
    GL.glLinkProgram(program)
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        raise RuntimeError(GL.glGetProgramInfoLog(program).decode(errors="replace"))
    for shader in shaders:
        GL.glDeleteShader(shader)
    return program


def gl_matrix(m: np.ndarray) -> np.ndarray:
    """A (4, 4) matrix as float32 in column-major order for ``glUniformMatrix4fv``."""
    return np.ascontiguousarray(np.asarray(m, dtype=np.float32).T)


class LineBatch:
    """A small dynamic vertex buffer of (position, colour) float32 vertices."""

    def __init__(self) -> None:
        self.vao = GL.glGenVertexArrays(1)
        self.vbo = GL.glGenBuffers(1)
        self.count = 0
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 24, ctypes.c_void_p(0))
        GL.glEnableVertexAttribArray(1)
        GL.glVertexAttribPointer(1, 3, GL.GL_FLOAT, GL.GL_FALSE, 24, ctypes.c_void_p(12))
        GL.glBindVertexArray(0)

    def upload(self, vertices: np.ndarray) -> None:
        data = np.ascontiguousarray(vertices, dtype=np.float32).reshape(-1, 6)
        self.count = len(data)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferData(
            GL.GL_ARRAY_BUFFER, max(data.nbytes, 24), data if len(data) else None, GL.GL_DYNAMIC_DRAW
        )

    def draw(self, mode: int) -> None:
        if self.count:
            GL.glBindVertexArray(self.vao)
            GL.glDrawArrays(mode, 0, self.count)
