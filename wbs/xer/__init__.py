"""Primavera P6 XER files: reading, writing, and mapping to scheduler inputs."""

from wbs.xer.reader import XerError, XerFile, XerTable, read_xer

__all__ = ["XerError", "XerFile", "XerTable", "read_xer"]
