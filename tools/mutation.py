"""Mutation testing of the method core with cosmic-ray, on a copy of the repository.

    python tools/mutation.py                      # every target, 20 minutes each at most
    python tools/mutation.py classes scores --minuten 15
    python tools/mutation.py scores --werkers 2    # two mutants at a time
    python tools/mutation.py --lijst               # the targets and their tests

cosmic-ray changes one thing in a module at a time (a ``<`` into ``<=``, a number, a
``return``) and runs the module's fast tests; a mutant the tests do not notice "survives".
The work happens in a copy of the tracked files (``--werkmap``, default a temporary
folder), never in the checkout, so an interrupted run leaves the sources alone. A run that
hits its time limit stops; its session (``<target>.sqlite`` in the werkmap) keeps what was
done, and the same command with the same ``--werkmap`` continues where it stopped.

Not part of CI: it takes minutes to hours. Results and every surviving mutant, explained or
killed, are kept in docs/testing.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    module: str
    tests: str


#: Without hypothesis's pytest plugin where no test of a selection uses it: loading it costs
#: about 0.9 s of processor time per mutant. anyio's plugin is never used by these tests.
NO_HYPOTHESIS = "-p no:hypothesispytest -p no:anyio"

#: THE PLACE FOR PATHS. The method core and the fast tests that guard it: unit tests on
#: small hand-made tables only (no real data, no browser, no notebook), run without the
#: conftest files (they import the loopback servers and the geometry fixtures these tests
#: do not use). Each selection reaches at least 95 % of the lines of its module
#: (``--dekking`` measures it). When modules or tests move, change them here only.
TARGETS = {
    "scores": Target("wijkkompas/kompas/scores.py",
                     f"{NO_HYPOTHESIS} tests/kompas/test_scores.py"),
    "classes": Target("wijkkompas/kompas/classes.py",
                      f"{NO_HYPOTHESIS} tests/kompas/test_scores.py"),
    "aggregate": Target("wijkkompas/indicatoren/aggregate.py",
                        f"{NO_HYPOTHESIS} tests/indicatoren/test_aggregate.py"),
    "harmonise": Target("wijkkompas/indicatoren/harmonise.py",
                        "-p no:anyio tests/indicatoren/test_harmonise.py -k 'not almelo and "
                        "not cli and not profile'"),
    "suppression": Target("wijkkompas/vlekkenkaart/suppression.py",
                          "-p no:anyio tests/vlekkenkaart/test_privacy.py -k 'by_hand or "
                          "small_tree or outside or refused or brute_force_reads'"),
    "vlekken": Target("wijkkompas/vlekkenkaart/vlekken.py",
                      f"{NO_HYPOTHESIS} tests/vlekkenkaart/test_vlekken.py"),
    "inwoners": Target("wijkkompas/indicatoren/inwoners.py",
                       f"{NO_HYPOTHESIS} tests/indicatoren/test_inwoners.py"),
    "veiligheid": Target("wijkkompas/indicatoren/veiligheid.py",
                         f"{NO_HYPOTHESIS} tests/indicatoren/test_inwoners.py"),
}

#: The claimed equivalent mutants, with their reasons (see ``equivalents``).
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.toml"


def test_command(target: Target) -> str:
    """The whole fast selection of ``target``, as one shell command."""
    return (f"{sys.executable} -m pytest -x -q -p no:cacheprovider --noconftest "
            f"{target.tests}")


def mutant_command(name: str, work: Path) -> str:
    """The command cosmic-ray runs against each mutant of target ``name``: the tests of the
    fast selection that run the mutated lines (see ``run_mutant``)."""
    return (f"{sys.executable} tools/mutation.py --mutant {name} --kaart "
            f"{work / f'{name}-tests.json'}")


def test_map(work: Path, repo: Path, name: str) -> Path:
    """Which tests of the fast selection run each line of the module (coverage.py with the
    test function as context), with the module as it is, in ``work/<name>-tests.json``."""
    from coverage import CoverageData

    target = TARGETS[name]
    path = work / f"{name}-tests.json"
    data_file = work / f"{name}.coverage"
    rc = work / f"{name}.coveragerc"
    rc.write_text(f"[run]\ndynamic_context = test_function\ninclude = {target.module}\n"
                  f"data_file = {data_file}\n", encoding="utf-8")
    command = (f"{sys.executable} -m coverage run --rcfile={rc} -m pytest -q -p no:cacheprovider "
               f"--noconftest {target.tests}")
    done = subprocess.run(command, shell=True, cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fout: de snelle tests van {name} slagen niet:\n{done.stdout[-2000:]}")
    data = CoverageData(basename=str(data_file))
    data.read()
    measured = [f for f in data.measured_files() if f.endswith(target.module)]
    files = [t for t in shlex.split(target.tests) if t.endswith(".py")]
    by_module = {f.removesuffix(".py").replace("/", "."): f for f in files}
    lines: dict[str, list[str]] = {}
    for line, contexts in (data.contexts_by_lineno(measured[0]) if measured else {}).items():
        nodes = set()
        for context in contexts:
            found = [m for m in by_module if context.startswith(m + ".")]
            # Lines run while importing or in a fixture have no test function: all tests.
            nodes.add(f"{by_module[found[0]]}::{context[len(found[0]) + 1:].replace('.', '::')}"
                      if found else "")
        lines[str(line)] = sorted(nodes)
    options = [t for t in shlex.split(target.tests) if not t.endswith(".py")]
    path.write_text(json.dumps({"module": target.module, "tests": target.tests,
                                "options": options,
                                "original": (repo / target.module).read_text(encoding="utf-8"),
                                "lines": lines}, indent=1), encoding="utf-8")
    return path


def run_mutant(kaart: Path) -> int:
    """Run, in the current folder (a copy with one mutant applied), the tests of the fast
    selection that run the changed lines; all of them when a changed line runs at import
    or in a fixture, or no test runs it. A test that does not run a line cannot see a change
    there (the path up to it is the same), so this kills exactly what the whole selection
    kills, apart from state shared between tests. Returns pytest's exit code."""
    import difflib

    plan = json.loads(kaart.read_text(encoding="utf-8"))
    now = Path(plan["module"]).read_text(encoding="utf-8").splitlines()
    before = plan["original"].splitlines()
    changed = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=before, b=now,
                                                     autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    nodes: set[str] = set()
    for line in changed:
        tests = plan["lines"].get(str(line))
        if not tests or "" in tests:
            nodes = set()
            break
        nodes.update(tests)
    if not changed or not nodes:
        return subprocess.run(f"{sys.executable} -m pytest -x -q -p no:cacheprovider "
                              f"--noconftest {plan['tests']}", shell=True).returncode
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           "--noconftest", *plan["options"], *sorted(nodes)]).returncode


