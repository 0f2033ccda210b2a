"""The REST API: FastAPI routers over the services, API-key authenticated, OpenAPI described."""
