"""The route table's types and the lookup of a route by path and method.

Every path of the API is static (no path parameters), so routes are looked
up by exact path in a dict.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from frontend_fn.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from frontend_fn.dependencies import Dependencies
    from frontend_fn.responses import ApiResponse
    from frontend_fn.tokens import Caller


@dataclass
class Request:
    method: str
    # The route's path, as listed in the API contract, e.g. "/survey/create".
    path: str
    # Case-insensitive mapping of header name to value.
    headers: Mapping[str, str]
    query: Mapping[str, str]
    raw_body: bytes | None
    request_id: str
    # Parsed JSON object body, set for routes that take a body.
    body: dict[str, Any] | None = None
    # Set for routes that require a token.
    caller: Caller | None = None
    token: str | None = field(default=None, repr=False)


Handler = Callable[[Request, "Dependencies"], "ApiResponse"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    requires_token: bool
    takes_body: bool


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self._routes: dict[str, dict[str, Route]] = {}
        for route in routes:
            methods = self._routes.setdefault(route.path, {})
            if route.method in methods:
                raise ValueError(f"Duplicate route {route.method} {route.path}")
            methods[route.method] = route

    @property
    def paths(self) -> list[str]:
        return sorted(self._routes)

    def knows_path(self, path: str) -> bool:
        return path in self._routes

    def allowed_methods(self, path: str) -> list[str]:
        """Return the methods of a known path, OPTIONS included, for Allow headers."""
        return sorted(self._routes[path]) + ["OPTIONS"]

    def match(self, path: str, method: str) -> Route:
        """Return the route for `method` on `path`; raise NotFound or MethodNotAllowed."""
        methods = self._routes.get(path)
        if methods is None:
            raise NotFound(f"No route matches {path[:200]}.")
        route = methods.get(method)
        if route is None:
            allowed = ", ".join(self.allowed_methods(path))
            raise MethodNotAllowed(
                f"{method[:20]} is not allowed on {path}; use {allowed}.",
                headers={"Allow": allowed},
            )
        return route
