"""Scoring: support per pair (``/v1/score``) and per-claim review of an answer (``/v1/review``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from haltguard.host import schemas as S
from haltguard.host.auth import Principal
from haltguard.host.deps import get_state, scoped
from haltguard.host.operations import op_review, op_score
from haltguard.host.state import HostState

router = APIRouter(tags=["scoring"])


@router.post("/v1/score", response_model=S.ScoreResponse)
async def score(req: S.ScoreRequest, principal: Principal = scoped("score"),
                state: HostState = Depends(get_state)) -> dict[str, Any]:
    """P(supported) for each premise/hypothesis pair (long premises are windowed, the best window counts)."""
    return await op_score(state, principal, req)


@router.post("/v1/review", response_model=S.ReviewResponse)
async def review(req: S.ReviewRequest, principal: Principal = scoped("review"),
                 state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Approve or reject a finished response; per-sentence verdicts with their evidence."""
    return await op_review(state, principal, req)
