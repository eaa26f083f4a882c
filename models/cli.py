"""The `roundtable` command: organizers' work off the browser, each command a call into models/.

Messages follow `--lang` (Thai by default); domain errors are printed translated, with
exit code 1 and no traceback, as the pages show them with `st.error`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine

from models import (
    access,
    autobackup,
    backup,
    bootstrap,
    cards,
    db,
    demo,
    exports,
    io_issues,
    issues,
    links,
    phases,
    suggest,
    workshops,
)
from models.errors import DomainError
from models.i18n import DEFAULT_LANG, LANGS, error_message, format_date_range, t
from models.schema import Phase, Workshop, utcnow

ACTOR = "cli"


class _Translated(click.ClickException):
    """A domain error on its way to stderr, already in the user's language."""

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except io_issues.ImportRejected as rejected:
            lang = _lang(ctx)
            lines = [error_message(lang, rejected)]
            lines += [io_issues.row_error_text(lang, e) for e in rejected.errors]
            raise _Translated("\n".join(lines)) from rejected
        except DomainError as error:
            raise _Translated(error_message(_lang(ctx), error)) from error


def _lang(ctx: click.Context) -> str:
    return str((ctx.obj or {}).get("lang", DEFAULT_LANG))


def _engine() -> Engine:
    """The same database the app uses (DATABASE_URL, else the embedded SQLite file)."""
    return db.get_engine(db.database_url())


def _default_port() -> int:
    return int(os.environ.get("PORT", links.DEFAULT_PORT))


# --- text the commands print (plain functions, so tests need no subprocess) ------------


def workshop_links(engine: Engine, workshop: Workshop, *, base: str, lang: str) -> list[str]:
    """The viewer link, then every group's name and join link, one per line."""
    assert workshop.id is not None
    lines = [f"{t(lang, 'join.viewer')}\t{links.view_link(base, workshop.view_code)}"]
    for group in workshops.list_groups(engine, workshop.id):
        lines.append(f"{group.name}\t{links.join_link(base, group.join_code)}")
    return lines


def startup_report(
    engine: Engine, *, base: str, lang: str, generated: dict[str, str] | None = None
) -> list[str]:
    """What `serve` prints before handing over to Streamlit: new credentials, then links."""
    lines: list[str] = []
    if generated:
        lines += [t(lang, "cli.credentials"), *(f"  {k}={v}" for k, v in generated.items()), ""]
    lines.append(t(lang, "cli.staff_url", url=f"{base}/"))
    for workshop in workshops.list_workshops(engine):
        lines += ["", f"[{workshop.slug}] {workshop.title}"]
        lines += workshop_links(engine, workshop, base=base, lang=lang)
    return lines