def copy_checkout(work: Path, folder: str = "repo") -> Path:
    """The tracked files of the checkout in ``work/<folder>``, and ``work/shared`` pointing
    at the shared data beside the checkout (the tests read ``../shared/data``)."""
    repo = work / folder
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shared = work / "shared"
    if not shared.exists():
        shared.symlink_to((ROOT.parent / "shared").resolve(), target_is_directory=True)
    return repo


#: Operators left out: arithmetic turned into a shift, a power, a remainder, a floor
#: division or a bit operation (``a + b`` into ``a >> b``, ...). The code has none of these
#: and such mutants die on the first number; they would only multiply the run time. An
#: ``&`` turned into ``|`` (masks in pandas) stays in.
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_\w+_(FloorDiv|Mod|Pow|RShift|LShift|BitXor)$",
    r"core/ReplaceBinaryOperator_(Add|Sub|Mul|Div|FloorDiv|Mod|Pow)_(BitOr|BitAnd)$",
]


def write_config(work: Path, name: str, target: Target, timeout: float,
                 workers: list[str] | None = None) -> Path:
    """The cosmic-ray configuration of one target; with ``workers`` (URLs of cosmic-ray
    http-workers) the mutants are spread over them, else run one by one."""
    command = mutant_command(name, work)
    distributor = ('name = "http"\n\n[cosmic-ray.distributor.http]\n'
                   f"worker-urls = {json.dumps(workers)}\n\n" if workers
                   else 'name = "local"\n\n')
    text = (
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        "[cosmic-ray.distributor]\n"
        f"{distributor}"
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(EXCLUDED_OPERATORS)}\n"
    )
    path = work / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


#: The result cosmic-ray gets for a mutant inside a type annotation (see skip_annotations).
ANNOTATION = "Annotation"


