"""Fn::ImportValue of an export that does not exist fails as CloudFormation fails it.

LocalStack 4.13.1's change-set engine resolves a missing export to "nothing". Where the import
feeds an `Fn::Sub` variable map (`- Bucket: {'Fn::ImportValue': ...}`), its validator then takes
`${Bucket}` for a resource and rejects the whole change set with `Template format error:
Unresolved resource dependencies [Bucket]`, which names neither the export nor the import.
CloudFormation creates the change set and fails the stack when it runs: the resource that imports
goes CREATE_FAILED with `No export named <name> found.` and the stack rolls back.

This `on_infra_start` hook wraps the import in LocalStack's preprocessor, which every pass
inherits: while the change set is created and described, a missing export reads as a value known
only at execution (LocalStack's describer already shows it so); when it runs (the executor), the
import raises CloudFormation's message, which LocalStack records as the importing resource's
failure before it rolls the stack back.
"""

from __future__ import annotations

import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
_PATCHED = "_concert_import_value"


def missing_export_message(export_name: Any) -> str:
    return f"No export named {export_name} found."


def patch_import_value() -> bool:
    from localstack.services.cloudformation.engine.v2 import change_set_model_preproc
    from localstack.services.cloudformation.engine.v2.change_set_model import is_nothing
    from localstack.services.cloudformation.engine.v2.change_set_model_describer import (
        CHANGESET_KNOWN_AFTER_APPLY,
    )
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import (
        ChangeSetModelExecutor,
    )

    # every visitor inherits the import from the preprocessor (the transform and validator passes
    # of CreateChangeSet, the describer, the executor); the describer's override calls it
    preproc = change_set_model_preproc.ChangeSetModelPreproc
    original = preproc.visit_node_intrinsic_function_fn_import_value
    if getattr(original, _PATCHED, False):
        return False

    def visit_import_value(self: Any, node_intrinsic_function: Any) -> Any:
        node = node_intrinsic_function
        delta = original(self, node_intrinsic_function=node)
        if not is_nothing(delta.after):
            return delta
        name = self.visit(node.arguments).after  # the name, its own Fn::Sub resolved (pure)
        if not isinstance(name, str):  # a removed import (a deletion, an update dropping it)
            return delta
        if isinstance(self, ChangeSetModelExecutor):
            raise RuntimeError(missing_export_message(name))
        delta.after = CHANGESET_KNOWN_AFTER_APPLY  # decided when the change set runs, as on AWS
        return delta

    setattr(visit_import_value, _PATCHED, True)
    preproc.visit_node_intrinsic_function_fn_import_value = visit_import_value
    return True


@hooks.on_infra_start()
def concert_missing_export() -> None:
    try:
        patch_import_value()
    except Exception:  # LocalStack then rejects the change set as before (its own message)
        LOG.exception("concert: could not patch Fn::ImportValue of a missing export")