def parse_mapping(pairs: tuple[str, ...], lang: str) -> dict[str, str]:
    """`--map text=ปัญหา` pairs as {our column: the file's header}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not theirs or ours not in io_issues.COLUMNS:
            columns = ", ".join(io_issues.COLUMNS)
            raise click.BadParameter(t(lang, "cli.map_format", pair=pair, columns=columns))
        mapping[ours] = theirs
    return mapping


# --- commands --------------------------------------------------------------------------


@click.group(cls=_Group)
@click.option(
    "--lang", type=click.Choice(LANGS), default=DEFAULT_LANG, show_default=True, help="Language."
)
@click.pass_context
def main(ctx: click.Context, lang: str) -> None:
    """Roundtable: problem-analysis workshops (organizer tools)."""
    ctx.obj = {"lang": lang}


@main.command()
@click.option("--port", type=int, default=_default_port, help="Port (default: $PORT or 8501).")
@click.option("--no-demo", is_flag=True, help="Do not create the demo workshop on an empty DB.")
@click.pass_context
def serve(ctx: click.Context, port: int, no_demo: bool) -> None:
    """Set up the database, print credentials and links, and start the app."""
    lang = _lang(ctx)
    engine = _engine()
    generated = bootstrap.bootstrap(engine, with_demo=not no_demo)
    if generated and not sys.stdout.isatty():
        # Output going to a file (`make run > log`): the credentials go to the terminal
        # or nowhere, never into the log (see models.access.tell_operator).
        lines = [t(lang, "cli.credentials"), *(f"  {k}={v}" for k, v in generated.items())]
        if not access.tell_operator(lines):
            click.echo(access.NOT_SHOWN)
        generated = {}
    for line in startup_report(
        engine, base=links.base_url(port=port), lang=lang, generated=generated
    ):
        click.echo(line)
    sys.stdout.flush()
    # The app builds its own join links from PORT; they must match the ones printed here.
    os.environ["PORT"] = str(port)
    app = db.ROOT / "app.py"
    args = [sys.executable, "-m", "streamlit", "run", str(app)]
    args += ["--server.port", str(port), "--server.address", "0.0.0.0"]
    os.execvp(args[0], args)


@main.command("demo")
@click.pass_context
def demo_command(ctx: click.Context) -> None:
    """Create the demo workshop modelled on OBEC's March 2018 (2561) meeting."""
    lang = _lang(ctx)
    try:
        workshop = demo.load_demo(_engine(), actor=ACTOR)
    except DomainError as error:
        if error.key != "error.workshop.slug_taken":
            raise
        raise _Translated(t(lang, "cli.demo_exists", slug=error.values["slug"])) from error
    click.echo(t(lang, "cli.demo_created", slug=workshop.slug))


@main.command("workshops")
@click.pass_context
def workshops_command(ctx: click.Context) -> None:
    """List workshops: slug, title, dates, phase, groups and issues (tab-separated)."""
    lang = _lang(ctx)
    engine = _engine()
    found = workshops.list_workshops(engine)
    if not found:
        click.echo(t(lang, "cli.no_workshops"))
        return
    for workshop in found:
        assert workshop.id is not None
        groups = len(workshops.list_groups(engine, workshop.id))
        count = len(issues.workshop_issues(engine, workshop.id))
        cells = [
            workshop.slug,
            workshop.title,
            format_date_range(workshop.starts_on, workshop.ends_on, lang),
            t(lang, f"phase.{workshop.phase}"),
            t(lang, "groups.count", count=groups),
            t(lang, "cli.issue_count", count=count),
        ]
        click.echo("\t".join(cells))


@main.command("links")
@click.option("--workshop", "slug", required=True, help="The workshop's slug.")
@click.option("--base-url", help="Address the groups will open (default: this machine).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "pdf"]),
    default="text",
    show_default=True,
    help="text: one link a line; pdf: printable A4 join cards, one per group.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    help="File for --format pdf ('-' for standard output; default: <slug>-join-cards.pdf).",
)
@click.pass_context
def links_command(
    ctx: click.Context, slug: str, base_url: str | None, fmt: str, output: str | None
) -> None:
    """Print the viewer link and each group's join link, or write printable join cards."""
    engine = _engine()
    workshop = workshops.get_workshop(engine, slug=slug)
    base = links.base_url(base_url)
    lang = _lang(ctx)
    if fmt == "text":
        for line in workshop_links(engine, workshop, base=base, lang=lang):
            click.echo(line)
        return
    data = cards.cards_pdf(
        cards.workshop_cards(engine, workshop, base=base), title=workshop.title, lang=lang
    )
    output = output or cards.file_name(workshop)
    with click.open_file(output, "wb", atomic=output != "-") as fh:
        fh.write(data)
    if output != "-":
        click.echo(t(lang, "cli.exported", path=output))


