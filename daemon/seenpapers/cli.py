"""The ``seenpapers`` command."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from . import __version__, config, formats, ingest, lookup, service, store, text

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the database, token and inbox live [default: $SEENPAPERS_DATA_DIR or the platform's user data dir].",
)


def _data_dir(path: Path | None) -> config.DataDir:
    return config.DataDir(path or config.default_data_dir())


@click.group()
@click.version_option(__version__, prog_name="seenpapers")
def cli():
    """Remembers every research paper that reached you, and tells you which ones you have
    already seen, read, or met before under another title."""


LIST_FILES_UP_TO = 50  # a backfill of hundreds of files prints its totals, not a line each
FILES_PER_COMMIT = 500  # a crash loses at most these; ingest again and they are read again
PARALLEL_FROM = 20  # files: fewer are parsed here, as starting other processes takes longer


@cli.command(name="ingest")
@data_dir_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def ingest_command(data_dir, paths):
    """Ingest digest files, and the files in folders, once.

    Exit status 0 when every file was ingested or already known, 1 when any failed.
    """
    data = _data_dir(data_dir).create()
    db = store.open_db(data.db_path)
    files = ingest.files_under(list(paths))
    err = Console(stderr=True)
    started = time.perf_counter()
    results = []
    with _prepared(files, parallel=len(files) >= PARALLEL_FROM) as prepared, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for start in range(0, len(files), FILES_PER_COMMIT):
            results += _commit_batch(db, prepared, files[start:start + FILES_PER_COMMIT],
                                     lambda done, start=start: progress.update(task, completed=start + done))
        seconds = time.perf_counter() - started
        # Full-text search (Datasette) last, in one pass: the papers are answerable already,
        # and indexing was as slow as the rest of a backfill. After a crash, the next
        # ingest or daemon start indexes what is left (search_pending).
        progress.update(task, description="indexing for search")
        indexed = store.update_search_index(db)
    _print_summary(results, seconds, indexed, time.perf_counter() - started - seconds)
    sys.exit(1 if any(r.status == "failed" for r in results) else 0)


def _commit_batch(db, prepared: Iterator[ingest.Prepared], paths: list[Path], done: Callable[[int], None]) -> list[ingest.Result]:
    """The next len(paths) prepared files in one transaction: each file's keys land on
    random index pages, and a commit per file wrote most of those pages again for every
    file. If one of them cannot be written, the whole batch is undone and written again a
    file a transaction (ingest.ingest_file), so the others go in and that one is reported."""
    results: list[ingest.Result] = []
    taken = 0
    try:
        with store.write_transaction(db):
            for one in islice(prepared, len(paths)):
                taken += 1
                results.append(ingest.commit(db, one))
                done(len(results))
        return results
    except Exception:  # all undone: the failing file is found and recorded below
        for _ in islice(prepared, len(paths) - taken):
            pass  # the rest of the batch, parsed for nothing
    results = []
    for path in paths:
        results.append(ingest.ingest_file(db, path))
        done(len(results))
    return results


@contextmanager
def _prepared(files: list[Path], parallel: bool):
    """The files read and parsed (ingest.prepare_file), in order. In parallel, other
    processes parse the next files while this one writes: parsing was half of a backfill."""
    if not parallel:
        yield map(ingest.prepare_file, files)
        return
    # spawn, not fork: the progress bar's thread may hold a lock at the moment of a fork.
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield _in_order(pool, files)


def _in_order(pool: ProcessPoolExecutor, files: list[Path], ahead: int = 32):
    """pool.map, but at most ``ahead`` files parsed and waiting: a million papers' parsed
    entries would not fit in memory."""
    waiting: deque[Future] = deque()
    for path in files:
        waiting.append(pool.submit(ingest.prepare_file, path))
        if len(waiting) >= ahead:
            yield waiting.popleft().result()
    while waiting:
        yield waiting.popleft().result()


def _print_summary(results: list[ingest.Result], seconds: float, indexed: int, index_seconds: float) -> None:
    ingested = [r for r in results if r.status == "ingested"]
    failed = [r for r in results if r.status == "failed"]
    entries = sum(r.entries for r in ingested)
    rate = f" ({entries / seconds:,.0f} entries/s)" if entries and seconds > 0 else ""
    click.echo(f"{len(results)} files in {seconds:.2f} s{rate}")
    for label, value in [
        ("digests", f"{len(ingested)} new, {sum(r.status == 'known' for r in results)} already known"),
        ("entries", entries),
        ("new papers", sum(r.new_papers for r in ingested)),
        ("seen again", sum(r.seen_again for r in ingested)),
        ("duplicates", sum(r.duplicates for r in ingested)),
        ("failures", len(failed)),
        ("search", f"{indexed} papers indexed in {index_seconds:.2f} s"),
    ]:
        click.echo(f"  {label:<11} {value}")
    # What each file was, when there are few enough to read; failures always.
    for r in results if len(results) <= LIST_FILES_UP_TO else failed:
        click.echo(f"  {r.name}: {_what_it_was(r)}")


def _what_it_was(r: ingest.Result) -> str:
    if r.status == "failed":
        return f"failed: {r.error}"
    if r.status == "known":
        return "already known"
    papers = f"{r.entries:,} paper" + ("" if r.entries == 1 else "s")
    return f"{formats.describe(r.format)}, {papers} ({r.new_papers:,} new)"


@cli.command(name="lookup")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
@click.option("--abstract", help="The abstract of the (one) paper asked about: near-duplicates are found by it.")
@click.argument("titles", nargs=-1, required=True)
def lookup_command(data_dir, as_json, abstract, titles):
    """Say whether papers are new, seen, read or duplicates: titles, arXiv ids or URLs."""
    data = _data_dir(data_dir)
    if not data.db_path.exists():
        raise click.ClickException(f"no database at {data.db_path}: ingest some digests first")
    if abstract is not None and len(titles) != 1:
        raise click.UsageError("--abstract goes with exactly one title")
    db = store.open_db(data.db_path, readonly=True)
    items = [_item(t) for t in titles]
    if abstract is not None:
        items[0]["abstract"] = abstract
    results = lookup.lookup(db, items)
    if as_json:
        click.echo(json.dumps({"results": results}, indent=2, ensure_ascii=False))
        return
    table = Table("status", "title", "times", "first seen", "last seen", "latest digest", box=None)
    for item, r in zip(items, results):
        title = r["title"] or item.get("title") or item.get("arxiv_id")
        if r["duplicate_of"]:
            link = r["duplicate_of"]
            title += f"\n  duplicate of #{link['paper_id']} {link['title']}\n  ({link['reason']}; similarity {link['similarity']:.2f})"
        # Text, not rich markup: a title "[red]…[/]" is shown as written (and cannot crash it).
        table.add_row(r["status"], Text(title), str(r["times_seen"]), r["first_seen"] or "", r["last_seen"] or "",
                      Text(r["digests"][0]["name"] if r["digests"] else ""))
    Console().print(table)


def _item(argument: str) -> dict:
    # An argument that is only a DOI, an arXiv id or a paper URL is looked up by it.
    if " " not in argument.strip():
        doi = text.doi(argument)
        if doi:
            return {"title": "", "doi": doi}
        if text.arxiv_id(argument):
            return {"title": "", "arxiv_id": text.arxiv_id(argument)}
    return {"title": argument}


@cli.command()
@data_dir_option
def token(data_dir):
    """Print the API token (created on first use, readable only by you)."""
    click.echo(_data_dir(data_dir).token())


@cli.command()
@data_dir_option
@click.option("--inbox", "inboxes", multiple=True, metavar="DIR",
              help="Watch this folder too (repeatable); end it with a name pattern to watch only "
                   "some files, e.g. '~/Downloads/daily_papers*.json'. [default: <data dir>/inbox]")
@click.option("--host", default=config.DEFAULT_HOST, show_default=True, help="Address to listen on (keep it loopback).")
@click.option("--port", default=config.DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="API port (0: any free port).")
@click.option("--datasette-port", default=config.DEFAULT_DATASETTE_PORT, show_default=True,
              type=click.IntRange(0, 65535), help="Datasette port (0: any free port).")
@click.option("--no-datasette", is_flag=True, help="Do not serve Datasette.")
@click.option("--samples", is_flag=True, help="On first start with an empty database, ingest the bundled sample digests.")
def run(data_dir, inboxes, host, port, datasette_port, no_datasette, samples):
    """Run the daemon: watch the inboxes, ingest what lands there, answer the API."""
    from .server import Settings, serve, setup_logging
    from .watcher import Inbox

    data = _data_dir(data_dir).create()
    setup_logging(data)
    settings = Settings(data, inboxes=[Inbox.parse(i) for i in inboxes], host=host, port=port, samples=samples,
                        datasette_port=None if no_datasette else datasette_port)
    try:
        asyncio.run(serve(settings))
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


@cli.command()
@data_dir_option
@click.option("--host", default=config.DEFAULT_HOST, show_default=True)
@click.option("--port", default=config.DEFAULT_DATASETTE_PORT, show_default=True, type=click.IntRange(0, 65535))
def explore(data_dir, host, port):
    """Serve Datasette alone over the database."""
    import uvicorn

    from .explore import datasette

    data = _data_dir(data_dir).create()
    store.open_db(data.db_path).close()  # create and migrate it if it is new
    click.echo(f"Datasette on http://{host}:{port}")
    uvicorn.run(datasette(data.db_path).app(), host=host, port=port, log_level="warning")


# --- start at login ----------------------------------------------------------------------

dry_run_option = click.option("--dry-run", is_flag=True, help="Print the files and commands; change nothing.")
# Plans for every system can be made anywhere: the tests check all three on one machine.
system_option = click.option("--system", type=click.Choice(service.SYSTEMS), default=service.current_system,
                             hidden=True, help="Plan for this system instead of the one running.")


@cli.group(name="service")
def service_group():
    """Start the daemon at login and keep it running: a systemd user unit on Linux, a
    launchd agent on macOS, a logon task in Task Scheduler on Windows."""


def _system(system: str | None) -> str:
    if system is None:
        raise click.ClickException(f"starting at login is supported on Linux (systemd), macOS and Windows, not {sys.platform}")
    return system


def _installed(system: str | None):
    """What is installed (planned from the command its file runs), else today's defaults."""
    default = service.service_command(service.interpreter(), config.default_data_dir())
    return service.installed(_system(system), default)


