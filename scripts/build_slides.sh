#!/usr/bin/env bash
# Build a reveal.js deck and a static HTML page (with widget state) for every book/*.ipynb,
# into build/ (not committed), such that both open WITHOUT a network:
#
#   build/slides/NN_name.slides.html   jupyter nbconvert --to slides
#   build/html/NN_name.html            jupyter nbconvert --to html
#   build/vendor/...                   reveal.js 4.0.2 (what nbconvert 7.x's reveal template targets),
#                                      require.js 2.1.10, jQuery 2.2.4, MathJax 2.7.7 and
#                                      @jupyter-widgets/html-manager 1.x, fetched once with `npm pack`
#   build/index.html                   links to all of the above
#
# The notebooks are converted as committed (with the outputs and widget state of their last
# clean run); nothing is executed here. After converting, the script fails if any generated
# page still names a CDN (unpkg, cdnjs, jsdelivr, googleapis).
#
# Usage:  make slides            (or: PATH=.venv/bin:$PATH bash scripts/build_slides.sh [book/NN_x.ipynb ...])
# Needs:  jupyter (nbconvert >= 7), and npm + the npm registry the first time (assets are cached in
#         build/vendor; set OFFLINE=1 to fail instead of fetching).
# Present: open build/slides/*.slides.html in a browser (file:// works; 's' opens speaker notes).
#         Slides are 1280x720; a widget panel shows as a still of its last state with a one-line
#         note (scripts/nbconvert_templates/book_static_panels.j2). To move the controls, present
#         the chapter itself in JupyterLab (View > Presentation Mode) with a running kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
VENDOR="$BUILD/vendor"
JUPYTER=${JUPYTER:-jupyter}
TEMPLATES="$(pwd)/scripts/nbconvert_templates"

# name@version  -> folder under build/vendor
VENDORED=(
  "reveal.js@4.0.2 reveal.js"
  "requirejs@2.1.10 requirejs"
  "jquery@2.2.4 jquery"
  "mathjax@2.7.7 mathjax"
  "@jupyter-widgets/html-manager@1.0.7 html-manager"
)

fetch() {  # fetch SPEC DIR: unpack the npm tarball of SPEC into build/vendor/DIR once
  local spec=$1 dir="$VENDOR/$2"
  if [[ -f "$dir/.vendored" && "$(cat "$dir/.vendored")" == "$spec" ]]; then
    return
  fi
  if [[ -n "${OFFLINE:-}" ]]; then
    echo "build_slides: $spec is not in $dir and OFFLINE is set" >&2
    exit 1
  fi
  command -v npm >/dev/null || { echo "build_slides: npm is needed once to fetch $spec" >&2; exit 1; }
  local tmp
  tmp=$(mktemp -d)
  echo "build_slides: fetching $spec" >&2
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  rm -rf "$dir"
  mkdir -p "$dir"
  tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
  echo "$spec" >"$dir/.vendored"
}

mkdir -p "$VENDOR" "$BUILD/slides" "$BUILD/html"
for entry in "${VENDORED[@]}"; do
  # shellcheck disable=SC2086
  fetch $entry
done
for f in reveal.js/dist/reveal.js reveal.js/plugin/notes/notes.js requirejs/require.js \
         jquery/dist/jquery.min.js mathjax/MathJax.js html-manager/dist/embed-amd.js; do
  [[ -f "$VENDOR/$f" ]] || { echo "build_slides: $VENDOR/$f missing (delete $VENDOR and rerun)" >&2; exit 1; }
done

# reveal's 'white' theme bundles its fonts ('simple' and others @import Google Fonts).
THEME=${THEME:-white}
if grep -q -E '@import url\(https?:' "$VENDOR/reveal.js/dist/theme/$THEME.css"; then
  echo "build_slides: reveal theme $THEME imports web fonts; pick one that does not (white)" >&2
  exit 1
fi

# Pages live one folder below build/, so assets are at ../vendor/... (works from file:// too).
ASSETS=(
  --HTMLExporter.require_js_url=../vendor/requirejs/require.js
  --HTMLExporter.jquery_url=../vendor/jquery/dist/jquery.min.js
  # SVG output: CommonHTML needs web fonts, which Chromium does not load from file:// (blank formulas)
  "--HTMLExporter.mathjax_url=../vendor/mathjax/MathJax.js?config=TeX-AMS_SVG-full,Safe"
  --HTMLExporter.widget_renderer_url=../vendor/html-manager/dist/embed-amd.js
  --HTMLExporter.jupyter_widgets_base_url=../vendor/
  --TemplateExporter.extra_template_basedirs="$TEMPLATES"
  --TemplateExporter.extra_template_paths="$TEMPLATES"
)

if [[ $# -gt 0 ]]; then NOTEBOOKS=("$@"); else NOTEBOOKS=(book/[0-9][0-9]_*.ipynb); fi

# Decks show no code (the chapter shows it): outputs and prose only.
"$JUPYTER" nbconvert --log-level=WARN --to slides --template book_reveal "${ASSETS[@]}" \
  --TemplateExporter.exclude_input=True --TemplateExporter.exclude_input_prompt=True \
  --TemplateExporter.exclude_output_prompt=True \
  --SlidesExporter.reveal_url_prefix=../vendor/reveal.js \
  --SlidesExporter.reveal_theme="$THEME" \
  --SlidesExporter.reveal_transition=none \
  --SlidesExporter.reveal_scroll=True \
  --SlidesExporter.reveal_number=c/t \
  --SlidesExporter.reveal_width=1280 \
  --SlidesExporter.reveal_height=720 \
  --no-prompt --output-dir "$BUILD/slides" "${NOTEBOOKS[@]}"

"$JUPYTER" nbconvert --log-level=WARN --to html --template book_lab "${ASSETS[@]}" \
  --output-dir "$BUILD/html" "${NOTEBOOKS[@]}"

# An index page.
{
  echo '<!DOCTYPE html><html><head><meta charset="utf-8"><title>rnnreg: the book</title></head><body>'
  echo '<h1>rnnreg — Recurrent Neural Network Regularization, a study book</h1><ul>'
  for nb in "${NOTEBOOKS[@]}"; do
    stem=$(basename "$nb" .ipynb)
    echo "<li>$stem: <a href=\"slides/$stem.slides.html\">slides</a> · <a href=\"html/$stem.html\">page</a></li>"
  done
  echo '</ul></body></html>'
} >"$BUILD/index.html"

# No page may still load anything from a CDN.
if grep -l -E 'unpkg\.com|cdnjs|cdn\.jsdelivr|jsdelivr\.net|googleapis' \
     "$BUILD"/slides/*.html "$BUILD"/html/*.html "$BUILD/index.html"; then
  echo "build_slides: the files above still reference a CDN" >&2
  exit 1
fi
echo "build_slides: $(ls "$BUILD"/slides/*.slides.html | wc -l) decks in $BUILD/slides, pages in $BUILD/html (offline)"
