"""OpenAILLM against a real scripted OpenAI-compatible server; prompts and usage accounting."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from tests.helpers.fake_llm import (
    ContentReply,
    DelayReply,
    ScriptedLLMServer,
    StatusReply,
    openai_error,
    rate_limited,
    server_error,
)
from tests.helpers.servers import free_port

from mnemo.errors import ConfigurationError, InvalidRequestError, LLMUnavailableError
from mnemo.llms.base import ChatMessage, LLMOutputError
from mnemo.llms.openai import OpenAILLM
from mnemo.llms.prompts import (
    MAX_CANDIDATES,
    DecisionOutput,
    ExtractionOutput,
    FactOut,
    consolidation_messages,
    decision_schema,
    extraction_messages,
    validate_decision,
)
from mnemo.llms.usage import PURPOSES, Usage, UsageMeter
from mnemo.models import Memory, Message

KEY = "sk-test-0123456789abcdef"
MODEL = "scripted-model"
ASK: list[ChatMessage] = [
    {"role": "system", "content": "Answer in JSON with name and age."},
    {"role": "user", "content": "Describe the dog."},
]
GOOD = '{"name": "Rex", "age": 3}'


class Pet(BaseModel):
    name: str
    age: int


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(api_key=KEY, model=MODEL) as scripted:
        yield scripted


@pytest.fixture
async def llm(server: ScriptedLLMServer) -> AsyncIterator[OpenAILLM]:
    async with OpenAILLM(
        server.base_url, KEY, MODEL, timeout_s=5, max_retries=2, backoff_base_s=0.01
    ) as client:
        yield client


# -- JSON output ---------------------------------------------------------------------------


async def test_valid_json_is_parsed_from_an_openai_shaped_request(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(ContentReply(GOOD, prompt_tokens=20, completion_tokens=7))

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value == Pet(name="Rex", age=3)
    assert result.usage == Usage(20, 7, 27, 1)
    [body] = server.requests
    assert body["model"] == MODEL
    assert body["messages"] == ASK
    assert body["response_format"] == {"type": "json_object"}
    assert body["temperature"] == 0
    assert server.recorded[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.recorded[0].path == "/v1/chat/completions"


@pytest.mark.parametrize(
    "content",
    [
        f"```json\n{GOOD}\n```",
        f"```\n{GOOD}\n```",
        f"Here is the JSON you asked for:\n```json\n{GOOD}\n```\nAnything else?",
        f"Sure! {GOOD}",
        f"<think>The user wants a dog {{maybe}}.</think>\n{GOOD}",
    ],
)
async def test_fenced_or_wrapped_json_is_parsed(
    server: ScriptedLLMServer, llm: OpenAILLM, content: str
) -> None:
    server.enqueue(content)

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value == Pet(name="Rex", age=3)
    assert len(server.requests) == 1


async def test_fences_quoted_inside_a_bare_object_are_left_alone(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue('{"name": "```Rex```", "age": 3}')

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value.name == "```Rex```"


async def test_malformed_json_gets_one_repair_round(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    bad = '{"name": "Rex", "age": '
    server.enqueue(bad, GOOD)

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value == Pet(name="Rex", age=3)
    first, repair = server.requests
    assert repair["messages"][: len(ASK)] == ASK
    assert repair["messages"][len(ASK)] == {"role": "assistant", "content": bad}
    instruction = repair["messages"][-1]
    assert instruction["role"] == "user"
    assert "not valid JSON" in instruction["content"]
    assert '"age"' in instruction["content"]  # the schema is restated
    assert repair["response_format"] == {"type": "json_object"}
    assert result.usage.calls == 2


async def test_malformed_twice_raises_llm_output_error(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue("I am not JSON", "still not JSON")

    with pytest.raises(LLMOutputError) as caught:
        await llm.complete_json(ASK, Pet, purpose="consolidation")

    assert caught.value.status == 502
    assert caught.value.code == "LLM_BAD_OUTPUT"
    assert "consolidation" in caught.value.message
    assert len(server.requests) == 2
    assert llm.meter.usage("consolidation").calls == 2  # both answers were paid for


async def test_schema_invalid_json_is_repaired(server: ScriptedLLMServer, llm: OpenAILLM) -> None:
    server.enqueue('{"name": "Rex", "age": "three"}', GOOD)

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value.age == 3
    instruction = server.requests[1]["messages"][-1]["content"]
    assert "does not match the schema" in instruction
    assert "age" in instruction


async def test_a_null_content_is_repaired(server: ScriptedLLMServer, llm: OpenAILLM) -> None:
    server.enqueue(ContentReply(None), GOOD)

    result = await llm.complete_json(ASK, Pet, purpose="extraction")

    assert result.value.name == "Rex"
    assert server.requests[1]["messages"][len(ASK)] == {"role": "assistant", "content": ""}


async def test_servers_without_json_mode_are_asked_again_without_it(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.supports_response_format = False
    server.enqueue(GOOD, GOOD)

    await llm.complete_json(ASK, Pet, purpose="extraction")
    await llm.complete_json(ASK, Pet, purpose="extraction")

    rejected, accepted, later = server.requests
    assert "response_format" in rejected
    assert "response_format" not in accepted
    assert "response_format" not in later  # remembered: no second 400
    assert llm.meter.usage("extraction").calls == 2


# -- retries and failures ------------------------------------------------------------------


async def test_429_waits_for_retry_after_then_succeeds(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(rate_limited("1"), GOOD)

    started = time.monotonic()
    result = await llm.complete_json(ASK, Pet, purpose="extraction")
    elapsed = time.monotonic() - started

    assert result.value.name == "Rex"
    assert len(server.requests) == 2  # one retry
    assert elapsed >= 0.95
    assert result.usage.calls == 1  # the 429 cost nothing


async def test_retry_after_is_capped(server: ScriptedLLMServer) -> None:
    server.enqueue(rate_limited("3600"), StatusReply(503, "busy", {"retry-after-ms": "20"}), GOOD)

    async with OpenAILLM(server.base_url, KEY, MODEL, retry_after_cap_s=0.05) as llm:
        started = time.monotonic()
        await llm.complete_json(ASK, Pet, purpose="extraction")

    assert time.monotonic() - started < 2
    assert len(server.requests) == 3


async def test_persistent_5xx_raises_unavailable_after_max_retries(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(server_error(500), server_error(502), server_error(500))

    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete_json(ASK, Pet, purpose="extraction")

    assert len(server.requests) == 3  # 1 + max_retries
    assert caught.value.status == 503
    assert "3 attempt(s)" in caught.value.message
    assert "HTTP 500" in caught.value.message
    assert llm.meter.usage("extraction").calls == 0


async def test_timeout_raises_unavailable(server: ScriptedLLMServer) -> None:
    server.enqueue(DelayReply(5, GOOD), DelayReply(5, GOOD))

    async with OpenAILLM(server.base_url, KEY, MODEL, timeout_s=0.2, max_retries=1) as llm:
        started = time.monotonic()
        with pytest.raises(LLMUnavailableError) as caught:
            await llm.complete_json(ASK, Pet, purpose="extraction")

    assert time.monotonic() - started < 3
    assert "no answer within 0.2 s" in caught.value.message
    assert len(server.requests) == 2


async def test_connection_refused_raises_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"

    async with OpenAILLM(url, KEY, MODEL, max_retries=1, backoff_base_s=0.01) as llm:
        with pytest.raises(LLMUnavailableError) as caught:
            await llm.complete_text(ASK, purpose="chat")

    assert "connection failed" in caught.value.message
    assert caught.value.details["attempts"] == 2


async def test_client_errors_are_not_retried_and_never_leak_the_key(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(openai_error(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key"))

    with pytest.raises(LLMUnavailableError) as caught:
        await llm.complete_json(ASK, Pet, purpose="extraction")

    assert len(server.requests) == 1
    assert "HTTP 401" in caught.value.message
    assert "check the LLM API key" in caught.value.message
    assert KEY not in caught.value.message
    assert KEY not in json.dumps(caught.value.details)
    assert KEY not in str(caught.value)


async def test_a_wrong_key_is_rejected_by_the_server(server: ScriptedLLMServer) -> None:
    async with OpenAILLM(server.base_url, "sk-wrong", MODEL) as llm:
        with pytest.raises(LLMUnavailableError, match="HTTP 401"):
            await llm.complete_text(ASK, purpose="chat")
    assert server.remaining == 0


async def test_exhausted_quota_is_not_retried(server: ScriptedLLMServer, llm: OpenAILLM) -> None:
    server.enqueue(rate_limited("1", code="insufficient_quota"), GOOD)

    with pytest.raises(LLMUnavailableError, match="HTTP 429"):
        await llm.complete_json(ASK, Pet, purpose="extraction")

    assert len(server.requests) == 1


async def test_too_long_input_is_an_invalid_request(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(
        openai_error(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9000 tokens.",
            code="context_length_exceeded",
            param="messages",
        )
    )

    with pytest.raises(InvalidRequestError, match="too long"):
        await llm.complete_json(ASK, Pet, purpose="extraction")


async def test_no_messages_is_an_invalid_request(llm: OpenAILLM) -> None:
    with pytest.raises(InvalidRequestError):
        await llm.complete_text([], purpose="chat")


@pytest.mark.parametrize(
    ("base_url", "kwargs"),
    [
        ("ftp://example.com/v1", {}),
        ("not a url", {}),
        ("http://127.0.0.1:1/v1", {"max_retries": -1}),
        ("http://127.0.0.1:1/v1", {"timeout_s": 0}),
    ],
)
def test_bad_settings_refuse_to_start(base_url: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        OpenAILLM(base_url, None, MODEL, **kwargs)


# -- text, dialects ------------------------------------------------------------------------


async def test_complete_text_sends_max_tokens_and_drops_thinking(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue("<think>short, please</think>\n\nThe user owns a dog named Rex.\n")

    result = await llm.complete_text(ASK, purpose="summary", max_tokens=64)

    assert result.value == "The user owns a dog named Rex."
    [body] = server.requests
    assert body["max_tokens"] == 64
    assert "response_format" not in body
    assert llm.meter.usage("summary").calls == 1


async def test_max_tokens_is_renamed_for_models_that_reject_it(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    def responder(body: dict[str, Any]) -> StatusReply | str:
        if "max_tokens" in body:
            return openai_error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                code="unsupported_parameter",
                param="max_tokens",
            )
        return "done"

    server.responder = responder

    result = await llm.complete_text(ASK, purpose="chat", max_tokens=10)

    assert result.value == "done"
    rejected, accepted = server.requests
    assert rejected["max_tokens"] == 10
    assert accepted["max_completion_tokens"] == 10
    assert "max_tokens" not in accepted


async def test_azure_style_sends_api_key_header_and_api_version(
    server: ScriptedLLMServer,
) -> None:
    server.enqueue("hello")

    async with OpenAILLM(server.base_url, KEY, MODEL, azure=True, api_version="2024-10-21") as llm:
        await llm.complete_text(ASK, purpose="chat")

    [request] = server.recorded
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    assert request.query == {"api-version": ["2024-10-21"]}


async def test_missing_usage_still_counts_the_call(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(ContentReply("hi", include_usage=False))

    result = await llm.complete_text(ASK, purpose="chat")

    assert result.usage == Usage(calls=1)


# -- usage -----------------------------------------------------------------------------------


async def test_usage_accumulates_across_calls_and_repairs(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    server.enqueue(
        ContentReply(GOOD, prompt_tokens=100, completion_tokens=10),
        ContentReply("oops", prompt_tokens=50, completion_tokens=5),
        ContentReply(GOOD, prompt_tokens=70, completion_tokens=8),
        ContentReply("fine", prompt_tokens=30, completion_tokens=2),
    )

    first = await llm.complete_json(ASK, Pet, purpose="extraction")
    repaired = await llm.complete_json(ASK, Pet, purpose="extraction")
    await llm.complete_text(ASK, purpose="consolidation")

    assert first.usage == Usage(100, 10, 110, 1)
    assert repaired.usage == Usage(120, 13, 133, 2)
    snapshot = llm.meter.snapshot()
    assert snapshot["extraction"] == {
        "prompt_tokens": 220,
        "completion_tokens": 23,
        "total_tokens": 243,
        "calls": 3,
    }
    assert snapshot["consolidation"]["total_tokens"] == 32
    assert snapshot["summary"]["calls"] == 0
    assert llm.meter.total() == Usage(250, 25, 275, 4)


async def test_a_shared_meter_collects_from_several_adapters(server: ScriptedLLMServer) -> None:
    meter = UsageMeter()
    server.enqueue(ContentReply("a", 1, 1), ContentReply("b", 2, 2))

    async with (
        OpenAILLM(server.base_url, KEY, MODEL, meter=meter) as one,
        OpenAILLM(server.base_url, KEY, MODEL, meter=meter) as two,
    ):
        await one.complete_text(ASK, purpose="chat")
        await two.complete_text(ASK, purpose="chat")

    assert meter.usage("chat") == Usage(3, 3, 6, 2)


def test_usage_meter_is_thread_safe() -> None:
    meter = UsageMeter()
    one = Usage(2, 1, 3, 1)

    def record() -> None:
        for _ in range(2000):
            meter.record("extraction", one)

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert meter.usage("extraction") == Usage(32000, 16000, 48000, 16000)
    assert set(meter.snapshot()) == set(PURPOSES)


def test_usage_of_a_call_tolerates_odd_servers() -> None:
    assert Usage.of_call({"prompt_tokens": 5, "completion_tokens": 2}) == Usage(5, 2, 7, 1)
    assert Usage.of_call({"prompt_tokens": None, "total_tokens": True}) == Usage(calls=1)
    assert Usage.of_call(None) == Usage(calls=1)
    assert Usage(1, 2, 3, 1) + Usage(10, 20, 30, 2) == Usage(11, 22, 33, 3)


# -- prompts and decisions -----------------------------------------------------------------


def _decision(event: str, target: int | None = None, text: str | None = None) -> DecisionOutput:
    return DecisionOutput.model_validate({"event": event, "target": target, "text": text})


@pytest.mark.parametrize(
    ("event", "target", "text", "n", "valid"),
    [
        ("ADD", None, None, 0, True),
        ("ADD", None, "User likes tea.", 3, True),
        ("ADD", 0, None, 3, False),
        ("UPDATE", 1, "User lives in Paris.", 3, True),
        ("UPDATE", None, "User lives in Paris.", 3, False),
        ("UPDATE", 3, "User lives in Paris.", 3, False),
        ("UPDATE", -1, "User lives in Paris.", 3, False),
        ("UPDATE", 0, None, 3, False),
        ("UPDATE", 0, "   ", 3, False),
        ("UPDATE", 0, "User lives in Paris.", 0, False),
        ("DELETE", 2, None, 3, True),
        ("DELETE", None, None, 3, False),
        ("DELETE", 5, None, 3, False),
        ("NOOP", None, None, 0, True),
        ("NOOP", 1, None, 3, True),
        ("NOOP", 9, None, 3, False),
    ],
)
def test_validate_decision(
    event: str, target: int | None, text: str | None, n: int, valid: bool
) -> None:
    decision = _decision(event, target, text)
    if valid:
        validate_decision(decision, n)
    else:
        with pytest.raises(ValueError):
            validate_decision(decision, n)


def test_decision_output_rejects_nonsense() -> None:
    assert _decision("update", 0, "x").event == "UPDATE"
    for bad in (
        {"event": "MERGE"},
        {"event": "ADD", "target": True},
        {"event": "UPDATE", "target": "one"},
    ):
        with pytest.raises(ValueError):
            DecisionOutput.model_validate(bad)


def _candidates(count: int) -> list[Memory]:
    created = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    texts = ["User lives in Berlin.", "User has a dog named Rex.", "User likes green tea."]
    return [
        Memory(id=str(uuid.uuid4()), namespace="ns", text=texts[i % 3], created_at=created)
        for i in range(count)
    ]


async def test_consolidation_prompt_shows_only_small_integer_ids(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    candidates = _candidates(3)
    messages = consolidation_messages("User moved to Paris.", candidates, today=date(2024, 6, 1))
    server.enqueue(
        '{"event": "UPDATE", "target": 0, "text": "User lives in Paris.", "reason": "moved"}'
    )

    result = await llm.complete_json(messages, decision_schema(3), purpose="consolidation")

    raw = server.recorded[0].raw.decode()
    for memory in candidates:
        assert memory.id not in raw
        assert memory.id.replace("-", "") not in raw
    prompt = server.requests[0]["messages"][1]["content"]
    assert [json.loads(line)["id"] for line in prompt.splitlines() if line.startswith('{"id"')] == [
        0,
        1,
        2,
    ]
    assert "User moved to Paris." in prompt
    assert "2024-06-01" in prompt
    assert result.value.event == "UPDATE"
    assert candidates[result.value.target or 0].text == "User lives in Berlin."


async def test_an_out_of_range_target_goes_through_the_repair_round(
    server: ScriptedLLMServer, llm: OpenAILLM
) -> None:
    messages = consolidation_messages(
        "User has no dog any more.", _candidates(2), today=date.today()
    )
    server.enqueue(
        '{"event": "DELETE", "target": 7, "text": null, "reason": "gone"}',
        '{"event": "DELETE", "target": 1, "text": null, "reason": "gone"}',
    )

    result = await llm.complete_json(messages, decision_schema(2), purpose="consolidation")

    assert result.value.target == 1
    assert (
        "target 7 is not one of the memories shown (0..1)"
        in server.requests[1]["messages"][-1]["content"]
    )


def test_consolidation_prompt_limits() -> None:
    assert (
        "(none)" in consolidation_messages("User likes tea.", [], today=date.today())[1]["content"]
    )
    with pytest.raises(ValueError):
        consolidation_messages(
            "User likes tea.", _candidates(MAX_CANDIDATES + 1), today=date.today()
        )
    with pytest.raises(ValueError):
        consolidation_messages("  ", [], today=date.today())


async def test_extraction_prompt_and_output(server: ScriptedLLMServer, llm: OpenAILLM) -> None:
    sent = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)
    conversation = [
        Message(
            id="msg-1",
            role="user",
            content="My sister Anna flew to Lyon yesterday.",
            created_at=sent,
        ),
        Message(id="msg-2", role="assistant", content="Nice! Say hi to her.", created_at=sent),
    ]
    messages = extraction_messages(conversation, today=date(2024, 5, 10))
    answer = {
        "facts": [
            {
                "text": "User's sister Anna flew to Lyon on 2024-05-02.",
                "memory_type": "Episodic",
                "topics": ["Family", "travel", "family"],
                "entities": ["Anna", "Lyon"],
                "importance": 0.7,
                "event_date": "2024-05-02T00:00:00Z",
                "source_message_ids": ["msg-1"],
            }
        ]
    }
    server.enqueue(json.dumps(answer))

    result = await llm.complete_json(messages, ExtractionOutput, purpose="extraction")

    [fact] = result.value.facts
    assert fact.memory_type == "episodic"
    assert fact.topics == ["family", "travel"]
    assert fact.event_date == "2024-05-02"
    prompt = server.requests[0]["messages"][1]["content"]
    assert "Current date: 2024-05-10 (Friday)" in prompt
    assert '"id": "msg-1"' in prompt
    assert "2024-05-03T09:30:00+00:00" in prompt
    assert '"weekday": "Friday"' in prompt
    assert "User" in server.requests[0]["messages"][0]["content"]


@pytest.mark.parametrize(
    "fact",
    [
        {"text": ""},
        {"text": "User likes tea.", "importance": 7},
        {"text": "User likes tea.", "memory_type": "message"},
        {"text": "User went home.", "event_date": "last week"},
    ],
)
def test_fact_schema_rejects_what_cannot_be_stored(fact: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FactOut.model_validate(fact)


def test_extraction_output_requires_the_facts_key() -> None:
    assert ExtractionOutput.model_validate({"facts": []}).facts == []
    with pytest.raises(ValueError):
        ExtractionOutput.model_validate({"memories": []})


# -- the fake server itself ----------------------------------------------------------------


def test_scripted_server_speaks_the_openai_wire_format(server: ScriptedLLMServer) -> None:
    server.enqueue(ContentReply("hi", prompt_tokens=3, completion_tokens=1))
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        models = client.get("/models").json()
        no_json_word = client.post(
            "/chat/completions",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": {"type": "json_object"},
            },
        )
        ok = client.post(
            "/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
        ).json()
        missing_model = client.post("/chat/completions", json={"messages": []})

    assert models["object"] == "list" and models["data"][0]["id"] == MODEL
    assert no_json_word.status_code == 400
    assert no_json_word.json()["error"]["param"] == "messages"
    assert ok["object"] == "chat.completion"
    assert ok["choices"][0]["message"] == {"role": "assistant", "content": "hi", "refusal": None}
    assert ok["choices"][0]["finish_reason"] == "stop"
    assert ok["usage"]["total_tokens"] == 4
    assert missing_model.status_code == 400
