"""The Qt desktop application of BEEP3D annotate (installed as ``beep3d.app``; start it with ``beep3d-annotate``)."""