def _print_steps(plan, steps) -> None:
    click.echo(f"dry run ({plan.kind}): nothing is changed; this would")
    for line in service.describe(plan, steps):
        click.echo("  " + line)


def _execute(plan, steps) -> None:
    try:
        service.execute(plan, steps, echo=click.echo)
    except service.ServiceError as e:
        raise click.ClickException(str(e)) from None


@service_group.command(name="install")
@data_dir_option
@click.option("--inbox", "inboxes", multiple=True, metavar="DIR", help="Watch this folder too, as `run --inbox` (repeatable).")
@click.option("--port", type=click.IntRange(1, 65535), help=f"API port [default: {config.DEFAULT_PORT}].")
@click.option("--datasette-port", type=click.IntRange(1, 65535), help=f"Datasette port [default: {config.DEFAULT_DATASETTE_PORT}].")
@click.option("--no-datasette", is_flag=True, help="Do not serve Datasette.")
@dry_run_option
@system_option
def service_install(data_dir, inboxes, port, datasette_port, no_datasette, dry_run, system):
    """Start the daemon now, at every login, and again when it fails.

    It runs this Python, by its exact path (a venv's python stays the venv's), with the data
    dir as it resolves now: PYTHON -m seenpapers run --data-dir DIR. Installing again
    replaces the service (with new options, say)."""
    command = service.service_command(service.interpreter(), data_dir or config.default_data_dir(), inboxes=inboxes,
                                      port=port, datasette_port=datasette_port, no_datasette=no_datasette)
    plan = service.plan(_system(system), command)
    if dry_run:
        return _print_steps(plan, plan.install)
    _execute(plan, plan.install)
    click.echo(f"seenpapers now starts at login ({plan.kind}). Is it up? seenpapers service status")


