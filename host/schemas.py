"""Request and response models of the /v1 API (the OpenAPI document is generated from these).

``transform``/``rehydrate`` keep OGuardAI's field names (``input``, ``safe_text``,
``session_id``, ``session_state``, ``entities[].token/type/span``, ``output``,
``restored_text``) so its clients work unchanged; everything else is additive.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _no_surrogates(v: str) -> str:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text contains unpaired surrogates (not valid Unicode)") from None
    return v


Text = Annotated[str, AfterValidator(_no_surrogates)]
PolicyRef = Annotated[str, Field(max_length=200)] | dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    model: dict[str, Any]
    names: dict[str, Any] = Field(description="the name model of the detector: loaded, and from where")
    redis: Literal["ok", "down", "not_configured"]


class DetectRequest(_In):
    text: Text = Field(description="text to scan")
    policy: PolicyRef | None = Field(None, description="policy name (from the policies dir) or an inline policy")


class Span(BaseModel):
    start: int
    end: int


class DetectResponse(BaseModel):
    findings: list[dict[str, Any]]
    prompt_security: dict[str, Any]


class TransformRequest(_In):
    input: Text
    policy: PolicyRef | None = None
    session_state: str | None = Field(None, max_length=2_000_000,
                                      description="continue an earlier session: same values keep their placeholders")


class EntityOut(BaseModel):
    token: str
    type: str
    span: Span
    action: str
    score: float


class TransformResponse(BaseModel):
    safe_text: str
    session_id: str
    session_state: str
    expires_at: int
    entities: list[EntityOut]
    prompt_security: dict[str, Any]


class RehydrateRequest(_In):
    output: Text
    session_state: str = Field(max_length=2_000_000)


class RehydrateResponse(BaseModel):
    restored_text: str
    restored: int
    unknown_placeholders: list[str]
    deleted: int
    output_protection: dict[str, Any] | None = None


class Pair(_In):
    premise: Text
    hypothesis: Text


class ScoreRequest(_In):
    pairs: list[Pair] = Field(min_length=1)


class ScoreResponse(BaseModel):
    scores: list[float]
    supported: list[bool]
    threshold: float
    model: str


class ReviewRequest(_In):
    response: Text
    facts: list[Text] | None = Field(None, description="separate facts; each is a premise of its own")
    context: Text | None = Field(None, description="one context text, split into windows that fit the model")


class Evidence(BaseModel):
    fact_index: int = Field(description="which fact (or the context, last) held the deciding passage")
    chunk: str = Field(description="the deciding passage")
    support: float
    start: int = Field(0, description="the passage's offsets in its fact")
    end: int = 0


class Claim(BaseModel):
    sentence: str
    span: Span
    support: float | None = Field(description="P(supported) at the model's operating point; null for no_claim")
    verdict: Literal["supported", "unsupported", "contradicted", "no_claim"]
    reason: str | None = Field(None, description="no_claim: why the sentence is not judged (greeting, question, ...)")
    evidence: Evidence | None
    contradiction: dict[str, Any] | None = None


class ReviewResponse(BaseModel):
    approved: bool
    coherence: float
    threshold: float
    model: str
    claims: list[Claim]


class RevokeRequest(_In):
    session_id: str | None = Field(None, max_length=200)
    session_state: str | None = Field(None, max_length=2_000_000)
    value: Text | None = Field(None, max_length=10_000, description="an entity value: rehydrates as [DELETED] in the tenant")
    tenant: str | None = Field(None, max_length=200, description=(
        "the tenant to revoke in (keys not bound to a tenant only; default: session.default_tenant)"))


class RevokeResponse(BaseModel):
    revoked: list[str]


class BatchItem(_In):
    op: Literal["detect", "transform", "rehydrate", "score", "review"]
    body: dict[str, Any]


class BatchRequest(_In):
    items: list[BatchItem] = Field(min_length=1)


class BatchResult(BaseModel):
    status: int
    body: dict[str, Any]


class BatchResponse(BaseModel):
    results: list[BatchResult]
