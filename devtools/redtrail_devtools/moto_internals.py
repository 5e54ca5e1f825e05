"""The two places where the dev tools reach into moto's internals, and why (checked against moto 5.2).

* ``seed_public_parameters``: the template reads AWS-published SSM parameters (``/aws/service/...``, the
  Powertools layer's ARN). moto knows few of them and refuses writes under ``/aws/`` through the API, so
  they go straight into the embedded server's store.
* ``finish_creation_before_readiness``: moto builds a stack's resources lazily, inside CreateStack; a custom
  resource's answer arriving meanwhile makes it build some a second time (two tables). The two steps are
  serialized here, as CloudFormation itself never interleaves them.

Both run in the process of the embedded server (``emulator.moto_server``), which is this one.
"""

import threading
from datetime import datetime
from typing import Any

from redtrail_devtools.emulator import ACCOUNT


def seed_public_parameters(template: dict[str, Any], region: str) -> None:
    """Put the AWS-published SSM parameters the template reads (e.g. a layer ARN) into the local AWS.

    AWS publishes these under ``/aws/service/``; moto has few of them and refuses writes there through
    the API, so they go straight into the embedded server's store. The value is a placeholder: the local
    stand-in runs the handler in this process, with this package's own dependencies.
    """
    from moto.ssm.models import Parameter, ssm_backends

    store = ssm_backends[ACCOUNT][region]
    for parameter in template.get("Parameters", {}).values():
        name = str(parameter.get("Default", ""))
        if not parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value") or not name.startswith("/aws/"):
            continue
        if store._parameters[name]:
            continue
        placeholder = f"arn:aws:lambda:{region}:{ACCOUNT}:layer:redtrail-local-placeholder:1"
        store._parameters[name].append(
            Parameter(  # type: ignore[abstract]
                account_id=ACCOUNT,
                name=name,
                value=placeholder,
                parameter_type="String",
                description="placeholder for an AWS-published parameter (redtrail local)",
                allowed_pattern=None,
                keyid=None,
                last_modified_date=datetime.now(),
                version=1,
                data_type="text",
            )
        )


_CREATION = threading.RLock()


def finish_creation_before_readiness() -> None:
    """Make moto check a stack's readiness only after its CreateStack has built every resource.

    moto builds resources lazily, in the CreateStack request. A custom resource's answer (ours, below)
    can arrive while that request is still building; moto then checks readiness by walking the template,
    and builds the resources not built yet a second time, from the other thread: two tables, one in the
    function's environment and one in the outputs. CloudFormation itself never does that, so the two
    steps are serialized here, in the embedded server's process.
    """
    from moto.cloudformation.models import Stack

    if getattr(Stack, "_redtrail_serialized", False):
        return
    create_resources, verify_readiness = Stack.create_resources, Stack.verify_readiness

    def create_serialized(stack: Stack) -> None:
        with _CREATION:
            create_resources(stack)

    def verify_serialized(stack: Stack) -> None:
        with _CREATION:
            verify_readiness(stack)

    setattr(Stack, "create_resources", create_serialized)  # noqa: B010 (moto's method, replaced on purpose)
    setattr(Stack, "verify_readiness", verify_serialized)  # noqa: B010
    setattr(Stack, "_redtrail_serialized", True)  # noqa: B010
