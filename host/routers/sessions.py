"""Sessions: revoking a sealed session or an entity value."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from haltguard.host import schemas as S
from haltguard.host.audit import text_digest
from haltguard.host.auth import Principal
from haltguard.host.deps import get_state, scoped
from haltguard.host.errors import ApiError
from haltguard.host.state import HostState

router = APIRouter(tags=["pii"])


@router.post("/v1/sessions/revoke", response_model=S.RevokeResponse)
async def revoke(req: S.RevokeRequest, principal: Principal = scoped("admin"),
                 state: HostState = Depends(get_state)) -> dict[str, Any]:
    """Revoke a session (by id or blob) and/or an entity value (it rehydrates as [DELETED]) — in one tenant.

    A key bound to a tenant revokes in its own tenant only; an unbound admin key names the tenant
    (``tenant``, default: ``session.default_tenant``).
    """
    if req.tenant is not None and principal.tenant is not None and req.tenant != principal.tenant:
        raise ApiError(403, "wrong_tenant", "this key may only revoke in its own tenant")
    tenant = principal.tenant or req.tenant or state.config.session.default_tenant
    done: list[str] = []
    sid = req.session_id
    if req.session_state:
        sid = (await state.open(req.session_state, tenant)).session_id
    if sid:
        await state.revoke_session(tenant, sid)
        state.metrics.revocations.labels("session").inc()
        done.append("session")
    if req.value:
        await state.revoke_value(tenant, req.value)
        state.metrics.revocations.labels("value").inc()
        done.append("value")
    if not done:
        raise ApiError(422, "nothing_to_revoke", "give session_id, session_state or value")
    state.audit_write("revoke", principal, kinds=done, tenant_revoked=tenant, session=text_digest(sid) if sid else None)
    return {"revoked": done}
