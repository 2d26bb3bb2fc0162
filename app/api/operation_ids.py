"""Operation ids for generated clients: ``customers.create``, not FastAPI's default
``create_customer_api_v1_customers_post`` (FastAPI's "Generating SDKs" guide)."""

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """The route's first tag and its name, ``<tag>.<name>`` in snake case: short, and stable
    while the URL or the method changes. Untagged routes (the docs pages) are not in the
    document; they keep their bare name."""
    if not route.tags:
        return route.name
    return f"{str(route.tags[0]).replace(' ', '_')}.{route.name}"