@main.command("phase")
@click.option("--workshop", "slug", required=True, help="The workshop's slug.")
@click.option(
    "--minutes", type=click.IntRange(0, 600), default=0, help="Countdown for the new phase."
)
@click.argument("new_phase", required=False, type=click.Choice([p.value for p in Phase]))
@click.pass_context
def phase_command(ctx: click.Context, slug: str, minutes: int, new_phase: str | None) -> None:
    """Show the workshop's phase, or move it to NEW_PHASE (forwards or back)."""
    lang = _lang(ctx)
    engine = _engine()
    workshop = workshops.get_workshop(engine, slug=slug)
    assert workshop.id is not None
    if new_phase is not None:
        deadline = utcnow() + dt.timedelta(minutes=minutes) if minutes else None
        workshop = phases.set_phase(
            engine, actor=ACTOR, workshop_id=workshop.id, phase=Phase(new_phase), deadline=deadline
        )
    click.echo(f"{workshop.phase}\t{t(lang, f'phase.{workshop.phase}')}")


@main.command("import")
@click.option("--workshop", "slug", required=True, help="The workshop's slug.")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="OURS=THEIRS",
    help="Read our column OURS from the file's column THEIRS (repeatable).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_command(ctx: click.Context, slug: str, pairs: tuple[str, ...], file: Path) -> None:
    """Import issues from a CSV or XLSX file: every row, or nothing if any row is wrong."""
    lang = _lang(ctx)
    mapping = parse_mapping(pairs, lang)
    engine = _engine()
    workshop = workshops.get_workshop(engine, slug=slug)
    assert workshop.id is not None
    df = io_issues.read_table(file.read_bytes(), file.name)
    count = io_issues.import_issues(
        engine, actor=ACTOR, workshop_id=workshop.id, df=df, mapping=mapping
    )
    click.echo(t(lang, "data.imported", count=count))


@main.command("export")
@click.option("--workshop", "slug", required=True, help="The workshop's slug.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(exports.FORMATS)),  # one entry per format in exports.FORMATS
    default="csv",
    show_default=True,
    help="csv: issues (re-importable); zip/xlsx: result tables; json: full backup.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    help="File to write ('-' for standard output).",
)
@click.pass_context
def export_command(ctx: click.Context, slug: str, fmt: str, output: str) -> None:
    """Export the workshop: its issues, its result tables, or a backup to restore later."""
    engine = _engine()
    workshop = workshops.get_workshop(engine, slug=slug)
    data = exports.FORMATS[fmt].build(engine, workshop, _lang(ctx))
    with click.open_file(output, "wb", atomic=output != "-") as fh:
        fh.write(data)
    if output != "-":
        click.echo(t(_lang(ctx), "cli.exported", path=output))


@main.command("restore")
@click.option("--slug", help="Restore under this slug (when the original still exists).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore_command(ctx: click.Context, slug: str | None, file: Path) -> None:
    """Restore a workshop from a JSON backup: all of it, or nothing."""
    workshop = backup.restore_json(_engine(), file.read_bytes(), actor=ACTOR, slug=slug)
    click.echo(t(_lang(ctx), "backup.restored", slug=workshop.slug))


@main.command("suggest-themes")
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    help="CSV to write: the input plus `theme` and `theme_label`, or with seed rows "
    "`theme` filled in and `confidence` ('-' for standard output).",
)
@click.option(
    "--themes", "count", type=click.IntRange(1), help="How many themes (default: automatic)."
)
@click.option("--within-domain", is_flag=True, help="Group each `domain` separately.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help=f"With seed rows: the confidence below which a row stays unsorted "
    f"(default {suggest.SORT_THRESHOLD}).",
)
@click.pass_context
def suggest_themes_command(
    ctx: click.Context,
    input_file: Path,
    output: str,
    count: int | None,
    within_domain: bool,
    threshold: float | None,
) -> None:
    """Suggest themes for a CSV/XLSX of issues (a `text` column, optionally `domain`).

    Rows whose `theme` column is filled are seeds: every other row gets the theme of the
    seeds it is nearest to, or stays empty when unsure.
    """
    df = io_issues.read_table(input_file.read_bytes(), input_file.name)
    if suggest.seeded(df):
        table, done = suggest.sort_table(df, threshold=threshold)
        message = t(
            _lang(ctx),
            "suggest.cli_sorted",
            sorted=done.sorted,
            rows=done.sorted + done.unsure,
            themes=done.themes,
            unsure=done.unsure,
            backend=done.backend,
        )
    else:
        table, result = suggest.suggest_table(df, k=count, within_domain=within_domain)
        message = t(
            _lang(ctx), "suggest.cli_done", rows=len(table), themes=result.k, backend=result.backend
        )
    with click.open_file(output, "wb", atomic=output != "-") as fh:
        fh.write(table.to_csv(index=False).encode("utf-8-sig"))
    click.echo(message, err=output == "-")


