"""HTTP adapter: routes, schemas, and the conventions every route shares."""
