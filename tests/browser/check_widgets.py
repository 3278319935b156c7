#!/usr/bin/env python
"""Check in a real browser that the book's ipywidgets respond (JupyterLab + headless Chromium).

Run on demand, not by ``make test``: it needs Chromium, minutes of CPU and a free port
(``make browser-check`` runs it and the deck check through tests/browser/test_in_browser.py).

What it does, per notebook given on the command line:

1. copies the notebook into a temporary server root, with outputs and saved widget state cleared
   (the book's files are never opened by the server, so nothing can autosave over them; autosave is
   switched off as well);
2. opens it in ``jupyter lab`` (own port, random token, temporary config/settings/runtime dirs) in
   headless Chromium driven by Playwright (``executable_path=/usr/bin/chromium``: no browser download);
3. clicks Run > Run All Cells and waits until every code cell shows an execution count
   (an error stops the run: reported as a failed ``run-all`` line);
4. for each panel of that notebook in :data:`CHECKS`: screenshots the cell's output, moves the control
   the way a reader does (keyboard on a slider handle, picks a dropdown option, clicks a toggle or
   the Train button), waits for the kernel's answer and checks that the panel's picture (the ``<img>``
   of an ``ipywidgets.Image``: new blob URL *and* new bytes) or HTML changed -- or, for ``expect:
   "unchanged"``, that it did not; screenshots the output again;
5. shuts the notebook's kernel down.

Prints one PASS/FAIL line per control, writes ``check.json`` and the screenshots to ``--out``
(default ``build/browser-check``, git-ignored) and exits 1 on any failure.

    source .venv/bin/activate && pip install playwright   # once; uses the system Chromium
    RNNREG_DATA=/work/shared/data/ptb nice -n 10 python tests/browser/check_widgets.py \\
        book/00_guide.ipynb book/01_why_regularize.ipynb book/02_where_dropout_goes.ipynb book/03_signal_decay.ipynb

With no notebook arguments it checks every ``book/NN_*.ipynb``. A notebook without entries in
:data:`CHECKS` is still run (the ``run-all`` line) and reported as having no widget checks.
To cover a new chapter add rows to :data:`CHECKS` (see the field list there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------------------------
# The table: one row per control. Fields:
#   notebook  file-name stem prefix ("03" matches book/03_signal_decay.ipynb)
#   cell      a substring of the code cell that displays the panel (first match; robust to edits elsewhere)
#   name      what is checked (printed)
#   steps     what the reader does, in order:
#               ("slider", label, [keys...])     focus the noUiSlider handle (role=slider) next to the
#                                                 label, press the keys (ArrowRight, Home, End, PageUp...)
#               ("dropdown", label, index|text)  choose an option of the <select> next to the label
#               ("toggle", label, option)        click a ToggleButtons option
#               ("select", label, [texts])       SelectMultiple: choose exactly these options (ctrl-click)
#               ("button", text)                 click the button with this text
#   target    "img" (the panel's ipywidgets.Image) or "html:<css>" (innerHTML of that element)
#   expect    "changed" (default) or "unchanged" (wait `hold_s` seconds, then it must be the same)
#   done      optional: "train" = also wait for the TrainingPanel status line to say "done ..." anew
#             and its button to be enabled again (the picture redraws during training)
#   timeout_s how long the answer may take (default --timeout)
# ------------------------------------------------------------------------------------------------
CHECKS: list[dict] = [
    dict(
        notebook="01",
        cell="views.panels.TrainingPanel(",
        name="TrainingPanel: sliders alone do not retrain",
        steps=[("slider", "training slice (tokens)", ["Home"]), ("slider", "epochs", ["Home"])],
        target="img",
        expect="unchanged",
        hold_s=8,
    ),
    dict(
        notebook="01",
        cell="views.panels.TrainingPanel(",
        name="TrainingPanel: Train (1,000 tokens, 1 epoch) -> figure",
        steps=[("button", "Train")],
        target="img",
        done="train",
        timeout_s=900,
    ),
    dict(
        notebook="02",
        cell="views.panels.SchemeDiagram(",
        name="SchemeDiagram: scheme dropdown -> diagram",
        steps=[("dropdown", "scheme", "everywhere")],
        target="img",
    ),
    dict(
        notebook="02",
        cell="views.panels.InformationPath(",
        name="InformationPath: lag slider -> path",
        steps=[("slider", "lag (steps)", ["ArrowRight", "ArrowRight"])],
        target="img",
    ),
    dict(
        notebook="02",
        cell="views.panels.InformationPath(",
        name="InformationPath: scheme dropdown -> path",
        steps=[("dropdown", "scheme", "memory")],
        target="img",
    ),
    dict(
        notebook="02",
        cell="views.panels.TrainingPanel(",
        name="TrainingPanel (rate sweep): Train (1 rate, 1,000 tokens, 1 epoch)",
        steps=[
            ("select", "recurrent rates", ["0.5"]),
            ("slider", "training slice (tokens)", ["Home"]),
            ("slider", "epochs", ["Home"]),
            ("button", "Train"),
        ],
        target="img",
        done="train",
        timeout_s=900,
    ),
    dict(
        notebook="03",
        cell="views.signal.SignalPanel(",
        name="SignalPanel: p slider -> curves",
        steps=[("slider", "dropout rate p", ["ArrowRight", "ArrowRight"])],
        target="img",
    ),
    dict(
        notebook="03",
        cell="views.signal.SignalPanel(",
        name="SignalPanel: lag slider -> curves",
        steps=[("slider", "lag k", ["ArrowRight"])],
        target="img",
    ),
    dict(
        notebook="03",
        cell="views.signal.SignalPanel(",
        name="SignalPanel: scheme dropdown -> curves",
        steps=[("dropdown", "scheme", "zaremba")],
        target="img",
    ),
    dict(
        notebook="04",
        cell="views.equivalence.TheoryPanel(",
        name="TheoryPanel: hidden-size slider -> candidates",
        steps=[("slider", "hidden size N", ["ArrowRight"])],
        target="img",
    ),
    dict(
        notebook="04",
        cell="views.equivalence.TheoryPanel(",
        name="TheoryPanel: p slider -> candidates",
        steps=[("slider", "dropout rate p", ["ArrowRight"])],
        target="img",
    ),
    dict(
        notebook="04",
        cell="views.equivalence.EquivalencePanel(",
        name="EquivalencePanel: p toggle -> equivalent sizes",
        steps=[("toggle", "p", "0.35")],
        target="img",
    ),
    dict(
        notebook="04",
        cell="views.equivalence.EquivalencePanel(",
        name="EquivalencePanel: metric toggle -> equivalent sizes",
        steps=[("toggle", "perplexity", "valid")],
        target="img",
    ),
    dict(
        notebook="05",
        cell="views.zoo.ZooCurves(",
        name="ZooCurves: metric toggle -> curves",
        steps=[("toggle", "show", "valid − train")],
        target="img",
    ),
    dict(
        notebook="05",
        cell="views.zoo.ZooCurves(",
        name="ZooCurves: scheme list -> curves",
        steps=[("select", "schemes", ["memory"])],
        target="img",
    ),
]

# JupyterLab user settings for the temporary settings dir
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}

ACTIVE_NB = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# JS: signature of the target inside the output element
SIGNATURE_JS = r"""
async (el, target) => {
  if (target === 'img') {
    const img = el.querySelector('img');
    if (!img || !img.src) return null;
    let size = -1, hash = 0;
    try {
      const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      size = buf.length;
      let h = 2166136261;
      for (let i = 0; i < buf.length; i++) { h ^= buf[i]; h = Math.imul(h, 16777619) >>> 0; }
      hash = h;
    } catch (e) { hash = 'fetch failed: ' + e; }
    return {src: img.src, size: size, hash: String(hash), w: img.naturalWidth, h: img.naturalHeight};
  }
  const css = target.slice(5);
  const nodes = el.querySelectorAll(css);
  if (!nodes.length) return null;
  const html = Array.from(nodes).map(n => n.innerHTML).join('\n');
  let h = 2166136261;
  for (let i = 0; i < html.length; i++) { h ^= html.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return {src: null, size: html.length, hash: String(h), text: nodes[nodes.length - 1].innerText.slice(0, 120)};
}
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def versions() -> dict:
    import importlib.metadata as md

    v = {"python": sys.version.split()[0]}
    for pkg in ("jupyterlab", "jupyter_server", "ipywidgets", "jupyterlab_widgets", "ipykernel", "playwright"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            v[pkg] = None
    return v


def git_info() -> dict:
    def git(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout

    status = git("status", "--porcelain").splitlines()
    return {
        "commit": git("rev-parse", "HEAD").strip(),
        "modified_tracked_files": [l[3:] for l in status if l[:2] != "??"],
        "untracked": [l[3:] for l in status if l[:2] == "??"],
    }


def strip_copy(src: Path, dst: Path) -> dict:
    """Copy a notebook with outputs, execution counts and saved widget state cleared; return its JSON."""
    nb = json.loads(src.read_text())
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    nb.get("metadata", {}).pop("widgets", None)
    dst.write_text(json.dumps(nb, indent=1))
    return nb


def find_cell(nb: dict, marker: str) -> int | None:
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code" and marker in "".join(c["source"]):
            return i
    return None


class Server:
    def __init__(self, root: Path, tmp: Path, logfile: Path):
        self.port, self.token = free_port(), secrets.token_hex(16)
        settings = tmp / "lab-settings"
        for rel, val in LAB_SETTINGS.items():
            p = settings / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(val))
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")
        env.update(
            JUPYTER_CONFIG_DIR=str(tmp / "config"),
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
            IPYTHONDIR=str(tmp / "ipython"),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.port_retries=0",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.extension_manager=readonly",
        ] + (["--allow-root"] if os.geteuid() == 0 else [])
        self.log = open(logfile, "w")  # noqa: SIM115 - open for the server's lifetime, closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str):
        req = urllib.request.Request(self.base + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def wait_ready(self, timeout: float = 180) -> None:
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log.name}")
            try:
                self.api("GET", "/api/status")
                return
            except Exception:
                time.sleep(1)
        raise TimeoutError("jupyter lab did not start")

    def shutdown_kernels(self) -> None:
        try:
            for s in self.api("GET", "/api/sessions") or []:
                self.api("DELETE", f"/api/sessions/{s['id']}")
            for k in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", f"/api/kernels/{k['id']}")
        except Exception as e:  # noqa: BLE001
            log(f"warning: kernel shutdown: {e}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.shutdown_kernels()
            finally:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# ------------------------------------------------------------------------------------------------
# Browser side
# ------------------------------------------------------------------------------------------------
def run_all(page, server: Server, name: str, run_timeout: float) -> dict:
    """Run > Run All Cells, then wait for every code cell to have an execution count."""
    nb = page.locator(ACTIVE_NB)
    nb.locator(".jp-Cell").first.wait_for(timeout=120_000)
    t0 = time.time()  # wait for the notebook's kernel to be up and idle (server side)
    while time.time() - t0 < 180:
        sess = [s for s in server.api("GET", "/api/sessions") or [] if s.get("path", "").endswith(name)]
        if sess and (sess[0].get("kernel") or {}).get("execution_state") == "idle":
            break
        time.sleep(1)
    else:
        raise TimeoutError(f"kernel for {name} not idle after 180 s")
    time.sleep(2)  # let the page's kernel connection settle
    nb.locator(".jp-Cell").first.click()
    how = "menu Run > Run All Cells"
    try:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click(timeout=10_000)
        page.locator(
            ".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")
        ).click(timeout=10_000)
    except Exception:  # noqa: BLE001  (menu layout changed: use the command palette)
        how = "command palette: Run All Cells"
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Shift+C")
        page.keyboard.type("Run All Cells")
        page.keyboard.press("Enter")
    t0 = time.time()
    idle_since = None
    prompts: list[str] = []
    while time.time() - t0 < run_timeout:
        prompts = page.evaluate(f"""() => Array.from(document.querySelectorAll('{ACTIVE_NB} .jp-CodeCell .jp-InputArea-prompt'))
                                       .map(e => e.innerText.trim())""")
        if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            return {"ok": True, "seconds": round(time.time() - t0, 1), "how": how, "code_cells": len(prompts)}
        busy = any("*" in p for p in prompts)
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.time()
        elif time.time() - idle_since > 20:  # nothing queued, not all executed: stopped on an error
            err = page.evaluate(f"""() => Array.from(document.querySelectorAll('{ACTIVE_NB} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                                      .map(e => e.innerText).join('\\n---\\n').slice(-3000)""")
            first = next((i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)), None)
            return {
                "ok": False,
                "seconds": round(time.time() - t0, 1),
                "how": how,
                "code_cells": len(prompts),
                "error": f"stopped before code cell #{first} (0-based among code cells); stderr: {err}",
            }
        time.sleep(2)
    return {
        "ok": False,
        "seconds": round(time.time() - t0, 1),
        "how": how,
        "error": f"timeout after {run_timeout}s; prompts {prompts}",
    }


def wait_text_change(loc, before: str, timeout_s: float = 20) -> str:
    t0 = time.time()
    cur = before
    while time.time() - t0 < timeout_s:
        cur = loc.inner_text().strip()
        if cur != before:
            return cur
        time.sleep(0.25)
    return cur


def do_step(page, out, step) -> str:
    kind = step[0]
    if kind == "slider":
        _, label, keys = step
        box = out.locator(f'.widget-slider:has(label:text-is("{label}"))').first
        handle, readout = box.locator("[role=slider]").first, box.locator(".widget-readout").first
        before = readout.inner_text().strip()
        handle.focus()
        for k in keys:
            handle.press(k)
        after = wait_text_change(readout, before, 10)
        if after == before:
            raise AssertionError(f"slider '{label}' did not move ({before})")
        return f"slider '{label}' {before} -> {after} ({'+'.join(keys)})"
    if kind == "dropdown":
        _, label, choice = step
        sel = out.locator(f'.widget-dropdown:has(label:text-is("{label}")) select').first
        text_js = "s => s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ')"
        before = sel.evaluate(text_js)
        if isinstance(choice, int):
            sel.select_option(index=choice)
        else:
            texts = sel.evaluate("s => Array.from(s.options).map(o => o.text)")
            norm = [t.replace("\u00a0", " ") for t in texts]
            match = [
                t for t, n in zip(texts, norm) if n == choice or n.split(" — ")[0] == choice or n.startswith(choice)
            ]
            if not match:
                raise AssertionError(f"dropdown '{label}' has no option {choice!r}: {texts}")
            sel.select_option(label=match[0])
        after = sel.evaluate(text_js)
        return f"dropdown '{label}' {before.split(' — ')[0]} -> {after.split(' — ')[0]}"
    if kind == "toggle":
        _, label, option = step
        box = out.locator(f'.widget-toggle-buttons:has(label:text-is("{label}"))').first
        box.locator(f'button:text-is("{option}")').click()
        return f"toggle '{label}' -> {option}"
    if kind == "select":
        _, label, options = step
        sel = out.locator(f'.widget-select-multiple:has(label:text-is("{label}")) select').first
        sel.select_option(label=list(options))
        return f"select '{label}' -> {', '.join(options)}"
    if kind == "button":
        _, text = step
        out.locator(f'button:text-is("{text}")').first.click()
        return f"click '{text}'"
    raise ValueError(f"unknown step {step}")


def signature(out, target: str):
    return out.evaluate(SIGNATURE_JS, target)


def train_status(out) -> tuple[str, bool]:
    st = out.evaluate("""el => {
        const b = Array.from(el.querySelectorAll('button')).find(x => x.innerText.trim() === 'Train');
        const h = Array.from(el.querySelectorAll('.rnnreg-status .widget-html-content')).map(x => x.innerText);
        return [h.length ? h[0] : '', b ? !b.disabled : false]; }""")
    return st[0], st[1]


def check_control(page, nbjson: dict, chk: dict, outdir: Path, stem: str, idx: int, default_timeout: float) -> dict:
    res = {"notebook": stem, "name": chk["name"], "cell_marker": chk["cell"], "expect": chk.get("expect", "changed")}
    ci = find_cell(nbjson, chk["cell"])
    if ci is None:
        return {**res, "ok": False, "error": f"no code cell contains {chk['cell']!r}"}
    res["cell_index"] = ci
    cell = page.locator(ACTIVE_NB).locator(".jp-Cell").nth(ci)
    out = cell.locator(".jp-OutputArea").first
    target = chk["target"]
    timeout_s = chk.get("timeout_s", default_timeout)
    slug = re.sub(r"[^a-z0-9]+", "-", chk["name"].lower()).strip("-")[:50]
    base = f"{stem}__{idx:02d}_{slug}"
    # the panel must be rendered (not "Loading widget...")
    sel = "img" if target == "img" else target[5:]
    out.locator(sel).first.wait_for(state="attached", timeout=120_000)
    t0 = time.time()
    before = None
    while time.time() - t0 < 60 and not before:
        before = signature(out, target)
        time.sleep(0.5)
    if not before:
        return {**res, "ok": False, "error": f"target {target} not rendered"}
    out.scroll_into_view_if_needed()
    out.screenshot(path=str(outdir / f"{base}__before.png"))
    status_before = train_status(out)[0] if chk.get("done") == "train" else None
    actions = []
    t_act = time.time()  # update time is measured from the first action
    try:
        for step in chk["steps"]:
            actions.append(do_step(page, out, step))
    except Exception as e:  # noqa: BLE001
        out.screenshot(path=str(outdir / f"{base}__after.png"))
        return {**res, "ok": False, "actions": actions, "error": f"control: {e}"}
    res["actions"] = actions
    after, ok, why = before, False, ""
    if res["expect"] == "unchanged":
        time.sleep(chk.get("hold_s", 5))
        after = signature(out, target)
        ok = after is not None and after["hash"] == before["hash"] and after.get("src") == before.get("src")
        why = "" if ok else "panel changed although it should wait for the button"
    else:
        while time.time() - t_act < timeout_s:
            after = signature(out, target) or before
            changed = after["hash"] != before["hash"] and (target != "img" or after["src"] != before["src"])
            if chk.get("done") == "train":
                text, enabled = train_status(out)
                finished = enabled and text != status_before and text.lower().startswith("done")
                if changed and finished:
                    after = signature(out, target)
                    res["status_after"] = text
                    ok = True
                    break
            elif changed:
                ok = True
                break
            time.sleep(0.25)
        res["seconds_to_update"] = round(time.time() - t_act, 2)
        if ok:  # several key presses = several updates: wait until the picture stays put for settle_s
            last, t_last = after, time.time()
            while time.time() - t_last < chk.get("settle_s", 3) and time.time() - t_act < timeout_s:
                time.sleep(0.25)
                cur = signature(out, target) or last
                if cur["hash"] != last["hash"] or cur.get("src") != last.get("src"):
                    last, t_last = cur, time.time()
            after = last
            res["seconds_to_settle"] = round(t_last - t_act, 2)
        else:
            why = f"no change within {timeout_s}s"
    time.sleep(0.5)  # let the browser paint the new picture before the screenshot
    out.scroll_into_view_if_needed()
    out.screenshot(path=str(outdir / f"{base}__after.png"))
    res.update(
        ok=ok,
        before={k: before.get(k) for k in ("size", "hash", "w", "h", "text") if k in before},
        after={k: after.get(k) for k in ("size", "hash", "w", "h", "text") if k in after},
        screenshots=[f"{base}__before.png", f"{base}__after.png"],
    )
    if why:
        res["error"] = why
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to check (default: book/NN_*.ipynb)")
    ap.add_argument("--out", default=str(REPO / "build" / "browser-check"), help="screenshots + check.json")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--run-timeout", type=float, default=2400, help="seconds for Run All Cells per notebook")
    ap.add_argument("--timeout", type=float, default=300, help="default seconds for a panel to update")
    ap.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    args = ap.parse_args(argv)

    try:  # be gentle with a busy machine (no-op if already niced more)
        cur = os.nice(0)
        if cur < 10:
            os.nice(10 - cur)
    except OSError:
        pass
    from playwright.sync_api import sync_playwright

    nbs = [Path(p) for p in args.notebooks] or sorted((REPO / "book").glob("[0-9][0-9]_*.ipynb"))
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    for f in outdir.glob("*.png"):
        f.unlink()
    chromium_version = subprocess.run([args.chromium, "--version"], capture_output=True, text=True).stdout.strip()
    record = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(
            ["python", os.path.relpath(sys.argv[0], REPO), *(argv if argv is not None else sys.argv[1:])]
        ),
        "versions": {**versions(), "chromium": chromium_version},
        "git": git_info(),
        "env": {k: os.environ.get(k) for k in ("RNNREG_DATA", "OMP_NUM_THREADS")},
        "notebooks": [],
        "checks": [],
    }
    failures = 0
    tmp = Path(tempfile.mkdtemp(prefix="rnnreg-browser-"))
    root = tmp / "root"
    root.mkdir()
    server = Server(root, tmp, outdir / "jupyter.log")
    try:
        server.wait_ready()
        log(f"jupyter lab on port {server.port}; chromium: {chromium_version}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium,
                headless=not args.headed,
                args=["--disable-gpu", "--disable-dev-shm-usage"],
            )
            for n, nbpath in enumerate(nbs):
                stem = nbpath.stem
                checks = [c for c in CHECKS if stem.startswith(c["notebook"])]
                nbjson = strip_copy(nbpath, root / nbpath.name)
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                url = f"{server.base}/lab/workspaces/check{n}/tree/{nbpath.name}?reset&token={server.token}"
                log(f"{stem}: opening, Run All Cells ...")
                try:
                    page.goto(url, wait_until="domcontentloaded")
                    ra = run_all(page, server, nbpath.name, args.run_timeout)
                except Exception as e:  # noqa: BLE001
                    ra = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                ra.update(notebook=stem, checks_defined=len(checks))
                record["notebooks"].append(ra)
                line = f"{'PASS' if ra['ok'] else 'FAIL'}  {stem}: run-all ({ra.get('seconds', '?')} s)"
                print(line + ("" if ra["ok"] else f"  -- {ra.get('error', '')[:600]}"), flush=True)
                if not ra["ok"]:
                    failures += 1
                    page.screenshot(path=str(outdir / f"{stem}__run-all-failed.png"), full_page=True)
                elif not checks:
                    print(f"NOTE  {stem}: no widget checks defined in CHECKS (ran all cells only)", flush=True)
                if ra["ok"]:
                    for i, chk in enumerate(checks):
                        try:
                            res = check_control(page, nbjson, chk, outdir, stem, i, args.timeout)
                        except Exception as e:  # noqa: BLE001
                            res = {
                                "notebook": stem,
                                "name": chk["name"],
                                "ok": False,
                                "error": f"{type(e).__name__}: {str(e)[:800]}",
                            }
                        record["checks"].append(res)
                        failures += not res["ok"]
                        t = f" ({res['seconds_to_update']} s)" if "seconds_to_update" in res else ""
                        extra = "; ".join(res.get("actions", []))
                        print(
                            f"{'PASS' if res['ok'] else 'FAIL'}  {stem}: {chk['name']}{t}"
                            + (f"  [{extra}]" if extra else "")
                            + ("" if res["ok"] else f"  -- {res.get('error')}"),
                            flush=True,
                        )
                server.shutdown_kernels()
                ctx.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        record["failures"] = failures
        (outdir / "check.json").write_text(json.dumps(record, indent=1))
    log(f"{failures} failure(s); screenshots and check.json in {outdir}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
