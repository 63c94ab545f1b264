"""The cloud_storage kata, round 1: files.

Spec: stages/cloud_storage/stage1.md. Write the bodies below, then run:

    pytest --stage 1 katas/cloud_storage
"""

from __future__ import annotations

__all__ = ["CloudStorage"]


class CloudStorage:
    """An in-memory cloud storage: file names mapped to sizes.

    Names are non-empty ``str``; sizes ``int`` (``bool`` refused) >= 0. Every
    call checks its arguments' types (TypeError), then their values
    (ValueError), before it looks anything up; a rejected call changes
    nothing. A business failure (missing file, name taken) returns False or
    None instead of raising.
    """

    def __init__(self) -> None:
        """An empty storage."""
        raise NotImplementedError("TODO(stage 1): CloudStorage.__init__")

    def add_file(self, name: str, size: int) -> bool:
        """Store a file of ``size`` (>= 0); False if ``name`` exists."""
        raise NotImplementedError("TODO(stage 1): CloudStorage.add_file")

    def get_file_size(self, name: str) -> int | None:
        """The size of the file ``name``; None if there is none."""
        raise NotImplementedError("TODO(stage 1): CloudStorage.get_file_size")

    def delete_file(self, name: str) -> int | None:
        """Remove the file ``name`` and return its size; None if there is none."""
        raise NotImplementedError("TODO(stage 1): CloudStorage.delete_file")

    def copy_file(self, source: str, target: str) -> bool:
        """Store a new file ``target`` with the size of ``source``.

        False if ``source`` is missing or ``target`` exists (so a copy onto
        itself is False).
        """
        raise NotImplementedError("TODO(stage 1): CloudStorage.copy_file")