def annotation_lines(source: str) -> set[tuple[int, int]]:
    """(line, column) of every position inside a type annotation of ``source``."""
    spans = set()
    for node in ast.walk(ast.parse(source)):
        notes = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            notes.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
        for note in filter(None, notes):
            if note.lineno != note.end_lineno:
                raise SystemExit(f"fout: annotatie over meer regels op regel {note.lineno}")
            spans.update((note.lineno, col) for col in range(note.col_offset, note.end_col_offset))
    return spans


def skip_annotations(session: Path, module: Path) -> int:
    """Mark every pending mutant inside a type annotation as skipped; how many.

    The modules start with ``from __future__ import annotations``: an annotation is kept as
    text and never evaluated, so a mutant there (``int | None`` into ``int + None``) cannot
    change what the code does. Running the tests against it would only cost time.
    """
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    source = module.read_text(encoding="utf-8")
    if "from __future__ import annotations" not in source:
        return 0
    spans = annotation_lines(source)
    skipped = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            start = item.mutations[0].start_pos
            if (start[0], start[1]) in spans:
                db.set_result(item.job_id, WorkResult(output=ANNOTATION,
                                                      worker_outcome=WorkerOutcome.SKIPPED))
                skipped += 1
    return skipped


#: The output recorded for a survivor killed when retested with today's tests (--opnieuw).
RETESTED = "Gedood bij --opnieuw, met de tests van nu"

#: The result cosmic-ray gets for a mutant left out of a random sample (see take_sample).
SAMPLE = "Buiten de steekproef"


def take_sample(session: Path, size: int, seed: int) -> int:
    """Leave all but a random ``size`` of the pending mutants out (marked skipped, as
    ``SAMPLE``); how many were left out. The sample is drawn with ``random.Random(seed)``
    from the pending mutants sorted by id, so the same session and seed draw the same."""
    import random

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = sorted(item.job_id for item in db.pending_work_items)
        keep = set(random.Random(seed).sample(pending, min(size, len(pending))))
        out = [job for job in pending if job not in keep]
        for job in out:
            db.set_result(job, WorkResult(output=SAMPLE, worker_outcome=WorkerOutcome.SKIPPED))
    return len(out)


def drop_sample(session: Path) -> None:
    """Put the mutants left out of a sample back among the pending ones (a whole run)."""
    import sqlite3

    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE output = ?", (SAMPLE,))


def _run(args: list[str], cwd: Path, limit: float | None = None) -> bool:
    """Run a command in its own process group; False when it hit ``limit`` seconds."""
    process = subprocess.Popen(args, cwd=cwd, start_new_session=True)
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        return False
    if process.returncode != 0:
        raise SystemExit(f"fout: {' '.join(args[:3])} stopte met code {process.returncode}")
    return True


def equivalents(name: str) -> list[dict[str, str]]:
    """The claimed equivalent mutants of target ``name`` in ``EQUIVALENTS``.

    Each claim has ``regel``, a piece of the mutated source line (text, not a line number,
    so that it holds when lines move), ``operator``, the end of cosmic-ray's operator name
    (``ReplaceComparisonOperator_Eq_LtE``), and ``reden``: why the mutant cannot change what
    the code does, a sentence a reviewer can check against the code.
    """
    import tomllib

    if not EQUIVALENTS.exists():
        return []
    return tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8")).get(name, [])


def claim_of(claims: list[dict[str, str]], text: str, operator: str,
             new: str = "") -> dict[str, str] | None:
    """The claim that covers a mutant by ``operator`` on the source line ``text`` (``new``:
    the line as the mutant has it), if any. A claim with ``nieuw`` covers only the mutants
    whose new line holds that text (``+ 2``, not ``+ 0``)."""
    for claim in claims:
        if (claim["regel"] in text and operator.endswith(claim["operator"])
                and claim.get("nieuw", "") in new):
            return claim
    return None


def _new_line(diff: str) -> str:
    """The first added line of a mutant's diff."""
    return next((line[1:].strip() for line in diff.splitlines()
                 if line.startswith("+") and not line.startswith("+++")), "")