def _sqlite_database(lang: str) -> Path:
    database = autobackup.sqlite_path(db.database_url())
    if database is None:
        raise _Translated(t(lang, "dbbackup.not_sqlite"))
    return database


@main.command("backup-db")
@click.pass_context
def backup_db_command(ctx: click.Context) -> None:
    """Copy the SQLite database into the backup folder now (safe while the app runs)."""
    lang = _lang(ctx)
    database = _sqlite_database(lang)
    config = autobackup.settings(database)
    path = autobackup.backup_now(database, config.folder, keep=config.keep)
    click.echo(t(lang, "dbbackup.taken", path=str(path)))


@main.command("restore-db")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore_db_command(ctx: click.Context, file: Path) -> None:
    """Replace the SQLite database with a backup (stop the app first; the old one is kept)."""
    lang = _lang(ctx)
    database = _sqlite_database(lang)
    kept = autobackup.restore(database, file, folder=autobackup.settings(database).folder)
    click.echo(t(lang, "dbbackup.restored", path=str(file), kept=str(kept)))


# --- the stronger sentence model --------------------------------------------------------


@main.group("model", cls=_Group)
def model_group() -> None:
    """EmbeddingGemma-300M, the stronger model for theme suggestions (optional)."""


@model_group.command("install")
@click.option("--no-deps", is_flag=True, help="Skip installing torch and sentence-transformers.")
@click.option("--force", is_flag=True, help="Download and verify again even if installed.")
@click.pass_context
def model_install_command(ctx: click.Context, no_deps: bool, force: bool) -> None:
    """Download, assemble and verify EmbeddingGemma-300M (resumable; offline afterwards)."""
    from models import model_install

    lang = _lang(ctx)
    if not no_deps:
        missing = model_install.missing_requirements()
        if missing:
            click.echo(t(lang, "model.installing_packages", packages=" ".join(missing)))
            model_install.install_requirements(missing)
    target = model_install.model_dir()
    try:
        report = model_install.install(
            model_install.gemma_source(),
            target,
            progress=model_install.tqdm_progress,
            force=force,
        )
    except model_install.ModelRefused as refused:
        raise _Translated(t(lang, "model.refused", reason=str(refused))) from refused
    except model_install.FetchFailed as failed:
        raise _Translated(t(lang, "model.fetch_failed", reason=str(failed))) from failed
    key = "model.already" if report.already else "model.installed"
    click.echo(t(lang, key, path=str(target), fingerprint=report.fingerprint))


@model_group.command("status")
@click.pass_context
def model_status_command(ctx: click.Context) -> None:
    """Say whether EmbeddingGemma is installed and which model `auto` would use."""
    from models import embeddings, model_install

    lang = _lang(ctx)
    target = model_install.model_dir()
    stamp = model_install.installed(target)
    if stamp is None:
        click.echo(t(lang, "model.status_missing"))
    else:
        click.echo(
            t(lang, "model.status_installed", path=str(target), fingerprint=stamp["fingerprint"])
        )
        missing = model_install.missing_requirements()
        if missing:
            click.echo(t(lang, "model.status_no_packages", packages=" ".join(missing)))
    click.echo(t(lang, "model.status_auto", backend=embeddings.auto_choice()))
