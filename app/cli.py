"""The ``accord`` command: serve, worker, migrate, create-admin, demo, escalate, audit,
import, export, openapi."""

from __future__ import annotations

import asyncio
import json
import signal
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
from app.settings import bind_refusal, get_settings

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


def _app(**overrides):  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app(**overrides)


def _services(**overrides):  # type: ignore[no-untyped-def]
    return _app(**overrides).state.services


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
    refusal = bind_refusal(settings, host or settings.host)
    if refusal:
        raise _refuse(refusal)
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
    from app.adapters.passwords import Argon2PasswordHasher, HashedOnce
    from app.demo import DEMO_PASSWORD, PEOPLE, load

    if get_settings().env == "production":
        console.print("[red]Demo data is for development only (ACCORD_ENV=production).[/red]")
        raise typer.Exit(code=2)

    async def run() -> None:
        with Progress(*Progress.get_default_columns(), MofNCompleteColumn(),
                      console=console) as progress:
            task = progress.add_task("Demo data", total=len(PEOPLE) + customers)
            # every demo user has the same password: Argon2id runs once, not per user
            result = await load(_services(hasher=HashedOnce(Argon2PasswordHasher())),
                                customers, seed,
                                lambda n: progress.advance(task, n))
        console.print(f"[green]{result.users_created} users and {result.customers_created} "
                      f"customers created[/green]; every demo user's password is "
                      f"[bold]{DEMO_PASSWORD}[/bold] (administrator: [bold]admin[/bold]).")

    asyncio.run(run())


@cli.command()
def escalate() -> None:
    """Run every periodic job once, now (from cron, when no worker runs): approval
    escalations, handover follow-ups, feedback SLA breaches, automatic survey
    invitations, customer health, overdue customer contacts, training lapses, reminders
    and the e-mails waiting in the outbox. A job another worker is running is skipped."""
    from app.worker.registry import JOBS

    async def run() -> None:
        app = _app()
        worker = app.state.make_worker()
        try:
            for spec, job in zip(JOBS, worker.jobs, strict=True):
                result = await worker.job_runner.run(job, force=True)
                if result is None:
                    console.print(f"{spec.name}: running elsewhere, skipped")
                elif result.outcome == "ok":
                    console.print(f"{result.count} {spec.summary}")
                else:
                    console.print(f"[red]{spec.name} failed:[/red] {result.error}")
        finally:
            await app.state.engines.dispose()

    asyncio.run(run())


def _acting(services, login: str):  # type: ignore[no-untyped-def]
    from app.domain.common.errors import NotFound

    async def find():  # type: ignore[no-untyped-def]
        try:
            return await services.imports.acting_as(login)
        except NotFound:
            raise _refuse(f"no active user {login!r} (username or e-mail)") from None
    return find()


@cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="Customers (accounts) file: CSV or XLSX")],
    preset: Annotated[str | None, typer.Option(
        help="zoho | fxiaoke | salesforce | accord (columns: docs/imports.md)")] = None,
    contacts: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="The CRM's contacts file")] = None,
    mapping: Annotated[str | None, typer.Option(
        help='Explicit column mapping as JSON, e.g. {"公司名称": "name"}')] = None,
    system: Annotated[str | None, typer.Option(
        help="With --mapping: the CRM whose ids the external_id column holds")] = None,
    mode: Annotated[str, typer.Option(help="create | upsert | update")] = "create",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row, write none")]
    = False,
    owner: Annotated[str | None, typer.Option(
        help="Owner (username or e-mail) of rows that name none")] = None,
    as_user: Annotated[str | None, typer.Option(
        "--as", help="Who imports (their record scope applies); default: --owner")] = None,
    keep_unknown: Annotated[bool, typer.Option(
        "--keep-unknown", help="Keep unmapped columns in custom_attributes")] = False,
    errors: Annotated[Path | None, typer.Option(
        help="Write the rejected rows (CSV) here")] = None,
) -> None:
    """Import customers (and contacts) through the product's own job: the same checks,
    chunks and history as POST /imports. Exit code 1 when rows were rejected."""
    from app.domain.bulk.model import ImportMode
    from app.services.imports import CONTACTS, ImportOptions, Upload

    login = as_user or owner
    if login is None:
        raise _refuse("say who imports: --as USER (or --owner USER)")
    try:
        chosen = ImportMode(mode)
        explicit = json.loads(mapping) if mapping else None
    except ValueError as exc:
        raise _refuse(f"bad --mode or --mapping: {exc}") from None

    async def run() -> int:
        services = _services()
        ctx = await _acting(services, login)
        streams = [file.open("rb")] + ([contacts.open("rb")] if contacts else [])
        try:
            uploads = [Upload(file.name, streams[0])]
            if contacts is not None:
                uploads.append(Upload(contacts.name, streams[1], CONTACTS))
            try:
                job = await services.imports.submit(ctx, uploads, ImportOptions(
                    mode=chosen, dry_run=dry_run, preset=preset, mapping=explicit,
                    system=system, keep_unknown=keep_unknown, default_owner=owner))
            except InvalidInput as exc:
                raise _refuse("; ".join(
                    f"{e.pointer.lstrip('/')} {field_detail(e.reason, e.params, EN)}"
                    for e in exc.field_errors)) from None
        finally:
            for stream in streams:
                stream.close()
        with Progress(*Progress.get_default_columns(), MofNCompleteColumn(),
                      console=console) as bar:
            task = bar.add_task(f"Importing {file.name}", total=None)
            await services.imports.run_queued(
                only=job.id, progress=lambda j: bar.update(task, completed=j.position))
        done = await services.imports.get(ctx, job.id)
        counts = done.counts
        console.print(f"Import {done.id} {done.state}{' (dry run)' if dry_run else ''}: "
                      + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if done.error:
            console.print(f"[red]{done.error}[/red]")
            return 3
        if counts["rejected"]:
            await _write_errors(services, ctx, done.id, errors)
            return 1
        return 0

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code=code)


async def _write_errors(services, ctx, job_id, path: Path | None) -> None:  # type: ignore[no-untyped-def]
    import csv

    from app.api.i18n import ZH
    from app.api.v1.imports import ERRORS_HEADER, reason

    target = path or Path(f"import-{job_id}-errors.csv")
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ERRORS_HEADER)
        shown = 0
        async for p in services.imports.problems(ctx, job_id):
            writer.writerow([p.file, p.line, p.column, p.code, reason(p, EN), reason(p, ZH)])
            if shown < 10:
                console.print(f"  {p.file}:{p.line} [{p.column}] {reason(p, EN)}",
                              soft_wrap=True, markup=False)
                shown += 1
    console.print(f"[yellow]Rows were rejected[/yellow]; every one with its reason: {target}")


@cli.command("export")
def export(
    entity: Annotated[str, typer.Argument(help="customers | change_requests | feedback")],
    out: Annotated[Path, typer.Option(help="Where to write the file")],
    format: Annotated[str, typer.Option(help="csv | jsonl")] = "csv",
    as_user: Annotated[str, typer.Option(
        "--as", help="Whose record scope applies (username or e-mail)")] = "admin",
    contacts: Annotated[bool, typer.Option(help="customers: with contacts")] = True,
) -> None:
    """Export through the product's own job (record scope, CSV with BOM or JSON Lines)."""
    import shutil

    from app.domain.bulk.model import ExportEntity, ExportFormat
    from app.services.exports import ExportRequest

    try:
        request = ExportRequest(ExportEntity(entity), ExportFormat(format), contacts)
    except ValueError as exc:
        raise _refuse(str(exc)) from None

    async def run() -> None:
        services = _services()
        ctx = await _acting(services, as_user)
        job = await services.exports.submit(ctx, request)
        with Progress(*Progress.get_default_columns(), console=console) as bar:
            bar.add_task(f"Exporting {entity}", total=None)
            await services.exports.run_queued(only=job.id)
        done = await services.exports.get(ctx, job.id)
        if done.error:
            raise _refuse(f"export failed: {done.error}")
        found = await services.exports.download(ctx, job.id)
        shutil.copyfile(found.path, out)
        console.print(f"[green]{done.counts['rows']} {entity} written to {out}[/green]")

    asyncio.run(run())


