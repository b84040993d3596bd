"""The API's resources, one per module, each written once for both clients."""

from mnemo_client.resources.memories import MemoriesResource
from mnemo_client.resources.sessions import SessionsResource
from mnemo_client.resources.tasks import TasksResource
from mnemo_client.resources.webhooks import WebhooksResource
from mnemo_client.resources.working_memory import WorkingMemoryResource

__all__ = [
    "MemoriesResource",
    "SessionsResource",
    "TasksResource",
    "WebhooksResource",
    "WorkingMemoryResource",
]
