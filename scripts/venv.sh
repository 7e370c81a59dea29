# Sourced by scripts/run and scripts/test: make .venv match pyproject.toml, installing only when needed.
#
# The install records a stamp (.venv/.installed: the SHA-256 of pyproject.toml and the extras). While
# pyproject.toml is unchanged a start costs no pip run and needs no package index; after an edit (or
# with no .venv) the next start installs again.

pyproject_hash() {
  python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' \
    pyproject.toml
}

# ensure_venv EXTRAS: EXTRAS is "" (the daemon) or "dev" (the checks).
ensure_venv() {
  local extras="$1" stamp=.venv/.installed want have=""
  want="$(pyproject_hash) ${extras}"
  [[ -f "$stamp" ]] && have="$(cat "$stamp")"
  # A dev install also serves the daemon.
  if [[ -x .venv/bin/monitor && ( "$have" == "$want" || ( -z "$extras" && "$have" == "${want}dev" ) ) ]]; then
    return 0
  fi
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  rm -f "$stamp"
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  echo "$want" >"$stamp"
}