@cli.command()
def worker(
    once: Annotated[bool, typer.Option(
        "--once", help="Relay the outbox, run the due jobs, send the due deliveries, exit")]
    = False,
) -> None:
    """Relay the outbox to webhooks (and other consumers), retry deliveries and run the
    periodic jobs until SIGTERM or Ctrl-C; run as many as you like against PostgreSQL."""

    async def run() -> None:
        app = _app()
        worker = app.state.make_worker()
        try:
            if once:
                done = await worker.drain()
                console.print(f"{done['events']} event(s) relayed, {done['jobs']} job(s) run, "
                              f"{done['deliveries']} delivery attempt(s) made")
                return
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, worker.stop.set)
            await worker.run()
        finally:
            await app.state.webhook_transport.aclose()
            await app.state.engines.dispose()

    asyncio.run(run())


audit_cli = typer.Typer(help="The audit log's signed checkpoints and its verification.",
                        no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("checkpoint")
def audit_checkpoint(
    output: Annotated[Path | None, typer.Option(
        help="Also write the checkpoint (JSON) to this file; standard output otherwise")]
    = None,
) -> None:
    """Sign the audit chain's head with ACCORD_AUDIT_CHECKPOINT_KEY, keep the checkpoint
    beside the log and export it. Run it periodically (cron) and keep the exports outside
    the database: they are what a rewritten chain cannot match."""
    if not get_settings().audit_checkpoint_key:
        raise _refuse("set ACCORD_AUDIT_CHECKPOINT_KEY to sign checkpoints")

    async def run() -> dict[str, object]:
        return (await _services().audit.checkpoint(SYSTEM)).exported()

    exported = asyncio.run(run())
    text = json.dumps(exported, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"Checkpoint of entry {exported['seq']} written to {output}")


@audit_cli.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(
        help="A checkpoint exported by 'accord audit checkpoint' to check the chain against "
             "as well as the stored ones")] = None,
) -> None:
    """Verify the audit chain and its signed checkpoints; exit code 1 when it is broken."""
    from app.domain.audit.checkpoint import InvalidCheckpoint, imported

    key = get_settings().audit_checkpoint_key
    anchor = None
    if checkpoint is not None:
        if not key:
            raise _refuse("set ACCORD_AUDIT_CHECKPOINT_KEY to check a checkpoint")
        try:
            anchor = imported(json.loads(checkpoint.read_text(encoding="utf-8")),
                              key.get_secret_value().encode())
        except (OSError, ValueError, InvalidCheckpoint) as exc:
            reason = exc.params.get("reason") if isinstance(exc, InvalidCheckpoint) else exc
            raise _refuse(f"{checkpoint} is not a checkpoint signed with this key "
                          f"({reason})") from None

    async def run():  # type: ignore[no-untyped-def]
        return await _services().audit.verify(SYSTEM, anchor)

    result = asyncio.run(run())
    for bad in result.breaks:
        console.print(f"[red]entry {bad.seq}: {bad.problem}[/red]")
    state = "[green]intact[/green]" if result.intact else "[red]BROKEN[/red]"
    console.print(f"Audit chain {state}: {result.entries_checked} entries up to "
                  f"{result.last_seq}; {result.checkpoints_checked} signed checkpoint(s) "
                  f"checked, anchored up to {result.anchored_seq}")
    if not result.intact:
        raise typer.Exit(code=1)


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


if __name__ == "__main__":  # python -m app.cli, as the accord command
    main()