@service_group.command(name="uninstall")
@dry_run_option
@system_option
def service_uninstall(dry_run, system):
    """Stop the daemon and remove what install made. Your data dir stays as it is."""
    plan, _ = _installed(system)
    if not plan.path.exists():
        click.echo(f"not installed: no {plan.path}")
        return
    if dry_run:
        return _print_steps(plan, plan.uninstall)
    _execute(plan, plan.uninstall)
    click.echo("seenpapers no longer starts at login.")


@service_group.command(name="status")
@click.option("--port", type=click.IntRange(1, 65535), help="Ask this port [default: the installed service's].")
@dry_run_option
@system_option
def service_status(port, dry_run, system):
    """Is it installed, running, and answering on its port?

    Exit status 0 when the daemon answers /api/v1/health, 1 when it does not."""
    plan, command = _installed(system)
    if dry_run:
        click.echo(f"dry run ({plan.kind}): this would look for {plan.path}, run "
                   f"`{service.command_line(plan.running.argv, plan.system)}` and ask "
                   f"http://{config.DEFAULT_HOST}:{port or service.service_port(command)}/api/v1/health")
        return
    state = service.status(plan, command, port=port)
    yes = {True: "yes", False: "no", None: "?"}
    click.echo(f"seenpapers service ({plan.kind})")
    click.echo(f"  installed  {yes[state.installed]:<4} {plan.path}")
    if state.command:
        click.echo(f"  runs            {service.command_line(state.command, plan.system)}")
    click.echo(f"  running    {yes[state.running]:<4} {state.running_detail}")
    if state.health:
        h = state.health
        click.echo(f"  answering  yes  {state.health_detail}: version {h.get('version')}, "
                   f"{h.get('papers')} papers, {h.get('digests')} digests, last ingest {h.get('last_ingest') or 'never'}")
    else:
        click.echo(f"  answering  no   {state.health_detail}")
        if state.installed:
            click.echo(f"  logs            {plan.logs}")
    sys.exit(0 if state.answering else 1)