def summary(session: Path, name: str | None = None) -> dict[str, object]:
    """Counts per outcome and every surviving mutant of a session; with the target ``name``
    each survivor carries its source line and, where one is claimed, why it is equivalent."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    lines = (ROOT / TARGETS[name].module).read_text(encoding="utf-8").splitlines() if name \
        else []
    claims = equivalents(name) if name else []
    counts = {"gedood": 0, "overleefd": 0, "ongeldig": 0, "weggelaten": 0,
              "in annotatie": 0, "buiten steekproef": 0, "nog te doen": 0, "gelijkwaardig": 0}
    survivors = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.test_outcome == TestOutcome.KILLED:
                counts["gedood"] += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                counts["overleefd"] += 1
                mutation = item.mutations[0]
                line = mutation.start_pos[0]
                text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                claim = claim_of(claims, text, mutation.operator_name, _new_line(result.diff))
                counts["gelijkwaardig"] += claim is not None
                survivors.append({"regel": line, "operator": mutation.operator_name,
                                  "tekst": text, "nieuw": _new_line(result.diff),
                                  "reden": claim["reden"] if claim else None,
                                  "wijziging": result.diff})
            elif result.output == "Filtered operator":
                counts["weggelaten"] += 1
            elif result.output == ANNOTATION:
                counts["in annotatie"] += 1
            elif result.output == SAMPLE:
                counts["buiten steekproef"] += 1
            else:
                counts["ongeldig"] += 1
        counts["nog te doen"] = db.num_work_items - db.num_results
    done = counts["gedood"] + counts["overleefd"]
    rate = round(100 * counts["gedood"] / done, 1) if done else None
    real = done - counts["gelijkwaardig"]
    rate_real = round(100 * counts["gedood"] / real, 1) if real else None
    return {**counts, "percentage_gedood": rate,
            "percentage_gedood_niet_gelijkwaardig": rate_real, "overlevers": survivors}


def coverage_of(name: str) -> float:
    """Percentage of the lines of target ``name`` that its fast test selection runs
    (coverage.py, run on the checkout itself: it changes nothing there)."""
    target = TARGETS[name]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "coverage"
        env = {**os.environ, "COVERAGE_FILE": str(data)}
        run = (f"{sys.executable} -m coverage run --include={target.module} -m pytest -q "
               f"-p no:cacheprovider --noconftest {target.tests}")
        done = subprocess.run(run, shell=True, cwd=ROOT, env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"fout: de snelle tests van {name} slagen niet:\n"
                             f"{done.stdout[-2000:]}")
        report = subprocess.run([sys.executable, "-m", "coverage", "report", "--format=total",
                                 "--precision=1"], cwd=ROOT, env=env, capture_output=True,
                                text=True, check=True)
    return float(report.stdout.strip())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_workers(work: Path, count: int) -> tuple[list[subprocess.Popen], list[str]]:
    """``count`` cosmic-ray http-workers on loopback, each in its own copy of the checkout
    (a worker changes the module in its own folder)."""
    processes, urls = [], []
    for number in range(count):
        copy = copy_checkout(work, f"werker{number + 1}")
        port = _free_port()
        processes.append(subprocess.Popen(
            ["cosmic-ray", "http-worker", "--port", str(port)], cwd=copy,
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"fout: werker op poort {port} start niet") from None
                time.sleep(0.2)
    return processes, urls


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()


def run_target(work: Path, repo: Path, name: str, minutes: float, timeout: float,
               workers: int = 1, sample: int | None = None, seed: int = 28) -> dict:
    target = TARGETS[name]
    test_map(work, repo, name)
    config = write_config(work, name, target, timeout)
    session = work / f"{name}.sqlite"
    if not session.exists():
        _run(["cosmic-ray", "init", str(config), str(session)], repo)
        _run(["cr-filter-operators", str(session), str(config)], repo)
        skip_annotations(session, repo / target.module)
        _run(["cosmic-ray", "baseline", str(config)], repo, limit=600)
    # Without a sample every mutant runs; with one, N more are drawn from those not run yet.
    drop_sample(session)
    if sample is not None:
        take_sample(session, sample, seed)
    before = summary(session, name)
    started, cpu = time.monotonic(), _children_cpu()
    processes, urls = start_workers(work, workers) if workers > 1 else ([], None)
    try:
        config = write_config(work, name, target, timeout, urls)
        finished = _run(["cosmic-ray", "exec", str(config), str(session)], repo,
                        limit=minutes * 60)
    finally:
        stop_workers(processes)
    seconds, cpu = time.monotonic() - started, _children_cpu() - cpu
    # A stopped run may leave its last mutant in a copy: put the module back.
    for copy in [repo, *(work / f"werker{n + 1}" for n in range(len(processes)))]:
        shutil.copy2(ROOT / target.module, copy / target.module)
    after = summary(session, name)
    ran = (after["gedood"] + after["overleefd"] + after["ongeldig"]
           - before["gedood"] - before["overleefd"] - before["ongeldig"])
    result = {"doel": name, "module": target.module, "tests": target.tests,
              "af": finished, "gedraaid_nu": ran,
              "werkers": workers,
              "seconden_per_mutant": round(seconds / ran, 1) if ran else None,
              "processorseconden_per_mutant": round(cpu / ran, 1) if ran else None,
              **after}
    (work / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                       encoding="utf-8")
    return result


def _children_cpu() -> float:
    """User plus system seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def retest_survivors(work: Path, name: str, timeout: float) -> list[dict[str, object]]:
    """Each surviving mutant of a session again, against the whole fast selection as it is
    now (after tests were added for the survivors): killed or still surviving. A mutant
    killed now is recorded as killed in the session (output ``RETESTED``), so that the
    summary counts what today's tests kill."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    target = TARGETS[name]
    repo = copy_checkout(work, "opnieuw")
    session = str(work / f"{name}.sqlite")
    with use_db(session, WorkDB.Mode.open) as db:
        survivors = [(item.job_id, item.mutations[0], result.diff)
                     for item, result in db.completed_work_items
                     if result.test_outcome == TestOutcome.SURVIVED]
    command = test_command(target)
    out = []
    for job, mutation, diff in survivors:
        subprocess.run(["cosmic-ray", "apply", target.module, mutation.operator_name,
                        str(mutation.occurrence)], cwd=repo, check=True, capture_output=True)
        killed = None
        try:
            # On a busy machine a slow run is no proof of a hanging mutant: try again with
            # four times the time; a mutant still that slow stays undecided, never killed.
            for limit in (timeout, 4 * timeout):
                try:
                    done = subprocess.run(command, shell=True, cwd=repo, capture_output=True,
                                          timeout=limit)
                except subprocess.TimeoutExpired:
                    continue
                killed = done.returncode != 0
                break
        finally:
            shutil.copy2(ROOT / target.module, repo / target.module)
        if killed:
            with use_db(session, WorkDB.Mode.open) as db:
                db.set_result(job, WorkResult(output=RETESTED, diff=diff,
                                              test_outcome=TestOutcome.KILLED,
                                              worker_outcome=WorkerOutcome.NORMAL))
        out.append({"regel": mutation.start_pos[0], "operator": mutation.operator_name,
                    "gedood": killed})
    return out


def report(name: str, result: dict, run: dict | None) -> None:
    """Print the outcome of one target: counts, both rates, and every survivor with its
    line, and the reason where it is claimed equivalent."""
    state = ("" if run is None else
             f" ({'af' if run['af'] else 'gestopt op de tijdslimiet'}; deze run "
             f"{run['gedraaid_nu']} mutanten met {run['werkers']} werker(s), "
             f"{run['seconden_per_mutant']} s per mutant, "
             f"{run['processorseconden_per_mutant']} s processortijd)")
    print(f"{name}: {result['gedood']} gedood, {result['overleefd']} overleefd (waarvan "
          f"{result['gelijkwaardig']} gelijkwaardig verklaard), {result['ongeldig']} ongeldig, "
          f"{result['weggelaten']} weggelaten, {result['in annotatie']} in een annotatie, "
          f"{result['buiten steekproef']} buiten de steekproef, "
          f"{result['nog te doen']} nog te doen{state}; gedood ruw: "
          f"{result['percentage_gedood']} %, van de niet-gelijkwaardige: "
          f"{result['percentage_gedood_niet_gelijkwaardig']} %")
    for survivor in result["overlevers"]:
        why = (f"gelijkwaardig: {survivor['reden']}" if survivor["reden"]
               else "NIET VERKLAARD")
        print(f"  overleefd: regel {survivor['regel']} ({survivor['operator']}): "
              f"{survivor['tekst']}\n      wordt: {survivor['nieuw']}\n      {why}")
    if not result["nog te doen"] and not result["buiten steekproef"]:
        used = {(s["tekst"], s["operator"], s["nieuw"]) for s in result["overlevers"]}
        for claim in equivalents(name):
            if not any(claim_of([claim], text, operator, new) for text, operator, new in used):
                print(f"  verklaring zonder overlever (gedood of verouderd): "
                      f"{claim['regel']} ({claim['operator']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutatietests van de kern van de methode.")
    parser.add_argument("doelen", nargs="*", help=f"welke ({', '.join(TARGETS)}; standaard "
                        "alle)")
    parser.add_argument("--minuten", type=float, default=20.0,
                        help="tijdslimiet per doel (standaard 20)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconden per testrun van één mutant (standaard 30)")
    parser.add_argument("--werkers", type=int, default=1,
                        help="zoveel mutanten tegelijk (elk in een eigen kopie; standaard 1)")
    parser.add_argument("--werkmap", type=Path, default=None,
                        help="map voor de kopie en de sessies (om door te gaan)")
    parser.add_argument("--steekproef", type=int, default=None, metavar="N",
                        help="draai N willekeurig gekozen mutanten van wat nog niet gedraaid "
                        "is (nog eens: N meer; zonder: alle)")
    parser.add_argument("--zaad", type=int, default=28,
                        help="startgetal van de steekproef (standaard 28)")
    parser.add_argument("--mutant", metavar="DOEL", help=argparse.SUPPRESS)
    parser.add_argument("--kaart", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dekking", action="store_true",
                        help="meet per doel welk deel van de regels de snelle tests raken")
    parser.add_argument("--samenvatting", action="store_true",
                        help="toon alleen de uitkomst van de sessies in --werkmap (niets draaien)")
    parser.add_argument("--lijst", action="store_true", help="toon de doelen en hun tests")
    parser.add_argument("--opnieuw", action="store_true",
                        help="test alleen de overlevers van een eerdere sessie (--werkmap) "
                        "opnieuw, met de tests van nu")
    args = parser.parse_args(argv)
    if args.mutant:  # run by cosmic-ray for one mutant (see mutant_command)
        return run_mutant(args.kaart)
    unknown = [name for name in args.doelen if name not in TARGETS]
    if unknown:
        parser.error(f"onbekend doel {', '.join(unknown)}; kies uit {', '.join(TARGETS)}")
    if args.lijst:
        for name, target in TARGETS.items():
            print(f"{name}: {target.module} <- {target.tests}")
        return 0
    if args.opnieuw:
        if args.werkmap is None:
            parser.error("--opnieuw heeft de --werkmap van de eerdere sessie nodig")
        for name in args.doelen or list(TARGETS):
            if not (args.werkmap / f"{name}.sqlite").exists():
                continue
            again = retest_survivors(args.werkmap, name, args.timeout)
            killed = sum(1 for r in again if r["gedood"])
            print(f"{name}: van {len(again)} overlevers nu {killed} gedood")
            for r in again:
                if r["gedood"] is None:
                    print(f"  onbeslist (te traag, ook na 4 x --timeout): regel {r['regel']} "
                          f"({r['operator']})")
                elif not r["gedood"]:
                    print(f"  overleeft nog: regel {r['regel']} ({r['operator']})")
        return 0
    if args.dekking:
        for name in args.doelen or list(TARGETS):
            print(f"{name}: {coverage_of(name)} % van de regels van {TARGETS[name].module} "
                  f"geraakt door {TARGETS[name].tests}")
        return 0
    if args.samenvatting:
        if args.werkmap is None:
            parser.error("--samenvatting heeft de --werkmap van de sessies nodig")
        for name in args.doelen or list(TARGETS):
            if (args.werkmap / f"{name}.sqlite").exists():
                report(name, summary(args.werkmap / f"{name}.sqlite", name), None)
        return 0
    work = args.werkmap or Path(tempfile.mkdtemp(prefix="wijkkompas-mutatie-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = copy_checkout(work)
    where = subprocess.run([sys.executable, "-c", "import wijkkompas; print(wijkkompas.__file__)"],
                           cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    if not where.startswith(str(repo)):
        raise SystemExit(f"fout: de kopie gebruikt {where}, niet {repo}")
    for name in args.doelen or list(TARGETS):
        result = run_target(work, repo, name, args.minuten, args.timeout, args.werkers,
                            args.steekproef, args.zaad)
        report(name, result, result)
    print(f"sessies en samenvattingen: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
