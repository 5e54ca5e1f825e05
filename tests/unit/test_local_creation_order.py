"""The local AWS checks a stack's readiness only after CreateStack has built every resource."""

import threading

from moto.cloudformation.models import Stack

from redtrail_devtools.moto_internals import finish_creation_before_readiness


class SlowResourceMap:
    """A resource map whose CreateStack build blocks until released, recording what happened when."""

    def __init__(self) -> None:
        self.building = threading.Event()
        self.release = threading.Event()
        self.steps: list[str] = []

    def create(self, template):
        self.building.set()
        self.release.wait(timeout=10)
        self.steps.append("created")
        return False  # a custom resource is still waiting for its answer

    def creation_complete(self):
        self.steps.append("readiness checked")
        return True


class FakeStack:
    def __init__(self) -> None:
        self.resource_map = SlowResourceMap()
        self.template_dict: dict = {}
        self.status = "CREATE_PENDING"

    def mark_creation_complete(self):
        self.status = "CREATE_COMPLETE"


def test_a_custom_resource_answer_waits_until_create_stack_has_built_everything():
    # Given the serialization, and a CreateStack still building its resources in another thread
    finish_creation_before_readiness()
    stack = FakeStack()
    creating = threading.Thread(target=Stack.create_resources, args=(stack,))
    creating.start()
    assert stack.resource_map.building.wait(timeout=5)

    # When the custom resource's answer makes moto check readiness meanwhile
    answering = threading.Thread(target=Stack.verify_readiness, args=(stack,))
    answering.start()
    answering.join(timeout=0.3)
    waited = answering.is_alive()
    stack.resource_map.release.set()
    creating.join(timeout=5)
    answering.join(timeout=5)

    # Then the check waited for the build, so it never builds a resource a second time
    assert waited
    assert stack.resource_map.steps == ["created", "readiness checked"]
    assert stack.status == "CREATE_COMPLETE"


def test_serializing_twice_wraps_once():
    # Given the serialization already installed
    finish_creation_before_readiness()
    installed = Stack.create_resources

    # When it is installed again
    finish_creation_before_readiness()

    # Then the methods are the same (no lock taken twice per call)
    assert Stack.create_resources is installed
