"""The basics on each engine: sign in, read yourself, list with scope."""

from tests.support import Actors


async def test_me_returns_the_signed_in_user_with_etag(client, actors: Actors) -> None:
    response = await client.get("/api/v1/me", headers=actors.am_east.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == actors.am_east.username
    assert body["roles"] == ["account_manager"]
    assert body["department_id"] == actors.east
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert body["created_at"].endswith("Z")
