"""The teacher as an exponential moving average of the student (BEEP3D appendix A1).

Parameters and floating-point buffers (BatchNorm running mean and variance) are averaged with the
same decay; integer buffers (BatchNorm's batch counter) are copied from the student.
"""

from __future__ import annotations

import torch
from torch import nn


def ema_decay(step: int, alpha: float) -> float:
    """Eq. A1: alpha_t = min(1 - 1 / (t + 1), alpha): 0 at step 0, 0.5 at step 1, then up to alpha."""
    return min(1.0 - 1.0 / (step + 1), alpha)


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, decay: float) -> None:
    """teacher <- decay * teacher + (1 - decay) * student, parameter by parameter and buffer by buffer."""
    student_state = dict(student.named_parameters())
    for name, teacher_param in teacher.named_parameters():
        teacher_param.lerp_(student_state[name].detach(), 1.0 - decay)
    student_buffers = dict(student.named_buffers())
    for name, teacher_buffer in teacher.named_buffers():
        source = student_buffers[name]
        if teacher_buffer.is_floating_point():
            teacher_buffer.lerp_(source, 1.0 - decay)
        else:
            teacher_buffer.copy_(source)


@torch.no_grad()
def copy_weights(teacher: nn.Module, student: nn.Module) -> None:
    """teacher <- student (self-training ablation, and the start of training)."""
    ema_update(teacher, student, 0.0)
