"""Dependencies for routes: the app's services and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from mnemo.models import Principal
from mnemo.wiring import Services

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str | None, Security(_api_key_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    presented = api_key or (bearer.credentials if bearer else None)
    principal = await services.authenticator.authenticate(presented)
    request.state.principal = principal
    if services.rate_limiter is not None:
        request.state.rate_limit = await services.rate_limiter.hit(principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
