"""The public names each stage of the cloud_storage kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {
        "CloudStorage": frozenset(
            {"__init__", "add_file", "get_file_size", "delete_file", "copy_file"}
        )
    },
    2: {"CloudStorage": frozenset({"find_files", "largest_files"})},
    3: {"CloudStorage": frozenset({"add_user", "add_file_by", "update_capacity", "merge_user"})},
    4: {"CloudStorage": frozenset({"backup_user", "restore_user"})},
}
