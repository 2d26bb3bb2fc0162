"""The ``accord`` command: serve, migrate, create-admin, demo, openapi."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from app import __version__
from app.api.i18n import EN, field_detail
from app.domain.access.roles import Role
from app.domain.common.errors import Duplicate, InvalidInput
from app.services.people import NewUser
from app.services.ports import RequestContext
from app.settings import get_settings

cli = typer.Typer(help="Accord customer-governance API.", no_args_is_help=True,
                  add_completion=False)
console = Console()
SYSTEM = RequestContext(principal=None, request_id="cli")
OPENAPI_PATH = Path("openapi/openapi.json")


def _refuse(reason: str) -> typer.Exit:
    """One clear line on stderr and exit code 2 (bad input or settings), no traceback."""
    Console(stderr=True).print(f"[red]Refusing:[/red] {reason}", soft_wrap=True)
    return typer.Exit(code=2)


def _show_version(shown: bool) -> None:
    if shown:
        console.print(f"accord {__version__}")
        raise typer.Exit()


@cli.callback()
def _settings_are_valid(
    _version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Show the version and exit")] = False,
) -> None:
    # Every command needs valid settings: refuse with one clear line (e.g. production with
    # the development signing key) instead of a traceback.
    try:
        get_settings()
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise _refuse(f"cannot start: {reasons}") from None


def _services():  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app().state.services


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    from app.repositories.schema import upgrade_to_head

    settings = get_settings()
    upgrade_to_head(settings.database_url)
    console.print(f"[green]Schema at head[/green] ({settings.database_url.split('@')[-1]})")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
) -> None:
    """Run the API. On the SQLite default, pending migrations are applied first; in
    production, run "accord migrate" as its own step."""
    settings = get_settings()
    if settings.is_sqlite and settings.env == "development":
        migrate()
    uvicorn.run("app.main:create_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers or settings.workers,
                log_config=None, proxy_headers=True,
                access_log=False)  # the middleware logs each request (secrets redacted)


@cli.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name")],
    password: Annotated[str | None, typer.Option(
        envvar="ACCORD_ADMIN_PASSWORD", show_envvar=True,
        help="At least 12 characters. Asked for when not given; the variable or "
             "--password-stdin keep it out of the shell history")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input")]
    = False,
    email: Annotated[str, typer.Option(help="E-mail address")] = "",
    department: Annotated[str, typer.Option(help="Department (created if missing)")]
    = "系统管理部",
) -> None:
    """Create an administrator (and their department). Does nothing if the user exists."""
    if password_stdin:
        if password is not None:
            raise _refuse("give the password either with --password-stdin or otherwise, "
                          "not both")
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run() -> None:
        people = _services().people
        dept = await people.ensure_department(SYSTEM, department)
        try:
            await people.create_user(SYSTEM, NewUser(
                username=username, display_name=username,
                email=email or f"{username}@accord.local", password=password,
                department_id=dept.id, roles=frozenset({Role.ADMIN})))
        except Duplicate:
            console.print(f"User [bold]{username}[/bold] already exists; nothing changed.")
            return
        except InvalidInput as exc:
            raise _refuse("; ".join(
                f"{e.pointer.lstrip('/')} {field_detail(e.reason, e.params, EN)}"
                for e in exc.field_errors)) from None
        console.print(f"[green]Administrator {username} created.[/green]")

    asyncio.run(run())


@cli.command()
def demo(
    customers: Annotated[int, typer.Option(min=0, max=100_000, help="Customers to add")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same data")] = 2026,
) -> None:
    """Load demo departments, one user of every role (password: accord-demo-2026) and
    CUSTOMERS customers. Users already present are kept. Refused in production."""
    from app.demo import DEMO_PASSWORD, PEOPLE, load

    if get_settings().env == "production":
        console.print("[red]Demo data is for development only (ACCORD_ENV=production).[/red]")
        raise typer.Exit(code=2)

    async def run() -> None:
        with Progress(*Progress.get_default_columns(), MofNCompleteColumn(),
                      console=console) as progress:
            task = progress.add_task("Demo data", total=len(PEOPLE) + customers)
            result = await load(_services(), customers, seed,
                                lambda n: progress.advance(task, n))
        console.print(f"[green]{result.users_created} users and {result.customers_created} "
                      f"customers created[/green]; every demo user's password is "
                      f"[bold]{DEMO_PASSWORD}[/bold] (administrator: [bold]admin[/bold]).")

    asyncio.run(run())


@cli.command()
def escalate() -> None:
    """The periodic work (run it from cron every few minutes): escalate overdue approval
    steps, handover follow-ups and feedback SLA breaches, send the automatic survey
    invitations that are due, check customer health, and announce lapsed training
    completions and remind of those about to lapse."""

    async def run() -> None:
        services = _services()
        steps = await services.change_requests.escalate_overdue(SYSTEM)
        follow_ups = await services.handovers.escalate_overdue_follow_ups(SYSTEM)
        breaches = await services.feedback.announce_breaches(SYSTEM)
        invited = await services.surveys.run_automation(SYSTEM)
        falls = await services.customer_health.check_health(SYSTEM)
        lapsed, reminded = await services.training.announce_lapses(SYSTEM)
        console.print(f"{steps} overdue approval step(s), {follow_ups} overdue handover "
                      f"follow-up(s) and {breaches} feedback SLA breach(es) announced; "
                      f"{invited} survey invitation(s) sent; {falls} customer(s) fell below "
                      f"the health threshold; {lapsed} training completion(s) lapsed, "
                      f"{reminded} reminder(s) before lapse")

    asyncio.run(run())


@cli.command()
def openapi(output: Annotated[Path, typer.Option(help="Where to write")] = OPENAPI_PATH) -> None:
    """Write the OpenAPI document (the committed copy is checked by a test)."""
    from app.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi(create_app().openapi()), encoding="utf-8")
    console.print(f"Wrote {output}")


def render_openapi(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    cli()
