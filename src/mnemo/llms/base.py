"""The LLM port: what every chat model offers mnemo's services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypedDict, TypeVar

from pydantic import BaseModel

from mnemo.errors import MnemoError
from mnemo.llms.usage import Usage

T = TypeVar("T", bound=BaseModel)
V = TypeVar("V")

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    """One message of a chat-completion request, in the OpenAI wire shape."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class LLMResult(Generic[V]):
    """A model's answer and the tokens it cost, repair attempts included."""

    value: V
    usage: Usage


class LLMOutputError(MnemoError):
    """The model answered, but not with what was asked for, even after a repair attempt."""

    code = "LLM_BAD_OUTPUT"
    status = 502

    def __init__(
        self, message: str, *, details: dict[str, object] | None = None, usage: Usage = Usage()
    ) -> None:
        super().__init__(message, details=details)
        self.usage = usage  # the tokens the unusable answers still cost


class LLM(Protocol):
    """A chat model. Implementations raise only mnemo errors at this boundary:

    - `mnemo.errors.LLMUnavailableError` when the endpoint cannot be reached or keeps failing,
    - `mnemo.errors.InvalidRequestError` when the request itself is unusable (no messages,
      input longer than the model's context),
    - `LLMOutputError` when the output does not fit the schema after one repair attempt.
    """

    @property
    def model_name(self) -> str: ...

    async def complete_json(
        self, messages: Sequence[ChatMessage], schema: type[T], *, purpose: str
    ) -> LLMResult[T]:
        """Ask for a JSON object and return it validated as `schema`.

        `purpose` (extraction, consolidation, summary, chat) labels the token usage.
        """
        ...

    async def complete_text(
        self, messages: Sequence[ChatMessage], *, purpose: str, max_tokens: int | None = None
    ) -> LLMResult[str]:
        """Ask for free text, at most `max_tokens` long when given."""
        ...

    async def aclose(self) -> None:
        """Release connections; the instance must not be used afterwards."""
        ...
