"""`keystead access`: who can use a key, and why a principal can or cannot.

    keystead access who-can --data-dir DIR --key KEY [--action kms:Decrypt] [--json]
    keystead access explain --data-dir DIR --principal ARN --action A --key KEY [--context k=v ...] [--json]

KEY is a key ID or key ARN. Both read the data directory directly (no server needed).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from keystead.analysis import AccessAnalyzer, AccessReport, Explanation
from keystead.config import Settings
from keystead.server.runtime import open_runtime

DATA_DIR = click.option(
    "--data-dir", envvar="KEYSTEAD_DATA_DIR", required=True, type=click.Path(path_type=Path),
    help="Directory holding the root key and the embedded database.",
)
DATABASE_URL = click.option(
    "--database-url", envvar="KEYSTEAD_DATABASE_URL", default=None,
    help="postgresql://... when the deployment shares a PostgreSQL database.",
)
KEY = click.option("--key", required=True, help="Key ID or key ARN.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")


@click.group()
def access() -> None:
    """Analyze who can use a KMS key."""


@access.command("who-can")
@DATA_DIR
@DATABASE_URL
@KEY
@click.option("--action", default=None, help="Only this action, e.g. kms:Decrypt.")
@AS_JSON
def who_can(data_dir: Path, database_url: str | None, key: str, action: str | None, as_json: bool) -> None:
    """Every principal that can perform each action on KEY, with the path that allows it."""
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=database_url))
    try:
        report = AccessAnalyzer(runtime.db).who_can(key, action)
    finally:
        runtime.db.dispose()
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else render_report(report))


def _context(pairs: tuple[str, ...]) -> dict[str, str]:
    context: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--context")
        context[name] = value
    return context


@access.command("explain")
@DATA_DIR
@DATABASE_URL
@click.option("--principal", required=True, help="The caller's ARN (user, role, role session or root).")
@click.option("--action", required=True, help="e.g. kms:Decrypt")
@KEY
@click.option("--context", "context", multiple=True, help="A condition key's value, KEY=VALUE (repeatable).")
@AS_JSON
def explain(
    data_dir: Path, database_url: str | None, principal: str, action: str, key: str,
    context: tuple[str, ...], as_json: bool,
) -> None:
    """The decision for one request, with every policy statement that matched."""
    values = _context(context)
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=database_url))
    try:
        result = AccessAnalyzer(runtime.db).explain(principal, action, key, values)
    finally:
        runtime.db.dispose()
    click.echo(json.dumps(result.as_json(), indent=2) if as_json else render_explanation(result))


def render_report(report: AccessReport) -> str:
    """The report as text for a terminal."""
    data = report.as_json()
    lines = [f"Key {data['KeyArn']} ({data['KeyState']})"]
    for finding in data["Findings"]:
        lines.append(f"  [{finding['Severity']}] {finding['Type']}: {finding['Message']}")
    for entry in data["Principals"]:
        lines.append(f"{entry['Principal']} ({entry['PrincipalType']})")
        lines.extend(f"  note: {note}" for note in entry.get("Notes", []))
        for item in entry["Actions"]:
            paths = "; ".join(_path_text(p) for p in item["Paths"])
            lines.append(f"  {item['Action']}: {item['Access']} via {paths}")
            lines.extend(f"    {_condition_text(c)}" for c in item["Conditions"])
        for assumer in entry.get("AssumableBy", []):
            chain = " -> ".join(assumer["Chain"])
            lines.append(f"  assumable by {assumer['Principal']} ({assumer['Access']}) via {chain}")
            lines.extend(f"    {_condition_text(c)}" for c in assumer["Conditions"])
    lines.extend(f"note: {note}" for note in data["Notes"])
    return "\n".join(lines)


def _path_text(path: dict[str, object]) -> str:
    if path["Type"] == "Grant":
        return f"grant {path['GrantId']} {path.get('Operations')} {path.get('Constraints', '')}".rstrip()
    text = f"{path['Type']} {path.get('Policy', '')} statement {path.get('Statement', '')}"
    return f"{text} (via {path['Via']})" if path.get("Via") else text


def _condition_text(condition: dict[str, object]) -> str:
    word = "if" if condition["Effect"] == "Allow" else "unless denied when"
    entries = " AND ".join(str(e) for e in condition["Conditions"])  # type: ignore[attr-defined]
    return f"{word} {entries} ({condition['Policy']} {condition['Statement']})"


def render_explanation(result: Explanation) -> str:
    data = result.as_json()
    lines = [f"{data['Principal']} {data['Action']} on {data['KeyArn']}: {data['Decision']}"]
    for match in data["MatchedStatements"]:
        via = f" via {match['Via']}" if match.get("Via") else ""
        lines.append(f"  {match['Effect']}: {match['PolicyType']} {match['Policy']} statement {match['Statement']}{via}")
    if data["MissingContextKeys"]:
        lines.append(f"  condition keys not given: {', '.join(data['MissingContextKeys'])}")
    if data["Message"]:
        lines.append(f"  {data['Message']}")
    return "\n".join(lines)
